"""Later engagement (sandbox/engagement.py): opens and clicks stamped days after a delivery
was created, served by every delivery listing, inside their start_ts/end_ts bounds."""

from __future__ import annotations

import httpx

from cio_replicate.sandbox import Sandbox
from cio_replicate.sandbox.constants import DAY
from cio_replicate.sandbox.engagement import KINDS, engage, later_engagement

LISTING = {
    "broadcast": "/v1/broadcasts/{}/messages",
    "newsletter": "/v1/newsletters/{}/messages",
    "transactional": "/v1/transactional/{}/messages",
}


def _new_deliveries(sb: Sandbox) -> dict[str, dict[str, object]]:
    ws = sb.workspace
    person = next(iter(ws.iter_people()))
    out = {}
    for kind in KINDS:
        source = next(s for s in ws.messages.sources if s.kind == kind and s.type == "email")
        out[kind] = {"rec": ws.add_message(source, person), "parent": source.parent_id}
    return out


def test_an_email_is_opened_then_clicked_later_in_unix_seconds(sb: Sandbox) -> None:
    ws = sb.workspace
    rec = _new_deliveries(sb)["newsletter"]["rec"]
    assert isinstance(rec, dict)
    sb.clock.advance(2 * DAY)
    assert engage(ws, rec["id"]) == ("opened",)
    opened = ws.message(rec["id"])
    assert opened is not None
    assert opened["metrics"]["opened"] == sb.clock.now()
    assert opened["metrics"]["human_opened"] == 1
    assert opened["created"] == rec["created"]  # creation never moves
    assert opened["deduplicate_id"] == f"{rec['id']}:{sb.clock.now()}"
    sb.clock.advance(60)
    assert engage(ws, rec["id"]) == ("clicked",)
    clicked = ws.message(rec["id"])
    assert clicked is not None
    assert (
        clicked["metrics"]["clicked"] == sb.clock.now() and clicked["metrics"]["human_clicked"] == 1
    )
    assert engage(ws, rec["id"]) == ()


def test_deliveries_never_delivered_are_not_engaged(sb: Sandbox) -> None:
    ws = sb.workspace
    store = ws.messages
    failed = next(
        store.get(j)
        for j in range(store.total)
        if {"drafted", "failed", "bounced", "undeliverable"} & set(store.get(j)["metrics"])
    )
    assert engage(ws, failed["id"]) == ()
    assert ws.message(failed["id"]) == failed


def test_a_round_engages_every_kind_inside_its_bounds_and_the_listings_show_it(
    sb: Sandbox, app: httpx.Client
) -> None:
    ws = sb.workspace
    added = _new_deliveries(sb)
    sb.clock.advance(2 * DAY)
    done = later_engagement(ws, newer_than=3 * DAY, older_than=DAY, per_kind=1)
    assert sorted(e.kind for e in done) == sorted(KINDS)
    now = sb.clock.now()
    assert all(now - 3 * DAY <= e.created <= now - DAY for e in done)
    window = {"start_ts": now - 3 * DAY, "end_ts": now}
    for kind, item in added.items():
        rec = item["rec"]
        assert isinstance(rec, dict)
        paths = ["/v1/messages"] + (
            [LISTING[kind].format(item["parent"])] if kind in LISTING else []
        )
        for path in paths:
            listed = app.get(path, params={**window, "limit": 100}).json()["messages"]
            served = next(m for m in listed if m["id"] == rec["id"])
            assert served["metrics"]["opened"] == now, path
    # A window that ends before they were created does not list them.
    before = {"start_ts": now - 30 * DAY, "end_ts": now - 3 * DAY}
    listed = app.get("/v1/messages", params={**before, "limit": 100}).json()["messages"]
    assert not {m["id"] for m in listed} & {e.message_id for e in done}
