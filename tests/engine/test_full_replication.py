"""A full replication of the sandbox: every table holds exactly the sandbox's records."""

from __future__ import annotations

from cio_replicate.catalog import CATALOG

from .conftest import Harness
from .expected import TABLES, check_tables


def test_every_table_equals_the_sandbox(harness: Harness) -> None:
    report = harness.run(["all"])
    assert [r.name for r in report.results if r.status != "success"] == []
    assert {spec.table for spec in CATALOG} == set(TABLES)
    assert check_tables(harness.url, harness.sandbox.workspace, TABLES) == {}


def test_hidden_sender_identities_are_replicated_too(harness: Harness) -> None:
    """GET /v1/sender_identities leaves out hidden senders unless asked (hidden=true)."""
    senders = harness.sandbox.workspace.records("senders")
    senders[0]["hidden"] = True
    report = harness.run(["SenderIdentities"])
    assert [r.status for r in report.results] == ["success"]
    assert check_tables(harness.url, harness.sandbox.workspace, ["sender_identities"]) == {}
