"""Later engagement reaches old deliveries (issue 12 item 3): every delivery table re-reads
the deliveries created inside ``metrics_lookback`` and upserts their metrics, merged with
the stored ones (a stored key the API does not return is kept)."""

from __future__ import annotations

import math
from collections import Counter
from typing import Any

import sqlalchemy as sa

from cio_replicate.sandbox import RecordedRequest
from cio_replicate.sandbox.constants import DAY
from cio_replicate.sandbox.engagement import KINDS, engage, later_engagement

from .conftest import Harness
from .expected import actual, expected

DELIVERY_TABLES = (
    "messages",
    "newsletter_messages",
    "broadcast_messages",
    "transactional_message_deliveries",
    "customer_messages",
)
KIND_TABLE = {
    "campaign": None,  # campaign deliveries are listed by /v1/messages (and per person)
    "broadcast": "broadcast_messages",
    "newsletter": "newsletter_messages",
    "transactional": "transactional_message_deliveries",
}
OBJECTS = [
    "Messages",
    "NewsletterMessages",
    "BroadcastMessages",
    "TransactionalMessageDeliveries",
    "CustomerMessages",
]
DELIVERY_PATH = ("/v1/messages", "/messages")  # the listing and every parent's listing


def _deliveries_of_every_kind(h: Harness) -> dict[str, str]:
    """One new delivery per kind (to a person of the base set), created now."""
    ws = h.sandbox.workspace
    person = next(iter(ws.iter_people()))
    added = {}
    for kind in KINDS:
        source = next(s for s in ws.messages.sources if s.kind == kind)
        added[kind] = ws.add_message(source, person)["id"]
    return added


def _delivery_requests(requests: list[RecordedRequest]) -> list[RecordedRequest]:
    return [r for r in requests if r.method == "GET" and r.path.endswith(DELIVERY_PATH[1])]


def _loaded_with_engagement_two_days_later(h: Harness) -> tuple[dict[str, str], dict[str, Any]]:
    """A first run, deliveries of every kind added and read, then two days later opens and
    clicks on them and on one delivery a year old. Returns the new deliveries by kind and
    the old delivery as it was loaded."""
    ws = h.sandbox.workspace
    assert h.run(OBJECTS).status == "success"
    added = _deliveries_of_every_kind(h)
    h.sandbox.clock.advance(60)
    assert h.run(OBJECTS).status == "success"
    old = ws.messages.get(_oldest_sent(h))
    h.sandbox.clock.advance(2 * DAY)
    with ws.lock:
        for message_id in added.values():
            assert engage(ws, message_id)
        assert engage(ws, old["id"])  # older than any window: stays as loaded
        later_engagement(ws, newer_than=6 * DAY, older_than=DAY, per_kind=5)
    return added, old


def _oldest_sent(h: Harness) -> int:
    store = h.sandbox.workspace.messages
    return next(j for j in range(store.total) if engage_ready(store.get(j)["metrics"]))


def engage_ready(metrics: dict[str, int]) -> bool:
    reached = ("drafted", "failed", "bounced", "undeliverable", "opened", "clicked")
    return "sent" in metrics and not any(m in metrics for m in reached)


def test_later_opens_and_clicks_reach_every_delivery_table(harness: Harness) -> None:
    h = harness
    ws = h.sandbox.workspace
    added, old = _loaded_with_engagement_two_days_later(h)
    seen = len(h.sandbox.requests)

    report = h.run(OBJECTS)
    assert report.status == "success"
    updated = {r.name: r.updated for r in report.results}
    assert all(updated[name] >= 1 for name in OBJECTS), updated

    # Every delivery table is the workspace now, except the year-old delivery.
    for table in DELIVERY_TABLES:
        want = expected(ws, table)
        got = actual(h.url, table)
        if (old["id"],) in want:
            assert want[(old["id"],)]["metrics"] != old["metrics"]  # engaged two days ago
            assert got[(old["id"],)]["metrics"] == old["metrics"], table  # outside the window
            want[(old["id"],)] = got[(old["id"],)]
        problems = [k for k in want if k not in got or got[k]["metrics"] != want[k]["metrics"]]
        assert problems == [], (table, problems[:3])
    for kind, message_id in added.items():
        now = ws.message(message_id)
        assert now is not None and ({"opened", "clicked"} & set(now["metrics"]))
        for table in ("messages", "customer_messages", KIND_TABLE[kind]):
            if table is not None:
                assert actual(h.url, table)[(message_id,)]["metrics"] == now["metrics"], table

    # The window's calls: every delivery listing asked for [now - 7 days, run start] only.
    window_start = h.sandbox.clock.now() - h.metrics_lookback
    calls = _delivery_requests(h.sandbox.requests[seen:])
    assert calls and {int(r.query["start_ts"]) for r in calls} == {window_start}
    assert {int(r.query["end_ts"]) for r in calls} == {h.sandbox.clock.now()}

    # A no-change rerun writes nothing, stored metrics and all.
    h.sandbox.clock.advance(60)
    again = h.run(OBJECTS)
    assert {(r.inserted, r.updated) for r in again.results} == {(0, 0)}


