"""INSERT, UPDATE, DELETE on every DML object, through the import path; and a procedure call."""

from __future__ import annotations

import pytest

from cio_replicate.errors import UsageError
from cio_replicate.sandbox import Sandbox

from ..writeback.conftest import writes
from .conftest import Run


def _names(sandbox: Sandbox, table: str) -> list[object]:
    return [r["name"] for r in sandbox.workspace.records(table)]


def test_collections_insert_update_delete(run: Run, sandbox: Sandbox) -> None:
    run("""INSERT INTO Collections (name, data) VALUES ('events', '[{"a": 1}]')""")
    (rec,) = [r for r in sandbox.workspace.records("collections") if r["name"] == "events"]
    assert rec["rows"] == 1
    result = run("UPDATE collections SET name = 'events2' WHERE name = 'events'")
    assert result.dml is not None and result.dml.succeeded == 1
    assert sandbox.workspace.record("collections", rec["id"])["name"] == "events2"
    run(f"DELETE FROM Collections WHERE id = {rec['id']}")
    assert sandbox.workspace.record("collections", rec["id"]) is None


def test_reporting_webhooks_insert_update_delete(run: Run, sandbox: Sandbox) -> None:
    run(
        "INSERT INTO ReportingWebhooks (name, endpoint, events, disabled) VALUES "
        "('hook', 'https://h.example/in', 'email_sent,email_opened', FALSE)"
    )
    (rec,) = [r for r in sandbox.workspace.records("webhooks") if r["name"] == "hook"]
    assert rec["events"] == ["email_sent", "email_opened"] and rec["disabled"] is False
    run("UPDATE ReportingWebhooks SET disabled = TRUE WHERE name = 'hook'")
    assert sandbox.workspace.record("webhooks", rec["id"])["disabled"] is True
    run("DELETE FROM reporting_webhooks WHERE name = 'hook'")
    assert sandbox.workspace.record("webhooks", rec["id"]) is None


def test_segments_insert_delete(run: Run, sandbox: Sandbox) -> None:
    run("INSERT INTO Segments (name, description) VALUES ('VIP', 'd'), ('VIP2', NULL)")
    assert {"VIP", "VIP2"} <= set(_names(sandbox, "segments"))
    result = run("DELETE FROM Segments WHERE name IN ('VIP', 'VIP2')")
    assert result.dml is not None and result.dml.succeeded == 2
    assert not {"VIP", "VIP2"} & set(_names(sandbox, "segments"))


def test_snippets_update_delete(run: Run, sandbox: Sandbox) -> None:
    name = _names(sandbox, "snippets")[0]
    run(f"UPDATE Snippets SET value = 'new value' WHERE name = '{name}'")
    assert sandbox.workspace.record("snippets", name)["value"] == "new value"
    run(f"DELETE FROM Snippets WHERE name = '{name}'")
    assert name not in _names(sandbox, "snippets")


def test_newsletter_variants_update(run: Run, sandbox: Sandbox) -> None:
    content = sandbox.workspace.records("contents")[0]
    result = run(
        "UPDATE NewsletterVariants SET subject = 'Fresh ✨', from_id = 2 "
        f"WHERE newsletter_id = {content['newsletter_id']} AND id = {content['id']}"
    )
    assert result.dml is not None and result.dml.succeeded == 1
    after = sandbox.workspace.record("contents", content["id"])
    assert (after["subject"], after["from_id"]) == ("Fresh ✨", 2)
    # the WHERE was pushed into the path: no newsletter listing
    assert "/v1/newsletters" not in run.paths()


def test_campaign_actions_update(run: Run, sandbox: Sandbox) -> None:
    action = sandbox.workspace.records("campaign_actions")[0]
    run(
        "UPDATE CampaignActions SET sending_state = 'draft', subject = 'Hello' "
        f"WHERE campaign_id = {action['campaign_id']} AND id = {action['id']}"
    )
    after = sandbox.workspace.record("campaign_actions", action["id"])
    assert (after["sending_state"], after["subject"]) == ("draft", "Hello")


