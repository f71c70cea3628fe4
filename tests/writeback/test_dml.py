"""Every row of the DML table, through ``cio-replicate import``, checked by reading back."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from cio_replicate.sandbox import Sandbox

from .conftest import Cli, read_csv, write_csv, writes
from .openapi import request_schema, validate


def _names(sandbox: Sandbox, table: str, field: str = "name") -> list[Any]:
    return [r[field] for r in sandbox.workspace.records(table)]


def _import(
    cli: Cli, tmp_path: Path, obj: str, op: str, header: list[str], rows: list[list[Any]]
) -> int:
    source = write_csv(tmp_path / f"{obj}-{op}.csv", header, rows)
    return cli("import", obj, str(source), "--operation", op)


def test_collections_insert_update_delete(cli: Cli, sandbox: Sandbox, tmp_path: Path) -> None:
    assert (
        _import(
            cli, tmp_path, "Collections", "insert", ["name", "data"], [["events", '[{"a": 1}]']]
        )
        == 0
    )
    (rec,) = [r for r in sandbox.workspace.records("collections") if r["name"] == "events"]
    assert rec["rows"] == 1
    code = _import(cli, tmp_path, "Collections", "update", ["id", "name"], [[rec["id"], "events2"]])
    assert code == 0 and sandbox.workspace.record("collections", rec["id"])["name"] == "events2"
    assert _import(cli, tmp_path, "Collections", "delete", ["id"], [[rec["id"]]]) == 0
    assert sandbox.workspace.record("collections", rec["id"]) is None


def test_reporting_webhooks_insert_update_delete(
    cli: Cli, sandbox: Sandbox, tmp_path: Path
) -> None:
    header = ["name", "endpoint", "events", "disabled"]
    row = ["hook", "https://h.example/in", "email_sent,email_opened", "false"]
    assert _import(cli, tmp_path, "ReportingWebhooks", "insert", header, [row]) == 0
    (rec,) = [r for r in sandbox.workspace.records("webhooks") if r["name"] == "hook"]
    assert rec["events"] == ["email_sent", "email_opened"] and rec["disabled"] is False
    code = _import(
        cli, tmp_path, "ReportingWebhooks", "update", ["id", "disabled"], [[rec["id"], "true"]]
    )
    assert code == 0 and sandbox.workspace.record("webhooks", rec["id"])["disabled"] is True
    assert _import(cli, tmp_path, "ReportingWebhooks", "delete", ["id"], [[rec["id"]]]) == 0
    assert sandbox.workspace.record("webhooks", rec["id"]) is None


def test_segments_insert_delete(cli: Cli, sandbox: Sandbox, tmp_path: Path) -> None:
    assert (
        _import(cli, tmp_path, "Segments", "insert", ["name", "description"], [["VIP", "d"]]) == 0
    )
    (rec,) = [r for r in sandbox.workspace.records("segments") if r["name"] == "VIP"]
    assert rec["type"] == "manual"
    assert _import(cli, tmp_path, "Segments", "delete", ["id"], [[rec["id"]]]) == 0
    assert "VIP" not in _names(sandbox, "segments")


def test_snippets_update_delete(cli: Cli, sandbox: Sandbox, tmp_path: Path) -> None:
    name = _names(sandbox, "snippets")[0]
    assert (
        _import(cli, tmp_path, "Snippets", "update", ["name", "value"], [[name, "new value"]]) == 0
    )
    assert sandbox.workspace.record("snippets", name)["value"] == "new value"
    assert _import(cli, tmp_path, "Snippets", "delete", ["name"], [[name]]) == 0
    assert name not in _names(sandbox, "snippets")
    # UPDATE means an existing snippet: an unknown name is rejected, not created
    assert _import(cli, tmp_path, "Snippets", "update", ["name", "value"], [["nope", "v"]]) == 4
    assert "nope" not in _names(sandbox, "snippets")


def test_newsletter_variants_update(cli: Cli, sandbox: Sandbox, tmp_path: Path) -> None:
    content = sandbox.workspace.records("contents")[0]
    header = ["newsletter_id", "id", "subject", "from_id"]
    row = [content["newsletter_id"], content["id"], "Fresh ✨", "2"]
    assert _import(cli, tmp_path, "NewsletterVariants", "update", header, [row]) == 0
    after = sandbox.workspace.record("contents", content["id"])
    assert (after["subject"], after["from_id"]) == ("Fresh ✨", 2)


def test_campaign_actions_update(cli: Cli, sandbox: Sandbox, tmp_path: Path) -> None:
    action = sandbox.workspace.records("campaign_actions")[0]
    header = ["campaign_id", "id", "sending_state", "subject"]
    row = [action["campaign_id"], action["id"], "draft", "Hello"]
    assert _import(cli, tmp_path, "CampaignActions", "update", header, [row]) == 0
    after = sandbox.workspace.record("campaign_actions", action["id"])
    assert (after["sending_state"], after["subject"]) == ("draft", "Hello")


def _person(sandbox: Sandbox, **where: str) -> Any:
    people = sandbox.workspace.people
    found = [p for p in people.iter_from(0) if all(getattr(p, k) == v for k, v in where.items())]
    return found[0] if len(found) == 1 else found or None


def test_customers_insert_update_delete(cli: Cli, sandbox: Sandbox, tmp_path: Path) -> None:
    header = ["id", "email", "plan"]
    assert (
        _import(cli, tmp_path, "Customers", "insert", header, [["new-1", "new1@x.io", "pro"]]) == 0
    )
    person = _person(sandbox, id="new-1")
    assert person.email == "new1@x.io" and person.attributes["plan"] == "pro"
    track = [r for r in sandbox.requests if r.api == "track"]
    assert [(r.method, r.path) for r in track] == [("PUT", "/api/v1/customers/new-1")]
    header = ["cio_id", "email", "plan"]
    code = _import(
        cli, tmp_path, "Customers", "update", header, [[person.cio_id, "n@x.io", "free"]]
    )
    assert code == 0
    person = _person(sandbox, id="new-1")
    assert person.email == "n@x.io" and person.attributes["plan"] == "free"
    assert _import(cli, tmp_path, "Customers", "delete", ["cio_id"], [[person.cio_id]]) == 0
    assert _person(sandbox, id="new-1") is None
    assert sandbox.requests[-1].path == f"/api/v1/customers/cio_{person.cio_id}"
    identify = request_schema("/api/v1/customers/{identifier}", "put")
    for request in sandbox.requests:
        if request.method == "PUT":
            validate(identify, request.body)


def test_customers_uniqueness_and_silent_traps_are_refused(
    cli: Cli, sandbox: Sandbox, tmp_path: Path
) -> None:
    one, two = _person(sandbox, id="user-1"), _person(sandbox, id="user-2")
    source = write_csv(
        tmp_path / "people.csv",
        ["cio_id", "id", "email", "plan"],
        [
            [one.cio_id, "user-2", "", "x"],  # the id of another person
            [one.cio_id, "", two.email, "x"],  # the email of another person
            ["ffffff0", "", "", "x"],  # a cio_id nobody has: the API would drop it
            ["", "user-1", "", "x"],  # no cio_id: UPDATE needs it
        ],
    )
    before = len(writes(sandbox))
    assert cli("import", "Customers", str(source), "--operation", "update") == 4
    assert len(writes(sandbox)) == before  # nothing was sent
    errors = [r["_cio_error"] for r in read_csv(tmp_path / "people.rejects.csv")]
    assert errors == [
        f"id 'user-2' already held by person cio_id {two.cio_id}: ids and emails must be unique, "
        f"refused for person cio_id {one.cio_id}",
        f"email {two.email!r} already held by person cio_id {two.cio_id}: ids and emails must be "
        f"unique, refused for person cio_id {one.cio_id}",
        "no person with cio_id ffffff0 (the API would drop this update silently)",
        "UPDATE of Customers needs cio_id to identify the person",
    ]
    assert _person(sandbox, id="user-1").attributes == one.attributes


def test_customers_insert_of_a_taken_email_is_refused(
    cli: Cli, sandbox: Sandbox, tmp_path: Path
) -> None:
    one = _person(sandbox, id="user-1")
    rows = [["fresh-1", one.email.upper()], ["fresh-2", "dup@x.io"], ["fresh-3", "DUP@x.io"]]
    source = write_csv(tmp_path / "p.csv", ["id", "email"], rows)
    assert cli("import", "Customers", str(source), "--operation", "insert") == 4
    rejects = read_csv(tmp_path / "p.rejects.csv")
    assert [r["id"] for r in rejects] == ["fresh-1", "fresh-3"]
    assert "already held by person cio_id" in rejects[0]["_cio_error"]
    assert "already" in rejects[1]["_cio_error"]
    assert _person(sandbox, id="fresh-1") is None and _person(sandbox, id="fresh-3") is None
    assert _person(sandbox, id="fresh-2").email == "dup@x.io"


@pytest.mark.parametrize(
    ("obj", "op", "message"),
    [
        ("Snippets", "insert", "insert is not supported for Snippets (it allows DELETE, UPDATE)"),
        ("Segments", "update", "update is not supported for Segments"),
        ("CampaignActions", "delete", "delete is not supported for CampaignActions"),
        ("Segments", "upsert", "upsert is not supported for Segments"),
        ("Campaigns", "update", "Campaigns is read-only (no DML)"),
        ("campaigns", "update", "Campaigns is read-only (no DML)"),
        ("Campains", "insert", "unknown object 'Campains' (did you mean 'Campaigns'?); objects"),
    ],
)
def test_unsupported_object_or_operation_fails_before_any_call(
    cli: Cli, sandbox: Sandbox, tmp_path: Path, obj: str, op: str, message: str
) -> None:
    source = write_csv(tmp_path / "x.csv", ["id", "name"], [["1", "a"]])
    assert cli("import", obj, str(source), "--operation", op) == 2
    assert message in cli.err
    assert (
        "NewsletterVariants: UPDATE" in cli.err and "Customers: INSERT, UPDATE, DELETE" in cli.err
    )
    assert sandbox.requests == []
