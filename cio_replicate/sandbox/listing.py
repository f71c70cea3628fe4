"""Shared listing logic for the lazily generated collections: messages and activities.

Order: newest first (descending created / timestamp, then descending index), on every
message and activity listing. Cursors hold the index of the last record returned, so records
added while a client pages (they get higher indices) never shift later pages.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from .constants import MESSAGE_WINDOW
from .content import Source
from .deliveries import has_metric
from .paging import next_token, parse_limit, read_cursor, take_page
from .people import Person
from .router import Call, app_error

MESSAGE_TYPES = (
    "email",
    "webhook",
    "twilio",
    "whatsapp",
    "slack",
    "push",
    "in_app",
    "live_notification",
    "inbox",
)
METRICS = (
    "attempted",
    "sent",
    "delivered",
    "opened",
    "clicked",
    "converted",
    "bounced",
    "spammed",
    "unsubscribed",
    "dropped",
    "failed",
    "undeliverable",
    "created",
    "drafted",
)


def _cursor_index(call: Call, kind: str) -> int | None:
    position = read_cursor(call, kind)
    if position is not None and not isinstance(position, int):
        raise app_error(400, "start is not a valid pagination token for this listing")
    return position


def message_page(
    call: Call,
    kind: str,
    limit_kind: str,
    *,
    sources: Iterable[Source] | None = None,
    person: Person | None = None,
    default_window: bool = False,
) -> dict[str, Any]:
    ws = call.workspace
    store = ws.messages
    limit = parse_limit(call, limit_kind)
    after = _cursor_index(call, kind)
    start_ts = call.int_query("start_ts")
    end_ts = call.int_query("end_ts")
    if default_window and start_ts is None and end_ts is None:
        start_ts = ws.now() - MESSAGE_WINDOW
    mtype = call.query.get("type") or None
    metric = call.query.get("metric") or None
    if mtype is not None and mtype not in MESSAGE_TYPES:
        raise app_error(400, f"type must be one of {', '.join(MESSAGE_TYPES)}")
    if metric is not None and metric not in METRICS:
        raise app_error(400, f"metric must be one of {', '.join(METRICS)}")
    for name in ("campaign_id", "newsletter_id", "action_id"):
        if call.query.get(name):
            wanted = call.int_query(name)
            pool = (
                sources
                if sources is not None
                else [*store.sources, *(m["_source"] for m in store.added)]
            )
            attr = {
                "campaign_id": "parent_id",
                "newsletter_id": "parent_id",
                "action_id": "action_id",
            }[name]
            need_kind = {
                "campaign_id": ("campaign", "broadcast"),
                "newsletter_id": ("newsletter",),
                "action_id": None,
            }[name]
            sources = [
                s
                for s in pool
                if getattr(s, attr) == wanted and (need_kind is None or s.kind in need_kind)
            ]
    lo, hi = store.time_bounds(start_ts, end_ts)
    if after is not None:
        hi = min(hi, after)
    candidates = store.candidates(lo, hi, sources=sources, person=person, now=ws.now())
    tracked = call.bool_query("get_tracked_responses")

    def keep(j: int) -> bool:
        if mtype is not None and store.source_of(j).type != mtype:
            return False
        if metric is not None:
            return has_metric(store.get(j)["metrics"], metric)
        return True

    if mtype is not None or metric is not None:
        candidates = (j for j in candidates if keep(j))
    page, position = take_page(candidates, limit, lambda j: j)
    return {"messages": [store.get(j, tracked) for j in page], "next": next_token(kind, position)}


def activity_page(
    call: Call, kind: str, limit_kind: str, person: Person | None = None
) -> dict[str, Any]:
    ws = call.workspace
    store = ws.activities
    limit = parse_limit(call, limit_kind)
    after = _cursor_index(call, kind)
    atype = call.query.get("type") or None
    name = call.query.get("name") or None
    deleted = call.bool_query("deleted")
    candidates = store.candidates(store.total if after is None else after, person, ws.now())

    def keep(k: int) -> bool:
        # `deleted=true`: the activities of deleted people (and only theirs)
        if (store.person_index(k) in ws.people.deleted) != deleted:
            return False
        if atype is None and name is None:
            return True
        rec = store.get(k)
        return (atype is None or rec["type"] == atype) and (name is None or rec.get("name") == name)

    page, position = take_page((k for k in candidates if keep(k)), limit, lambda k: k)
    return {"activities": [store.get(k) for k in page], "next": next_token(kind, position)}
