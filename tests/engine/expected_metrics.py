"""What the metrics tables must hold after a run at the sandbox's current time, from the
sandbox's own series (never from the catalog or the extractor).

The documented table shape: one row per parent (and link) and day, ``day`` its date in
the answer's calendar, ``period_start`` the day's first second (unix here), one column per
metric of the answer, the parent's ids.
Days: version 2 (campaigns, campaign actions) UTC days from the parent's creation day
to today; version 1 (everything else, links included) the last 45 days, 00:00 EST.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from cio_replicate.sandbox import Workspace
from cio_replicate.sandbox.metrics import LINK_METRICS, V1_METRICS, V2_METRICS

Record = dict[str, Any]
DAY = 86_400
EST = -5 * 3_600


def _day(ts: int, offset: int = 0) -> int:
    return ((ts + offset) // DAY) * DAY - offset


def _created(rec: Mapping[str, Any]) -> int:
    return int(rec.get("created") or rec.get("created_at") or 0)


def _v2_days(ws: Workspace, rec: Mapping[str, Any]) -> list[int]:
    return list(range(_day(_created(rec)), _day(ws.now()) + 1, DAY))


def _v1_days(ws: Workspace) -> list[int]:
    today = _day(ws.now(), EST)
    return [today - n * DAY for n in range(44, -1, -1)]


def _rows(
    ws: Workspace,
    kind: str,
    rec: Mapping[str, Any],
    ids: Mapping[str, Any],
    days: list[int],
    metrics: Iterable[str],
    series_of: tuple[str, int] | None = None,
) -> list[Record]:
    skind, sid = series_of or (kind, rec["id"])
    series = ws.metrics.series(skind, sid, tuple(metrics), days, DAY, _created(rec), ws.now())
    offset = 0 if not days or days[0] % DAY == 0 else EST  # UTC days, or EST ones
    return [
        {
            **ids,
            "day": datetime.fromtimestamp(day + offset, UTC).date().isoformat(),
            "period_start": day,
            **{m: values[i] for m, values in series.items()},
        }
        for i, day in enumerate(days)
    ]


def _links(ws: Workspace, kind: str, rec: Mapping[str, Any], owner: str) -> list[Record]:
    rows = []
    for link in ws.metrics.links(kind, rec["id"]):
        ids = {owner: rec["id"], "link_id": link["id"], "href": link["href"]}
        days = _v1_days(ws)
        rows += _rows(ws, kind, rec, ids, days, LINK_METRICS, ("link", link["id"]))
    return rows


def _parents(ws: Workspace, table: str) -> list[Record]:
    return ws.records(table)


def _campaign_actions(ws: Workspace) -> list[Record]:
    return [a for c in ws.records("campaigns") for a in ws.campaign_actions(c["id"])]


def _broadcast_actions(ws: Workspace) -> list[Record]:
    return [a for b in ws.records("broadcasts") for a in ws.broadcast_actions(b["id"])]


def _v1(kind: str, table: str, owner: str) -> Callable[[Workspace], list[Record]]:
    return lambda ws: [
        r
        for rec in _parents(ws, table)
        for r in _rows(ws, kind, rec, {owner: rec["id"]}, _v1_days(ws), V1_METRICS)
    ]


def _link_table(kind: str, table: str, owner: str) -> Callable[[Workspace], list[Record]]:
    return lambda ws: [r for rec in _parents(ws, table) for r in _links(ws, kind, rec, owner)]


METRICS_TABLES: Mapping[str, tuple[tuple[str, ...], Callable[[Workspace], Iterable[Record]]]] = {
    "campaign_metrics": (
        ("campaign_id", "day"),
        lambda ws: [
            r
            for c in ws.records("campaigns")
            for r in _rows(ws, "campaign", c, {"campaign_id": c["id"]}, _v2_days(ws, c), V2_METRICS)
        ],
    ),
    "campaign_action_metrics": (
        ("action_id", "day"),
        lambda ws: [
            r
            for a in _campaign_actions(ws)
            for r in _rows(
                ws,
                "campaign_action",
                a,
                {"action_id": a["id"], "campaign_id": a["campaign_id"]},
                _v2_days(ws, a),
                V2_METRICS,
            )
        ],
    ),
    "broadcast_metrics": (
        ("broadcast_id", "day"),
        _v1("broadcast", "broadcasts", "broadcast_id"),
    ),
    "broadcast_action_metrics": (
        ("action_id", "day"),
        lambda ws: [
            r
            for a in _broadcast_actions(ws)
            for r in _rows(
                ws,
                "broadcast_action",
                a,
                {"action_id": a["id"], "broadcast_id": a["broadcast_id"]},
                _v1_days(ws),
                V1_METRICS,
            )
        ],
    ),
    "newsletter_metrics": (
        ("newsletter_id", "day"),
        _v1("newsletter", "newsletters", "newsletter_id"),
    ),
    "transactional_message_metrics": (
        ("transactional_message_id", "day"),
        _v1("transactional", "transactional", "transactional_message_id"),
    ),
    "campaign_link_metrics": (
        ("campaign_id", "link_id", "day"),
        _link_table("campaign", "campaigns", "campaign_id"),
    ),
    "broadcast_link_metrics": (
        ("broadcast_id", "link_id", "day"),
        _link_table("broadcast", "broadcasts", "broadcast_id"),
    ),
    "newsletter_link_metrics": (
        ("newsletter_id", "link_id", "day"),
        _link_table("newsletter", "newsletters", "newsletter_id"),
    ),
    "transactional_link_metrics": (
        ("transactional_message_id", "link_id", "day"),
        _link_table("transactional", "transactional", "transactional_message_id"),
    ),
}

ON_REQUEST = (
    "campaign_messages",
    "campaign_action_metrics",
    "broadcast_action_metrics",
    "campaign_link_metrics",
    "broadcast_link_metrics",
    "newsletter_link_metrics",
    "transactional_link_metrics",
)
"""Not in the default selection: campaign deliveries (also in `messages`), one call per
action, link series (README)."""
