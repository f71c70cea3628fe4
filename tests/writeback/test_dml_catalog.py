"""Properties of the DML matrix as the catalog declares it, checked against the sandbox.

Nothing here names an object: every catalog entry with a write spec is taken
through each operation it declares, and the sandbox's records are read back.
"""

from __future__ import annotations

from typing import Any

import pytest

from cio_replicate.catalog import CATALOG, ObjectSpec, get_object
from cio_replicate.http import CioClient
from cio_replicate.writeback import plan as p
from cio_replicate.writeback.appwriter import AppWriter
from cio_replicate.writeback.dml import Mode, write_spec
from cio_replicate.writeback.importer import make_writer
from cio_replicate.writeback.people import PeopleWriter
from cio_replicate.writeback.wire import send

APP_WRITES = [s for s in CATALOG if s.write is not None and s.write.writer == "app"]
SAMPLES: dict[str, Any] = {"json_array": [{"a": 1}], "url": "https://example.com/x.json"}


def test_every_object_with_dml_gets_the_writer_its_spec_names(client: CioClient) -> None:
    writers = {"app": AppWriter, "people": PeopleWriter}
    with_dml = [s for s in CATALOG if s.dml]
    assert with_dml and APP_WRITES  # the catalog has DML, and App API objects among it
    for spec in with_dml:
        assert spec.write is not None
        writer = make_writer(spec.name, client)
        assert isinstance(writer, writers[spec.write.writer]), spec.name
        assert writer.name == spec.name
    assert all(s.write is None for s in CATALOG if not s.dml)


def _listed(client: CioClient, spec: ObjectSpec) -> list[dict[str, Any]]:
    """The object's records as the API lists them (through every parent record)."""
    if spec.parent is None:
        body = client.app("GET", spec.path)
        return list(body[spec.envelope])
    parent = get_object(spec.parent)
    records: list[dict[str, Any]] = []
    for parent_record in _listed(client, parent):
        body = client.app("GET", spec.render_path(parent_record))
        for record in body[spec.envelope]:
            for placeholder, field in spec.parent_params.items():
                record.setdefault(placeholder, parent_record[field])
            records.append(record)
    return records


def _send(writer: AppWriter, client: CioClient, mode: Mode, values: dict[str, Any]) -> None:
    plan = writer.plan(mode, values)
    assert plan.outcome == "send", (writer.name, mode, plan.message)
    assert plan.request is not None
    writer.applied(plan, send(client, plan.request))  # the sandbox answers 2xx or this raises


def _find(client: CioClient, spec: ObjectSpec, keys: dict[str, Any]) -> dict[str, Any] | None:
    found = [r for r in _listed(client, spec) if all(r.get(k) == v for k, v in keys.items())]
    assert len(found) <= 1
    return found[0] if found else None


@pytest.mark.parametrize("spec", APP_WRITES, ids=lambda s: s.name)
def test_each_declared_operation_writes_what_the_sandbox_lists_back(
    spec: ObjectSpec, client: CioClient
) -> None:
    assert spec.write is not None
    mechanics = write_spec(spec.name)
    writer = AppWriter(mechanics, client)
    records = _listed(client, spec)
    assert records, f"the sandbox lists no {spec.name}"
    target = records[0]
    if "INSERT" in spec.dml:
        natural = spec.write.natural_key
        assert natural is not None
        fresh = {k: v for k, v in target.items() if k in spec.write.fields}
        fresh[natural] = f"{target[natural]} (copy)"
        chosen = [f for f in spec.write.one_of if f in fresh][:1] or list(spec.write.one_of[:1])
        for field in spec.write.one_of:
            if field not in chosen:
                fresh.pop(field, None)
        for field in chosen:
            fresh.setdefault(field, SAMPLES[spec.write.fields[field]])
        _send(writer, client, "insert", fresh)
        created = _find(client, spec, {natural: fresh[natural]})
        assert created is not None, f"INSERT into {spec.name} is not listed back"
        target = created
    keys = {k: target[k] for k in mechanics.key}
    if "UPDATE" in spec.dml:
        texts = [
            f
            for f, kind in spec.write.fields.items()
            if kind == "text" and f not in spec.write.choices and isinstance(target.get(f), str)
        ]
        assert texts, f"no text field to change on {spec.name}"
        changed = f"{target[texts[0]]} (edited)"
        _send(writer, client, "update", {**keys, texts[0]: changed})
        after = _find(client, spec, keys)
        assert after is not None and after[texts[0]] == changed, spec.name
    if "DELETE" in spec.dml:
        _send(writer, client, "delete", keys)
        assert _find(client, spec, keys) is None, f"DELETE of {spec.name} left it listed"


@pytest.mark.parametrize("spec", APP_WRITES, ids=lambda s: s.name)
def test_undeclared_operations_are_refused_before_any_call(spec: ObjectSpec) -> None:
    from cio_replicate.errors import UsageError
    from cio_replicate.writeback.dml import resolve

    modes: dict[Mode, str] = {"insert": "INSERT", "update": "UPDATE", "delete": "DELETE"}
    for mode, operation in modes.items():
        if operation in spec.dml:
            assert resolve(spec.name, mode) == (spec.name, frozenset({operation}))
        else:
            with pytest.raises(UsageError, match=f"{mode} is not supported for {spec.name}"):
                resolve(spec.name, mode)


def test_a_plan_rejects_rather_than_sending_a_row_without_its_key(client: CioClient) -> None:
    for spec in APP_WRITES:
        writer = AppWriter(write_spec(spec.name), client)
        for mode in ("update", "delete"):
            if mode.upper() in spec.dml:
                plan = writer.plan(mode, {})  # type: ignore[arg-type]
                assert plan.outcome == "reject" and plan.request is None, (spec.name, mode)
                assert isinstance(plan, p.Plan)
