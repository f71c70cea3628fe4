"""Malformed listing pages (issue 9, item 2): a null, missing or wrongly typed envelope, or
a page that is not a JSON object, is retried like a truncated body and then fails its
object; the object's table and state stay exactly as they were, the others commit."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest
import sqlalchemy as sa

from cio_replicate.engine import RunReport
from cio_replicate.http import RetryPolicy
from cio_replicate.http.pagination import REPEATS
from cio_replicate.load import Target
from cio_replicate.sandbox import Faults, Sandbox
from cio_replicate.sandbox.server import serve

from .conftest import Harness, client_for, subprocess_env
from .expected import actual, check_tables

OBJECTS = ["ReportingWebhooks", "SenderIdentities", "ObjectTypes", "Objects", "Campaigns"]
TABLES = ["reporting_webhooks", "sender_identities", "object_types", "objects", "campaigns"]
ATTEMPTS = RetryPolicy().max_attempts


def run(sb: Sandbox, url: str, objects: list[str]) -> RunReport:
    client = client_for(sb, max_retry_wait=86_400)  # waits are not slept: attempts bound it
    target = Target(url, clock=sb.clock)
    try:
        return Harness(sb, url, client, target).run(objects)
    finally:
        client.close()
        target.dispose()


def state_of(url: str, name: str) -> Any:
    target = Target(url)
    try:
        with target.connect() as conn:
            query = sa.text("SELECT * FROM _cio_state WHERE object_name = :n")
            return conn.execute(query, {"n": name}).first()
    finally:
        target.dispose()


def snapshot(url: str, names: list[str], tables: list[str]) -> Any:
    return [actual(url, t) for t in tables], [state_of(url, n) for n in names]


def test_a_null_envelope_fails_the_object_and_keeps_its_table(db_url: str) -> None:
    first = run(Sandbox("tiny", seed=1), db_url, OBJECTS)
    assert first.status == "success"
    assert all(actual(db_url, t) for t in TABLES)
    kept = ["ReportingWebhooks", "ObjectTypes", "Objects"]
    before = snapshot(db_url, kept, ["reporting_webhooks", "object_types", "objects"])

    nulls = {"/v1/reporting_webhooks": "null", "/v1/object_types": "null"}
    sb = Sandbox("tiny", seed=1, faults=Faults(bad_envelope=nulls))
    sb.workspace.records("senders")[0]["name"] = "Renamed sender"  # a change the run commits
    report = run(sb, db_url, OBJECTS)

    assert report.status == "partial"  # the CLI's exit code 4
    assert {r.name for r in report.failed} == set(kept)  # Objects: its parent listing failed
    webhooks = next(r for r in report.failed if r.name == "ReportingWebhooks")
    assert "GET /v1/reporting_webhooks" in (webhooks.message or "")
    assert "'reporting_webhooks' is null, expected a list" in (webhooks.message or "")
    calls = [r for r in sb.requests if r.path == "/v1/reporting_webhooks"]
    assert len(calls) == ATTEMPTS and {r.status for r in calls} == {200}  # retried, then given up
    assert snapshot(db_url, kept, ["reporting_webhooks", "object_types", "objects"]) == before
    assert check_tables(db_url, sb.workspace, ["sender_identities", "campaigns"]) == {}


@pytest.mark.parametrize("mode", ["missing", "string", "bare"])
def test_other_malformed_pages_fail_the_object_too(sqlite_url: str, mode: str) -> None:
    names = ["SenderIdentities", "ReportingWebhooks"]
    assert run(Sandbox("tiny", seed=1), sqlite_url, names).status == "success"
    before = snapshot(sqlite_url, names, ["sender_identities", "reporting_webhooks"])
    faults = Faults(bad_envelope={"/v1/sender_identities": mode, "/v1/reporting_webhooks": mode})
    sb = Sandbox("tiny", seed=1, faults=faults)
    report = run(sb, sqlite_url, names)
    assert report.status == "failed" and len(report.failed) == 2
    assert all("malformed response" in (r.message or "") for r in report.failed)
    assert sum(r.path == "/v1/sender_identities" for r in sb.requests) == ATTEMPTS
    assert snapshot(sqlite_url, names, ["sender_identities", "reporting_webhooks"]) == before


def test_a_malformed_page_that_heals_is_retried_to_an_exact_copy(sqlite_url: str) -> None:
    broken = {"/v1/reporting_webhooks": "null", "/v1/sender_identities": "bare"}
    sb = Sandbox("tiny", seed=1, faults=Faults(bad_envelope=broken, bad_envelope_times=2))
    report = run(sb, sqlite_url, ["ReportingWebhooks", "SenderIdentities"])
    assert report.status == "success", [(r.name, r.message) for r in report.failed]
    assert sum(r.path == "/v1/reporting_webhooks" for r in sb.requests) == 3
    assert sum(r.path == "/v1/sender_identities" for r in sb.requests) == 3
    tables = ["reporting_webhooks", "sender_identities"]
    assert check_tables(sqlite_url, sb.workspace, tables) == {}


def test_the_cli_exits_4_and_names_the_object(sqlite_url: str) -> None:
    """Over loopback, the sandbox's fault switched on after a first good run."""
    sb = Sandbox("tiny", seed=1)
    with serve(sb) as server:
        env = {**subprocess_env(server.base_url, sqlite_url, None), "CIO_MAX_RETRY_WAIT": "1"}
        command = [sys.executable, "-m", "cio_replicate", "replicate", "ReportingWebhooks"]
        good = subprocess.run(command + ["Campaigns"], env=env, capture_output=True, text=True)
        assert good.returncode == 0, good.stderr[-2000:]
        rows = actual(sqlite_url, "reporting_webhooks")
        sb.set_faults(Faults(bad_envelope={"/v1/reporting_webhooks": "null"}))
        bad = subprocess.run(command + ["Campaigns"], env=env, capture_output=True, text=True)
    assert bad.returncode == 4, bad.stderr[-2000:]
    assert "ReportingWebhooks" in bad.stderr and "is null, expected a list" in bad.stderr
    status = {ln.split()[0]: ln.split()[2] for ln in bad.stdout.splitlines() if ln.split()}
    assert status["ReportingWebhooks"] == "failed" and status["Campaigns"] == "success"
    assert actual(sqlite_url, "reporting_webhooks") == rows and len(rows) == 2


