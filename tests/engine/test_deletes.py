"""Issue 12: people kept current, deletes captured (soft by default), never from a partial read.

Every change is made the way the workspace gets it: the Track API for people (identify,
DELETE), the App API for snippets, the sandbox's own mutation rounds for campaigns (the
App API cannot delete one). One default run later the replica is current.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from cio_replicate.catalog import CATALOG
from cio_replicate.cli import main
from cio_replicate.engine.deletes import tracks
from cio_replicate.sandbox import APP_API_KEY, SITE_ID, TRACK_API_KEY, Sandbox
from cio_replicate.sandbox.faults import Faults
from cio_replicate.sandbox.rounds import (
    delete_campaign,
    deletes_round,
    restore_campaign,
    restore_snippet,
)

from .conftest import Harness
from .expected import actual, check_tables

ALL = ["all"]
NOT_APPEND = {s.table for s in CATALOG if tracks(s)}  # the tables deletes follow


def _track(sb: Sandbox) -> httpx.Client:
    return httpx.Client(
        transport=sb.transport(),
        base_url="https://track.customer.io",
        auth=(SITE_ID, TRACK_API_KEY),
    )


def _app(sb: Sandbox) -> httpx.Client:
    return httpx.Client(
        transport=sb.transport(),
        base_url="https://api.customer.io",
        headers={"Authorization": f"Bearer {APP_API_KEY}"},
    )


def _marked(url: str, table: str) -> set[tuple[str, ...]]:
    return set(actual(url, table, deleted=True))


def _rows(url: str, sql: str, **params: Any) -> list[tuple[Any, ...]]:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return [tuple(r) for r in conn.execute(sa.text(sql), params)]
    finally:
        engine.dispose()


def _no_row_marked(url: str) -> None:
    for table in NOT_APPEND | {"customers"}:
        assert _marked(url, table) == set(), table


def test_one_default_run_follows_email_deletes_and_restores(harness: Harness) -> None:
    h, sb = harness, harness.sandbox
    ws = sb.workspace
    assert h.run(ALL).status == "success"
    people = [p for p in ws.iter_people() if p is not None]
    changed, gone = people[1], people[2]
    members = _rows(h.url, "SELECT segment_id FROM segment_memberships WHERE cio_id = :c",
                    c=gone.cio_id)  # fmt: skip
    assert members, "the deleted person must have membership rows for this test"
    sb.clock.advance(60)
    with _track(sb) as track, _app(sb) as app:
        assert (
            track.put(
                f"/api/v1/customers/{changed.id}", json={"email": "new@example.com"}
            ).status_code
            == 200
        )
        assert track.delete(f"/api/v1/customers/{gone.id}").status_code == 200
        assert app.delete("/v1/snippets/footer").status_code == 204
    campaign = delete_campaign(ws, 5)
    action_ids = {(str(a["id"]),) for a in campaign.actions}

    second = h.run(ALL)
    assert second.status == "success"
    email = _rows(h.url, "SELECT email FROM customers WHERE cio_id = :c", c=changed.cio_id)
    assert email == [("new@example.com",)]
    assert _marked(h.url, "customers") == {(gone.cio_id,)}
    attributes = {k for k in _marked(h.url, "customers_attributes")}
    assert attributes and {k[0] for k in attributes} == {gone.cio_id}
    assert {k for k in _marked(h.url, "segment_memberships")} == {
        (str(s), gone.cio_id) for (s,) in members
    }
    assert {k[0] for k in _marked(h.url, "customer_segments")} == {gone.cio_id}
    assert _marked(h.url, "campaigns") == {("5",)}
    assert _marked(h.url, "campaign_actions") == action_ids
    assert _marked(h.url, "snippets") == {("footer",)}
    # The live rows are exactly the workspace; the statistics say what was deleted.
    assert check_tables(h.url, ws, NOT_APPEND | {"customers"}) == {}
    by_name = {r.name: r for r in second.results}
    assert by_name["Customers"].deleted == 1 and by_name["Customers"].updated >= 1
    assert by_name["Campaigns"].deleted == 1
    assert by_name["CampaignActions"].deleted == len(action_ids)
    assert by_name["Snippets"].deleted == 1
    assert by_name["CustomersAttributes"].deleted == len(attributes)

    # A round that brings the campaign (with its actions) and a snippet back.
    sb.clock.advance(60)
    restore_campaign(ws, campaign)
    restore_snippet(ws, {"name": "footer", "value": "back again"})
    assert h.run(ALL).status == "success"
    assert _marked(h.url, "campaigns") == set()
    assert _marked(h.url, "campaign_actions") == set()
    assert _marked(h.url, "snippets") == set()
    assert _marked(h.url, "customers") == {(gone.cio_id,)}  # still gone
    assert check_tables(h.url, ws, NOT_APPEND | {"customers"}) == {}

    # Nothing changed: nothing written, nothing marked twice.
    sb.clock.advance(600)
    again = h.run(ALL)
    written = {r.name: (r.inserted, r.updated, r.deleted) for r in again.results}
    assert all(counts == (0, 0, 0) for counts in written.values()), written


def test_mutation_rounds_delete_and_restore(harness: Harness) -> None:
    h, sb = harness, harness.sandbox
    assert h.run(ALL).status == "success"
    sb.clock.advance(60)
    first = deletes_round(sb.workspace)
    assert h.run(ALL).status == "success"
    assert _marked(h.url, "customers") == {(first.person_deleted,)}
    assert _marked(h.url, "campaigns") == {(str(first.campaign_deleted),)}
    assert _marked(h.url, "snippets") == {(first.snippet_deleted,)}
    email = _rows(h.url, "SELECT email FROM customers WHERE cio_id = :c", c=first.email_changed)
    assert email[0][0].startswith("changed.")
    sb.clock.advance(60)
    second = deletes_round(sb.workspace, first)
    assert sorted(second.restored) == sorted(first.gone)
    assert h.run(ALL).status == "success"
    assert _marked(h.url, "campaigns") == _marked(h.url, "snippets") == set()
    assert _marked(h.url, "customers") == {(first.person_deleted,), (second.person_deleted,)}
    assert check_tables(h.url, sb.workspace, NOT_APPEND | {"customers"}) == {}


@pytest.mark.parametrize("how", ["hard", "keep"])
def test_hard_removes_and_keep_keeps(harness: Harness, how: str) -> None:
    h, sb = harness, harness.sandbox
    h.deletes = "hard" if how == "hard" else "keep"
    assert h.run(ALL).status == "success"
    sb.clock.advance(60)
    gone = deletes_round(sb.workspace)
    assert h.run(ALL).status == "success"
    customers = {k[0] for k in actual(h.url, "customers")}
    campaigns = {k[0] for k in actual(h.url, "campaigns")}
    snippets = {k[0] for k in actual(h.url, "snippets")}
    kept = how == "keep"
    assert (gone.person_deleted in customers) is kept
    assert (str(gone.campaign_deleted) in campaigns) is kept
    assert (gone.snippet_deleted in snippets) is kept
    engine = sa.create_engine(h.url)
    try:
        with engine.connect() as conn:
            for table in ("customers", "campaigns", "snippets", "customers_attributes"):
                columns = {c["name"] for c in sa.inspect(conn).get_columns(table)}
                assert "_cio_deleted_at" not in columns, table
    finally:
        engine.dispose()
    if how == "hard":
        assert check_tables(h.url, sb.workspace, NOT_APPEND | {"customers"}) == {}


def test_filtered_run_marks_nothing(harness: Harness) -> None:
    h, sb = harness, harness.sandbox
    assert h.run(ALL).status == "success"
    sb.clock.advance(60)
    people = [p for p in sb.workspace.iter_people() if p is not None]
    deletes_round(sb.workspace)  # a person, a campaign, a snippet gone
    report = h.run(
        ["Customers", "CustomersAttributes", "Campaigns", "CampaignActions", "Snippets"],
        filters=[
            f"Customers.email={people[3].email}",
            "Campaigns.id=2",
            "Snippets.name=Legal Text",
        ],
    )
    assert report.status == "success", [(r.name, r.message) for r in report.results]
    assert all(r.deleted == 0 for r in report.results)
    _no_row_marked(h.url)


def test_failed_object_marks_nothing(harness: Harness) -> None:
    h, sb = harness, harness.sandbox
    assert h.run(ALL).status == "success"
    sb.clock.advance(60)
    deletes_round(sb.workspace)
    # One campaign's actions endpoint is down (503 after every retry); the attributes
    # lookup too, so the shared people pass fails half way.
    sb.set_faults(Faults(failing_paths=("/v1/campaigns/8/actions", "/v1/customers/attributes")))
    report = h.run(ALL)
    failed = {r.name for r in report.results if r.status == "failed"}
    assert {"CampaignActions", "CustomersAttributes"} <= failed
    assert _marked(h.url, "campaign_actions") == set()
    assert _marked(h.url, "customers_attributes") == set()
    live_actions = set(actual(h.url, "campaign_actions"))
    assert {(str(i),) for i in sb.workspace.content.campaign_actions} < live_actions
    # The objects that did read everything did mark (the campaign, the snippet, the person).
    assert len(_marked(h.url, "campaigns")) == 1
    assert len(_marked(h.url, "snippets")) == 1
    sb.set_faults(Faults())
    # The next run continues the failed read where it stopped: not a complete read.
    assert h.run(ALL).status == "success"
    assert _marked(h.url, "campaign_actions") == set()
    # The one after reads everything from the start and marks.
    assert h.run(ALL).status == "success"
    assert check_tables(h.url, sb.workspace, NOT_APPEND | {"customers"}) == {}
    assert len(_marked(h.url, "campaign_actions")) > 0


def test_resumed_read_marks_nothing(harness: Harness) -> None:
    """A read that continues an interrupted one has not seen the keys read before: it
    marks nothing; the next complete read does."""
    h, sb = harness, harness.sandbox
    h.batch_size = 2
    assert h.run(ALL).status == "success"
    sb.clock.advance(60)
    campaign = delete_campaign(sb.workspace, 5)
    assert _interrupted_run(h, "CampaignActions") == "interrupted"
    resumed = h.run(["CampaignActions"])
    assert resumed.status == "success" and resumed.results[0].deleted == 0
    assert _marked(h.url, "campaign_actions") == set()
    complete = h.run(["CampaignActions"])
    assert complete.results[0].deleted == len(campaign.actions)
    assert {k[0] for k in _marked(h.url, "campaign_actions")} == {
        str(a["id"]) for a in campaign.actions
    }


def _interrupted_run(h: Harness, name: str) -> str:
    """Run one object and stop the client after its first committed batch."""
    from cio_replicate.engine import CrashPoints

    class StopAfterCommit(CrashPoints):
        def reached(self, event: str) -> None:  # type: ignore[override]
            if event == "commit":
                h.client.stopping.set()

    import io

    from cio_replicate.engine import Progress, RunOptions, Services, replicate

    svc = Services(client=h.client, requests=h.client.log, target=h.target, clock=h.sandbox.clock,
                   progress=Progress(io.StringIO(), live=False), batch_size=h.batch_size,
                   crash=StopAfterCommit())  # fmt: skip
    try:
        report = replicate(svc, RunOptions(objects=[name]))
    finally:
        h.client.stopping.clear()
    return report.results[0].status


def test_status_shows_live_and_deleted(
    harness: Harness, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("CIO_CONFIG", "CIO_TARGET_URL", "CIO_SOURCE", "CIO_APP_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    h, sb = harness, harness.sandbox
    assert h.run(ALL).status == "success"
    sb.clock.advance(60)
    deletes_round(sb.workspace)
    assert h.run(ALL).status == "success"
    capsys.readouterr()
    assert main(["status", "--json", "--target-url", h.url]) == 0
    objects = {o["object"]: o for o in json.loads(capsys.readouterr().out)["objects"]}
    live_campaigns = len(actual(h.url, "campaigns"))
    assert objects["Campaigns"]["rows_live"] == live_campaigns
    assert objects["Campaigns"]["rows_deleted"] == 1
    assert objects["Snippets"]["rows_deleted"] == 1
    assert objects["Customers"]["rows_deleted"] == 1
    assert objects["Customers"]["rows_live"] == len(actual(h.url, "customers"))
    assert objects["Messages"]["rows_deleted"] == 0
    assert main(["status", "--target-url", h.url]) == 0
    lines = capsys.readouterr().out.splitlines()
    header = next(x for x in lines if x.startswith("Object"))
    assert "(1 deleted)" in next(x for x in lines if x.startswith("Campaigns "))
    assert main(["-v", "status", "--target-url", h.url]) == 0
    lines = capsys.readouterr().out.splitlines()
    header = next(x for x in lines if x.startswith("Object"))
    assert "Live" in header and "Deleted" in header
    cells = next(x for x in lines if x.startswith("Campaigns ")).split()
    assert cells[3:5] == [str(live_campaigns), "1"]


def test_default_run_updates_email_without_extra_calls(harness: Harness) -> None:
    h, sb = harness, harness.sandbox
    assert h.run().status == "success"
    sb.clock.advance(60)
    before = len(sb.requests)
    assert h.run().status == "success"
    unchanged_calls = len(sb.requests) - before
    person = next(p for p in sb.workspace.iter_people() if p is not None)
    with _track(sb) as track:
        answer = track.put(f"/api/v1/customers/{person.id}", json={"email": "moved@example.com"})
        assert answer.status_code == 200
    sb.clock.advance(60)
    before = len(sb.requests)
    report = h.run()
    assert report.status == "success"
    assert len(sb.requests) - before == unchanged_calls  # the same calls as with no change
    by_name = {r.name: r for r in report.results}
    assert (by_name["Customers"].inserted, by_name["Customers"].updated) == (0, 1)
    email = _rows(h.url, "SELECT email FROM customers WHERE cio_id = :c", c=person.cio_id)
    assert email == [("moved@example.com",)]
    # Customers alone: the search's identifiers carry the email, no attribute call.
    with _track(sb) as track:
        track.put(f"/api/v1/customers/{person.id}", json={"email": "again@example.com"})
    sb.clock.advance(60)
    before = len(sb.requests)
    alone = h.run(["Customers"])
    assert alone.status == "success" and alone.results[0].updated == 1
    assert not [r for r in sb.requests[before:] if r.path == "/v1/customers/attributes"]
    email = _rows(h.url, "SELECT email FROM customers WHERE cio_id = :c", c=person.cio_id)
    assert email == [("again@example.com",)]
    assert check_tables(h.url, sb.workspace, ["customers"]) == {}


def test_tables_of_an_earlier_version_gain_the_column(harness: Harness) -> None:
    """Tables made without ``_cio_deleted_at`` (``keep``, as before this version) gain it
    through the schema's evolution (recorded in ``_cio_columns``), write no row doing so,
    and a rerun writes nothing."""
    h, sb = harness, harness.sandbox
    h.deletes = "keep"
    assert h.run(ALL).status == "success"
    h.deletes = "soft"
    sb.clock.advance(60)
    upgrade = h.run(ALL)
    assert upgrade.status == "success"
    written = {r.name: (r.inserted, r.updated, r.deleted) for r in upgrade.results}
    assert all(counts == (0, 0, 0) for counts in written.values()), written
    recorded = _rows(h.url, "SELECT table_name FROM _cio_columns WHERE column_name = :c",
                     c="_cio_deleted_at")  # fmt: skip
    assert {t for (t,) in recorded} == NOT_APPEND | {"customers"}
    sb.clock.advance(60)
    again = h.run(ALL)
    written = {r.name: (r.inserted, r.updated, r.deleted) for r in again.results}
    assert all(counts == (0, 0, 0) for counts in written.values()), written
    deletes_round(sb.workspace)
    assert h.run(ALL).status == "success"
    assert len(_marked(h.url, "campaigns")) == 1


def test_customers_full_refresh_fetches_every_person(harness: Harness) -> None:
    """A rebuild stages whole people, never the search's identifiers alone (the known
    keys are for incremental runs only)."""
    h = harness
    assert h.run(["Customers"]).status == "success"
    h.sandbox.clock.advance(60)
    rebuilt = h.run(["Customers"], full_refresh=True)
    assert rebuilt.status == "success"
    assert check_tables(h.url, h.sandbox.workspace, ["customers"]) == {}