def test_the_window_costs_only_the_pages_inside_it(harness: Harness) -> None:
    """Per listing (one per parent), as many pages as the deliveries of the window fill."""
    h = harness
    h.batch_size = 2  # two deliveries per page: the pages of the window are counted
    ws = h.sandbox.workspace
    _loaded_with_engagement_two_days_later(h)
    seen = len(h.sandbox.requests)
    assert h.run(OBJECTS).status == "success"
    start, end = h.sandbox.clock.now() - h.metrics_lookback, h.sandbox.clock.now()
    per_listing = Counter(r.path for r in _delivery_requests(h.sandbox.requests[seen:]))

    inside = [ws.messages.get(j) for j in range(*ws.messages.time_bounds(start, end))]
    want: Counter[str] = Counter()
    want["/v1/messages"] = max(1, math.ceil(len(inside) / 2))
    for listing, field in (("broadcasts", "broadcast_id"), ("newsletters", "newsletter_id")):
        for parent in ws.records(listing):
            n = sum(1 for m in inside if m[field] == parent["id"])
            want[f"/v1/{listing}/{parent['id']}/messages"] = max(1, math.ceil(n / 2))
    for t in ws.records("transactional"):
        sources = ws.sources_of("transactional", t["id"])
        n = sum(1 for m in inside if _is(ws, m, sources))
        want[f"/v1/transactional/{t['id']}/messages"] = max(1, math.ceil(n / 2))
    for person in ws.iter_people():
        n = sum(1 for m in inside if m["customer_identifiers"]["cio_id"] == person.cio_id)
        want[f"/v1/customers/cio_{person.cio_id}/messages"] = max(1, math.ceil(n / 2))
    assert per_listing == want


def _is(ws: Any, message: dict[str, Any], sources: list[Any]) -> bool:
    j = ws.messages.index_of(message["id"])
    return j is not None and ws.messages.source_of(j) in sources


def test_metrics_lookback_0_re_reads_nothing(harness: Harness) -> None:
    h = harness
    h.metrics_lookback = 0
    added, _old = _loaded_with_engagement_two_days_later(h)
    watermark_floor = _watermark(h, "Messages") - h.lookback
    seen = len(h.sandbox.requests)

    report = h.run(OBJECTS)
    assert report.status == "success"
    assert {r.name: r.updated for r in report.results} == dict.fromkeys(OBJECTS, 0)
    calls = _delivery_requests(h.sandbox.requests[seen:])
    starts = {int(r.query["start_ts"]) for r in calls}
    assert calls and min(starts) >= watermark_floor  # nothing from before the watermark
    for message_id in added.values():  # the opens and clicks of two days later are not read
        row = actual(h.url, "messages")[(message_id,)]
        assert not {"opened", "clicked"} & set(row["metrics"])


def _watermark(h: Harness, name: str) -> int:
    with h.target.connect() as conn:
        value = conn.execute(
            sa.text("SELECT watermark FROM _cio_state WHERE object_name = :n"), {"n": name}
        ).scalar()
    assert value is not None
    return int(value)


def _set_stored_metrics(h: Harness, table: str, message_id: str, metrics: dict[str, Any]) -> None:
    """What a webhook receiver does: write metrics into the replica's row directly."""
    writer = h.target.table(table, ("id",))
    t = writer.sa_table()
    with h.target.begin() as conn:
        conn.execute(sa.update(t).where(t.c.id == message_id).values(metrics=metrics))


def test_a_stored_metric_the_api_does_not_return_is_kept(harness: Harness) -> None:
    h = harness
    ws = h.sandbox.workspace
    added, _old = _loaded_with_engagement_two_days_later(h)
    message_id = added["newsletter"]
    api_now = ws.message(message_id)
    assert api_now is not None
    stored = actual(h.url, "newsletter_messages")[(message_id,)]["metrics"]
    # A webhook wrote a delivery event the API does not show yet, and an older time for
    # the engagement the API now shows.
    engaged = "opened" if "opened" in api_now["metrics"] else "clicked"
    webhook = {**stored, "delivered": stored["sent"] + 1, engaged: 1}
    for table in ("messages", "newsletter_messages"):
        _set_stored_metrics(h, table, message_id, webhook)

    assert h.run(OBJECTS).status == "success"
    merged = {**webhook, **api_now["metrics"]}  # the API's values win, stored keys stay
    assert "delivered" not in api_now["metrics"] and merged[engaged] != 1
    for table in ("messages", "newsletter_messages"):
        assert actual(h.url, table)[(message_id,)]["metrics"] == merged, table

    h.sandbox.clock.advance(60)  # the API still lacks 'delivered': nothing to write
    again = h.run(OBJECTS)
    assert {(r.inserted, r.updated) for r in again.results} == {(0, 0)}
    assert actual(h.url, "messages")[(message_id,)]["metrics"] == merged


def test_a_full_refresh_rereads_old_deliveries_and_keeps_stored_metrics(harness: Harness) -> None:
    """Outside the window only ``--full-refresh`` brings metrics current; it keeps the
    metric keys the table holds that the API does not return, like any replicate."""
    h = harness
    ws = h.sandbox.workspace
    _added, old = _loaded_with_engagement_two_days_later(h)
    stored = actual(h.url, "messages")[(old["id"],)]["metrics"]
    webhook = {**stored, "webhook_only": 7}
    _set_stored_metrics(h, "messages", old["id"], webhook)

    assert h.run(["Messages"], full_refresh=True).status == "success"
    api_now = ws.messages.get(ws.messages.index_of(old["id"]) or 0)["metrics"]
    assert api_now != stored
    assert actual(h.url, "messages")[(old["id"],)]["metrics"] == {**webhook, **api_now}