@pytest.mark.parametrize("path", ["/v1/sender_identities", "/v1/reporting_webhooks"])
def test_an_ever_new_cursor_over_repeating_pages_is_a_loop(sqlite_url: str, path: str) -> None:
    sb = Sandbox("tiny", seed=1, faults=Faults(endless_cursor=(path,)))
    report = run(sb, sqlite_url, ["SenderIdentities", "ReportingWebhooks", "Campaigns"])
    assert report.status == "partial"
    (failed,) = report.failed
    assert f"GET {path}: pagination loop" in (failed.message or "")
    assert sum(r.path == path for r in sb.requests) == 1 + REPEATS  # bounded, not 1,000
    assert actual(sqlite_url, path.removeprefix("/v1/")) == {}  # nothing swapped in
    others = {"/v1/sender_identities", "/v1/reporting_webhooks"} - {path}
    assert check_tables(sqlite_url, sb.workspace, [others.pop().removeprefix("/v1/")]) == {}


def test_a_null_people_attributes_answer_fails_customers_attributes(db_url: str) -> None:
    """``{"customers": null}`` from the attributes lookup is malformed, not "nobody": read as
    no people, the full refresh would have dropped the people it names (found in review)."""
    names = ["CustomersAttributes", "Campaigns"]
    assert run(Sandbox("tiny", seed=1), db_url, names).status == "success"
    before = snapshot(db_url, ["CustomersAttributes"], ["customers_attributes"])
    faults = Faults(bad_envelope={"/v1/customers/attributes": "null"})
    sb = Sandbox("tiny", seed=1, faults=faults)
    report = run(sb, db_url, names)
    assert report.status == "partial"
    (failed,) = report.failed
    assert failed.name == "CustomersAttributes"
    assert "'customers' is null, expected a list" in (failed.message or "")
    calls = [r for r in sb.requests if r.path == "/v1/customers/attributes"]
    assert len(calls) == ATTEMPTS  # retried, then given up
    assert snapshot(db_url, ["CustomersAttributes"], ["customers_attributes"]) == before


@pytest.mark.parametrize("mode", ["null", "missing"])
def test_an_attributes_answer_without_its_object_fails_objects(sqlite_url: str, mode: str) -> None:
    """``{"object": null}`` (or no ``object``) for a custom object's attributes is malformed:
    read as an empty object it became a row with its ids only and no attributes (found in
    review), which a full refresh would have swapped in over the real one."""
    names = ["ObjectTypes", "Objects", "Campaigns"]
    assert run(Sandbox("tiny", seed=1), sqlite_url, names).status == "success"
    before = snapshot(sqlite_url, ["Objects"], ["objects"])
    broken = "/v1/objects/1/company-3/attributes"
    sb = Sandbox("tiny", seed=1, faults=Faults(bad_envelope={broken: mode}))
    report = run(sb, sqlite_url, names)
    assert report.status == "partial"
    (failed,) = report.failed
    assert failed.name == "Objects"
    assert "'object' is null or missing, expected an object" in (failed.message or "")
    assert sum(r.path == broken for r in sb.requests) == ATTEMPTS  # retried, then given up
    assert snapshot(sqlite_url, ["Objects"], ["objects"]) == before