def test_customers_insert_update_delete(run: Run, sandbox: Sandbox) -> None:
    run("INSERT INTO Customers (id, email, plan) VALUES ('new-1', 'new1@x.io', 'pro')")
    person = sandbox.workspace.people.find_by_id("new-1")
    assert person is not None and person.attributes["plan"] == "pro"
    run("UPDATE Customers SET plan = 'free' WHERE email = 'new1@x.io'")
    person = sandbox.workspace.people.find_by_id("new-1")
    assert person is not None and person.attributes["plan"] == "free"
    run("DELETE FROM Customers WHERE id = 'new-1'")
    assert sandbox.workspace.people.find_by_id("new-1") is None
    assert sandbox.requests[-1].path == f"/api/v1/customers/cio_{person.cio_id}"


def test_dry_run_shows_the_requests_and_sends_nothing(run: Run, sandbox: Sandbox) -> None:
    name = _names(sandbox, "snippets")[0]
    before = len(writes(sandbox))
    result = run(f"UPDATE Snippets SET value = 'v2' WHERE name = '{name}'", dry_run=True)
    assert result.dml is not None and result.dml.dry_run and result.dml.sent == 1
    assert any("would send UPDATE PUT app /v1/snippets" in line for line in run.said)
    assert len(writes(sandbox)) == before


def test_a_failed_statement_writes_nothing(run: Run, sandbox: Sandbox) -> None:
    before = len(writes(sandbox))
    with pytest.raises(UsageError) as caught:
        # the second row is invalid: the first is not sent either
        run(
            "INSERT INTO ReportingWebhooks (name, endpoint, events) VALUES "
            "('ok', 'https://h.example/a', 'email_sent'), ('bad', 'not a url', 'email_sent')"
        )
    assert "nothing was written: row 2" in str(caught.value)
    for sql, message in [
        ("UPDATE Campaigns SET name = 'x'", "Campaigns is read-only"),
        ("INSERT INTO Snippets (name, value) VALUES ('a', 'b')", "insert is not supported"),
        ("INSERT INTO Segments (nme) VALUES ('a')", "not fields of Segments"),
        ("UPDATE Snippets SET name = 'x'", "cannot be changed"),
        ("UPDATE Segments SET name = 'x'", "update is not supported for Segments"),
        ("UPDATE Collections SET nmae = 'x' WHERE id = 1", "not fields of Collections"),
    ]:
        calls = len(sandbox.requests)
        with pytest.raises(UsageError) as caught:
            run(sql)
        assert message in str(caught.value)
        assert len(sandbox.requests) == calls  # refused before any call
    assert len(writes(sandbox)) == before


def test_call_runs_a_procedure(run: Run, sandbox: Sandbox) -> None:
    result = run("call SendTransactionalEmailWithTemplate(1, 'ann@example.com', 'ann@example.com')")
    assert result.answer is not None and "delivery_id" in result.answer.columns
    (sent,) = [r for r in sandbox.requests if r.path == "/v1/send/email"]
    assert sent.body["transactional_message_id"] == 1 and sent.body["to"] == "ann@example.com"
    dry = run(
        "call SendTransactionalEmailWithTemplate(1, 'b@example.com', 'b@example.com')", dry_run=True
    )
    assert dry.request is not None and dry.request["path"] == "/v1/send/email"
    assert len([r for r in sandbox.requests if r.path == "/v1/send/email"]) == 1
    with pytest.raises(UsageError):
        run("call NoSuchProcedure(1)")


def test_explain_of_a_delete_shows_its_select_and_writes_nothing(
    run: Run, sandbox: Sandbox
) -> None:
    segment = next(s for s in sandbox.workspace.records("segments") if s["type"] == "manual")
    before = len(writes(sandbox))
    result = run(f"DELETE FROM Segments WHERE id = {segment['id']}", explain=True)
    text = "\n".join(result.explain)
    assert "Segments (GET /v1/segments)" in text and "estimated API calls: 1" in text
    assert text.endswith("then DELETE Segments through the import path")
    assert len(writes(sandbox)) == before and sandbox.workspace.record("segments", segment["id"])
