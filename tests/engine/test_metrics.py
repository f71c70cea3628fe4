"""The objects of issue 15 part 1 on every database: the metrics series, the deliveries
of each campaign and the activities of deleted people equal the sandbox's data; a rerun
re-reads only the recent days of metrics and writes only the days that changed."""

from __future__ import annotations

import httpx

from cio_replicate.catalog import CATALOG
from cio_replicate.sandbox import SITE_ID, TRACK_API_KEY

from .conftest import Harness
from .expected import check_tables
from .expected_metrics import METRICS_TABLES

DAY = 86_400
EST = -5 * 3_600
METRICS = [s.name for s in CATALOG if s.extractor == "metrics"]
NEW = ["CampaignMessages", "DeletedPeopleActivities", *METRICS]
NEW_TABLES = ["campaign_messages", "deleted_people_activities", *METRICS_TABLES]


def _day(ts: int, offset: int = 0) -> int:
    return ((ts + offset) // DAY) * DAY - offset


def _delete_person(h: Harness, index: int) -> str:
    """Delete a person through the Track API, as a user would; returns their cio_id."""
    person = h.sandbox.workspace.people.get(index)
    assert person is not None
    answer = httpx.Client(transport=h.sandbox.transport()).delete(
        f"https://track.customer.io/api/v1/customers/cio_{person.cio_id}",
        auth=(SITE_ID, TRACK_API_KEY),
    )
    assert answer.status_code == 200, answer.text
    return person.cio_id


def test_new_objects_equal_the_sandbox(harness: Harness) -> None:
    h = harness
    ws = h.sandbox.workspace
    gone = _delete_person(h, 0)
    report = h.run(NEW)
    assert report.status == "success", [(r.name, r.message) for r in report.results]
    assert check_tables(h.url, ws, NEW_TABLES) == {}
    by_name = {r.name: r for r in report.results}
    assert by_name["DeletedPeopleActivities"].inserted > 0  # the deleted person's log
    assert by_name["CampaignMessages"].inserted > 0
    for name in METRICS:
        assert by_name[name].inserted > 0, name
    assert ws.people.get(0) is None and gone  # deleted through the Track API


def test_rerun_reads_the_recent_days_and_writes_only_changed_ones(harness: Harness) -> None:
    h = harness
    ws = h.sandbox.workspace
    assert h.run(METRICS).status == "success"

    h.sandbox.clock.advance(600)
    now = ws.now()
    campaign = ws.records("campaigns")[0]
    broadcast = ws.records("broadcasts")[0]
    ws.metrics.bump("campaign", campaign["id"], now - DAY, "opened", 3)  # yesterday changes
    ws.metrics.bump("broadcast", broadcast["id"], now, "clicked", 2)  # today changes
    seen = len(h.sandbox.requests)
    again = h.run(METRICS)
    assert again.status == "success"
    written = {r.name: (r.inserted, r.updated) for r in again.results}
    assert written.pop("CampaignMetrics") == (0, 1)
    assert written.pop("BroadcastMetrics") == (0, 1)
    assert all(counts == (0, 0) for counts in written.values()), written
    assert check_tables(h.url, ws, list(METRICS_TABLES)) == {}

    # Only the recent window was asked for: start/end are unix times (version 2), steps
    # the days since 7 days ago (version 1), never the whole history again.
    calls = [r for r in h.sandbox.requests[seen:] if "/metrics" in r.path]
    v2 = [r for r in calls if r.query.get("version") == "2"]
    v1 = [r for r in calls if r.query.get("version") != "2"]
    assert v2 and v1
    assert all(int(r.query["start"]) == _day(now) - 7 * DAY for r in v2)
    assert all(int(r.query["end"]) == now and r.query["res"] == "daily" for r in v2)
    days = (_day(now, EST) - _day(now - 7 * DAY, EST)) // DAY + 1
    assert all(r.query == {"period": "days", "steps": str(days)} for r in v1)

    # Nothing changed: nothing written.
    h.sandbox.clock.advance(600)
    still = h.run(METRICS)
    assert all((r.inserted, r.updated) == (0, 0) for r in still.results), still.results


def test_a_new_day_adds_one_row_per_parent(harness: Harness) -> None:
    h = harness
    ws = h.sandbox.workspace
    assert h.run(["CampaignMetrics", "NewsletterMetrics"]).status == "success"
    h.sandbox.clock.advance(DAY)
    report = h.run(["CampaignMetrics", "NewsletterMetrics"])
    by_name = {r.name: r for r in report.results}
    assert by_name["CampaignMetrics"].inserted == len(ws.records("campaigns"))
    assert by_name["NewsletterMetrics"].inserted == len(ws.records("newsletters"))
