"""What every replicated table must hold, computed from the sandbox's workspace.

Written from the workspace's accessors and the documented table shapes (one
row per API record; a child row carries its parent's key; Customers rows are
a person's attributes plus identifiers; CustomersAttributes one row per
attribute), never from the catalog or the client: a wrong path, envelope or
key in the catalog makes these tests fail.

``actual`` reads a table back through the column map the loader records
(``_cio_columns``), so hostile and shortened column names come back as the
API's names, and values are compared, not only counts.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from cio_replicate.load import Target
from cio_replicate.load.names import DELETED_AT
from cio_replicate.sandbox import Workspace

from .expected_metrics import METRICS_TABLES, ON_REQUEST

Record = dict[str, Any]


@dataclass(frozen=True)
class Table:
    key: tuple[str, ...]
    rows: Callable[[Workspace], Iterable[Record]]


def _messages(ws: Workspace, keep: Callable[[Record], bool]) -> list[Record]:
    store = ws.messages
    every = (store.get(j) for j in range(store.total))
    return [m for m in every if keep(m)]


def _stamp(record: Record, **fields: Any) -> Record:
    out = dict(record)
    for name, value in fields.items():
        if out.get(name) is None:
            out[name] = value
    return out


def _customer(ws: Workspace, person: Any) -> Record:
    c = ws.customer(person)
    row: Record = dict(c["attributes"])
    row.update(c["identifiers"])
    row["created_at"] = int(c["attributes"]["created_at"])
    row["unsubscribed"] = c["unsubscribed"]
    row["devices"] = c["devices"]
    return row


def _attributes(ws: Workspace, person: Any) -> list[Record]:
    c = ws.customer(person)
    cio_id = c["identifiers"]["cio_id"]
    return [
        {"cio_id": cio_id, "name": n, "value": v, "updated_at": c["timestamps"].get(n)}
        for n, v in c["attributes"].items()
    ]


def _person_messages(ws: Workspace, person: Any) -> list[Record]:
    store = ws.messages
    found = store.candidates(0, store.total, person=person)
    return [_stamp(store.get(j), cio_id=person.cio_id) for j in found]


def _person_activities(ws: Workspace, person: Any) -> list[Record]:
    store = ws.activities
    found = store.candidates(store.total, person)
    return [_stamp(store.get(k), cio_id=person.cio_id) for k in found]


def _segment_rows(ws: Workspace, person: Any) -> list[Record]:
    rows = []
    for seg in ws.person_segments(person):
        row = {k: v for k, v in seg.items() if k != "id"}
        rows.append({**row, "segment_id": seg["id"], "cio_id": person.cio_id})
    return rows


def _objects(ws: Workspace) -> list[Record]:
    rows = []
    for type_id, objects in ws.misc.objects.items():
        for obj in objects.values():
            row = dict(obj["attributes"])
            row.update(
                object_type_id=type_id,
                object_id=obj["object_id"],
                cio_object_id=obj["cio_object_id"],
            )
            rows.append(row)
    return rows


def _members(ws: Workspace) -> list[Record]:
    return [
        {**ident.identifiers(), "segment_id": seg["id"]}
        for seg in ws.records("segments")
        for _, ident in ws.segment_members(seg["id"])
    ]


def _parent_messages(ws: Workspace, kind: str, table: str) -> list[Record]:
    store = ws.messages
    return [
        store.get(j)
        for parent in ws.records(table)
        for j in store.candidates(0, store.total, sources=ws.sources_of(kind, parent["id"]))
    ]


def _activities(ws: Workspace, *, of_deleted: bool) -> list[Record]:
    store = ws.activities
    return [
        store.get(k)
        for k in store.candidates(store.total)
        if (store.person_index(k) in ws.people.deleted) == of_deleted
    ]


def _people(ws: Workspace) -> list[Any]:
    return list(ws.iter_people())


TABLES: Mapping[str, Table] = {
    "customers": Table(("cio_id",), lambda ws: [_customer(ws, p) for p in _people(ws)]),
    "customers_attributes": Table(
        ("cio_id", "name"), lambda ws: [r for p in _people(ws) for r in _attributes(ws, p)]
    ),
    "customer_segments": Table(
        ("cio_id", "segment_id"), lambda ws: [r for p in _people(ws) for r in _segment_rows(ws, p)]
    ),
    "customer_messages": Table(
        ("id",), lambda ws: [r for p in _people(ws) for r in _person_messages(ws, p)]
    ),
    "customer_activities": Table(
        ("id",), lambda ws: [r for p in _people(ws) for r in _person_activities(ws, p)]
    ),
    "segments": Table(("id",), lambda ws: ws.records("segments")),
    "campaigns": Table(("id",), lambda ws: ws.records("campaigns")),
    "campaign_actions": Table(
        ("id",),
        lambda ws: [a for c in ws.records("campaigns") for a in ws.campaign_actions(c["id"])],
    ),
    "campaign_messages": Table(("id",), lambda ws: _parent_messages(ws, "campaign", "campaigns")),
    "broadcasts": Table(("id",), lambda ws: ws.records("broadcasts")),
    "broadcast_actions": Table(
        ("id",),
        lambda ws: [a for b in ws.records("broadcasts") for a in ws.broadcast_actions(b["id"])],
    ),
    "broadcast_messages": Table(
        ("id",), lambda ws: _messages(ws, lambda m: m["broadcast_id"] is not None)
    ),
    "broadcast_triggers": Table(
        ("id",), lambda ws: [t for b in ws.records("broadcasts") for t in ws.triggers(b["id"])]
    ),
    "newsletters": Table(("id",), lambda ws: ws.records("newsletters")),
    "newsletter_variants": Table(
        ("id",),
        lambda ws: [v for n in ws.records("newsletters") for v in ws.newsletter_contents(n["id"])],
    ),
    "newsletter_messages": Table(
        ("id",), lambda ws: _messages(ws, lambda m: m["newsletter_id"] is not None)
    ),
    "messages": Table(("id",), lambda ws: _messages(ws, lambda m: True)),
    "collections": Table(
        ("id",),
        lambda ws: [
            {**c, "data": ws.misc.collection_data[c["id"]]} for c in ws.records("collections")
        ],
    ),
    "exports": Table(("id",), lambda ws: ws.records("exports")),
    "snippets": Table(("name",), lambda ws: ws.records("snippets")),
    "reporting_webhooks": Table(("id",), lambda ws: ws.records("webhooks")),
    "transactional_messages": Table(("id",), lambda ws: ws.records("transactional")),
    "transactional_message_deliveries": Table(
        ("id",),
        lambda ws: [
            _stamp(ws.messages.get(j), transactional_message_id=t["id"])
            for t in ws.records("transactional")
            for j in ws.messages.candidates(
                0, ws.messages.total, sources=ws.sources_of("transactional", t["id"])
            )
        ],
    ),
    "activities": Table(("id",), lambda ws: _activities(ws, of_deleted=False)),
    "deleted_people_activities": Table(("id",), lambda ws: _activities(ws, of_deleted=True)),
    "sender_identities": Table(("id",), lambda ws: ws.records("senders")),
    "object_types": Table(("id",), lambda ws: ws.records("object_types")),
    "objects": Table(("object_type_id", "object_id"), _objects),
    "segment_memberships": Table(("segment_id", "cio_id"), _members),
    **{table: Table(key, rows) for table, (key, rows) in METRICS_TABLES.items()},
}

PER_PERSON = ("customer_segments", "customer_messages", "customer_activities")
DEFAULT_TABLES = [t for t in TABLES if t not in PER_PERSON and t not in ON_REQUEST]
"""What a run with no object names writes: everything but the per-person children and
the objects replicated on request (action and link metrics)."""


def _key(record: Mapping[str, Any], fields: Iterable[str]) -> tuple[str, ...]:
    return tuple(str(record.get(f)) for f in fields)


def expected(ws: Workspace, table: str) -> dict[tuple[str, ...], Record]:
    spec = TABLES[table]
    rows: dict[tuple[str, ...], Record] = {}
    for record in spec.rows(ws):
        key = _key(record, spec.key)
        assert key not in rows, f"{table}: the sandbox has key {key} twice"
        rows[key] = record
    return rows


def _unix(value: Any) -> Any:
    if isinstance(value, datetime):
        return int(value.timestamp())
    return value


def actual(url: str, table: str, *, deleted: bool = False) -> dict[tuple[str, ...], Record]:
    """The table's live rows as API records (column map applied, times as unix seconds);
    ``deleted``: the rows marked deleted instead (``_cio_deleted_at`` is no API field)."""
    spec = TABLES[table]
    target = Target(url)
    try:
        with target.connect() as conn:
            if not sa.inspect(conn).has_table(table):
                return {}
        writer = target.table(table, spec.key)
        columns = {c.name: c for c in writer.columns}
        rows: dict[tuple[str, ...], Record] = {}
        with target.connect() as conn:
            for row in conn.execute(sa.select(writer.sa_table())).mappings():
                record: Record = {}
                raws: dict[str, Any] = {}
                for name, value in row.items():
                    col = columns.get(name)
                    if col is None:
                        continue  # _cio_synced_at
                    if col.type == "raw":
                        raws[col.api_name] = value
                    else:
                        record[col.api_name] = _unix(value)
                for api_name, raw in raws.items():
                    if raw is not None:
                        record[api_name] = raw
                if (record.pop(DELETED_AT, None) is not None) != deleted:
                    continue
                rows[_key(record, spec.key)] = record
        return rows
    finally:
        target.dispose()


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    return str(value)


def same(want: Any, got: Any) -> bool:
    """Equal as values: numbers by value, JSON by structure, else as text."""
    if want is None or got is None:
        return want is None and got is None
    if isinstance(want, bool) and type(got) is int and got in (0, 1):
        got = bool(got)  # MySQL booleans read back as 0/1
    if isinstance(want, bool) or isinstance(got, bool):
        return _text(want) == _text(got)
    if isinstance(want, int | float) and isinstance(got, int | float):
        return math.isclose(float(want), float(got), rel_tol=1e-12)
    if isinstance(want, dict | list):
        if isinstance(got, str):
            try:
                got = json.loads(got)
            except ValueError:
                return False
        return bool(json.dumps(want, sort_keys=True) == json.dumps(got, sort_keys=True))
    if isinstance(got, int | float) and not isinstance(want, int | float):
        try:
            return math.isclose(float(want), float(got), rel_tol=1e-12)
        except (TypeError, ValueError):
            return isinstance(want, str) and _iso_seconds(want) == got
    if isinstance(want, str) and isinstance(got, str) and _widened_double(want, got):
        return True
    return _text(want) == _text(got)


def _iso_seconds(text: str) -> int | None:
    """An ISO-8601 date and time (naive: UTC) as whole Unix seconds, as ``actual`` reads a
    timestamp column back: a typed people attribute the API gives as text."""
    if len(text) < 16 or text[10] not in "T ":
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return int((moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp())


def _widened_double(want: str, got: str) -> bool:
    """An integer-valued double widened to text reads "26.0" on SQLite (its CAST), where
    the API (and PostgreSQL and MySQL) say "26": the same number, nothing else."""
    return got == want + ".0" and want.lstrip("-").isdigit()


def differences(
    want: Mapping[tuple[str, ...], Record], got: Mapping[tuple[str, ...], Record]
) -> list[str]:
    """Human-readable differences (empty when the table is exact)."""
    problems: list[str] = []
    for key in sorted(set(want) - set(got))[:5]:
        problems.append(f"missing {key}")
    for key in sorted(set(got) - set(want))[:5]:
        problems.append(f"unexpected {key}")
    for key in sorted(set(want) & set(got)):
        w, g = want[key], got[key]
        for field in sorted(set(w) | set(g)):
            if not same(w.get(field), g.get(field)):
                problems.append(f"{key} {field!r}: want {w.get(field)!r}, got {g.get(field)!r}")
        if len(problems) > 20:
            break
    return problems


def check_tables(url: str, ws: Workspace, tables: Iterable[str]) -> dict[str, list[str]]:
    """{table: differences} for every table that is not exact."""
    bad = {}
    for table in tables:
        diff = differences(expected(ws, table), actual(url, table))
        if diff:
            bad[table] = diff
    return bad
