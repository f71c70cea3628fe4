"""Metrics routes of the App API (reference section 4; customerio-events-and-metrics.md
section 4): daily (or other) series per campaign, campaign action, broadcast, broadcast
action, newsletter and transactional message, and their link metrics.

- ``version=2`` (campaigns and campaign actions only): ``res``, ``tz``, ``start``,
  ``end`` (unix seconds, not cursors) -> ``{start, end, res, series: {metric: [...]}}``,
  oldest first, one entry per period from the one holding ``start`` to the one holding
  ``end``. The sandbox simulates ``tz`` = UTC only.
- v1 (``period`` + ``steps``; every parent; ``version=1`` or none where a version is
  taken) -> ``{"metric": {"series": {...}}}``: the last ``steps`` periods up to the
  current one (fewer than 2 is 2; none or 0 is the maximum: 24 hours, 45 days,
  12 weeks, 121 months), days starting 00:00 EST.
- links (``.../metrics/links``: ``period``, ``steps``, ``unique``/``type``) ->
  ``{"links": [{link: {id, href}, metric: {series: {clicked, human_clicked,
  machine_clicked}}}]}`` on the v1 calendar.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from .metrics import (
    DAY,
    EST,
    HOUR,
    LINK_METRICS,
    V1_MAX_STEPS,
    V1_METRICS,
    V2_METRICS,
    period_start,
)
from .router import Call, Reply, app_error, route

_SUNDAY = 3 * DAY  # 1970-01-04, the first Sunday after the unix epoch
V2_RES = {"hourly": "hours", "daily": "days", "weekly": "weeks", "monthly": "months"}
MESSAGE_TYPES = ("email", "webhook", "twilio", "slack", "push", "in_app", "whatsapp")


def _floor(ts: int, unit: str, offset: int) -> int:
    if unit == "hours":
        return period_start(ts, HOUR, offset)
    if unit == "days":
        return period_start(ts, DAY, offset)
    if unit == "weeks":
        return period_start(ts - _SUNDAY, 7 * DAY, offset) + _SUNDAY
    local = datetime.fromtimestamp(ts + offset, UTC)
    return int(datetime(local.year, local.month, 1, tzinfo=UTC).timestamp()) - offset


def _step(start: int, unit: str, n: int, offset: int) -> int:
    """The start of the period ``n`` periods after (n < 0: before) the one at ``start``."""
    if unit == "months":
        local = datetime.fromtimestamp(start + offset, UTC)
        index = local.year * 12 + local.month - 1 + n
        return int(datetime(index // 12, index % 12 + 1, 1, tzinfo=UTC).timestamp()) - offset
    length = {"hours": HOUR, "days": DAY, "weeks": 7 * DAY}[unit]
    return start + n * length


def _length(start: int, unit: str, offset: int) -> int:
    return _step(start, unit, 1, offset) - start


def _created(rec: dict[str, Any]) -> int:
    return int(rec.get("created") or rec.get("created_at") or 0)


def _check_type(call: Call) -> None:
    kind = call.query.get("type")
    if kind and kind not in MESSAGE_TYPES:
        raise app_error(400, f"type must be one of {', '.join(MESSAGE_TYPES)}")


def _v1_starts(call: Call) -> tuple[str, list[int]]:
    unit = call.query.get("period") or "days"
    if unit not in V1_MAX_STEPS:
        raise app_error(400, "period must be one of hours, days, weeks, months")
    steps = call.int_query("steps")
    most = V1_MAX_STEPS[unit]
    if steps is None or steps == 0:
        steps = 12 if unit == "months" else most
    if steps < 0 or steps > most:
        raise app_error(400, f"steps must be at most {most} for period {unit}")
    steps = max(steps, 2)
    current = _floor(call.workspace.now(), unit, EST)
    return unit, [_step(current, unit, n, EST) for n in range(1 - steps, 1)]


def _v2(call: Call, kind: str, rec: dict[str, Any]) -> dict[str, Any]:
    res = call.query.get("res") or "daily"
    if res not in V2_RES:
        raise app_error(400, "res must be one of hourly, daily, weekly, monthly")
    if (call.query.get("tz") or "UTC") not in ("UTC", "Etc/UTC"):
        raise app_error(400, "the sandbox simulates tz=UTC only")
    start, end = call.int_query("start"), call.int_query("end")
    if start is None or end is None:
        raise app_error(400, "start and end (unix timestamps) are required with version=2")
    if end < start:
        raise app_error(400, "end must not be before start")
    unit = V2_RES[res]
    starts = [_floor(start, unit, 0)]
    while _step(starts[-1], unit, 1, 0) <= end:
        starts.append(_step(starts[-1], unit, 1, 0))
        if len(starts) > 10_000:
            raise app_error(400, "too many periods: narrow start..end or use a coarser res")
    store, now = call.workspace.metrics, call.workspace.now()
    length = _length(starts[0], unit, 0)  # hours and days are uniform; weeks too
    series = store.series(kind, rec["id"], V2_METRICS, starts, length, _created(rec), now)
    return {"start": starts[0], "end": end, "res": res, "series": series}


def _v1(call: Call, kind: str, rec: dict[str, Any]) -> dict[str, Any]:
    unit, starts = _v1_starts(call)
    store, now = call.workspace.metrics, call.workspace.now()
    length = _length(starts[0], unit, EST)
    series = store.series(kind, rec["id"], V1_METRICS, starts, length, _created(rec), now)
    return {"metric": {"series": series}}


def _metrics(call: Call, kind: str, rec: dict[str, Any], *, v2: bool) -> Reply:
    _check_type(call)
    version = call.query.get("version") or "1"
    if version not in ("1", "2") or (version == "2" and not v2):
        allowed = "1 or 2" if v2 else "1 (this endpoint has no version 2)"
        raise app_error(400, f"version must be {allowed}")
    if version == "2":
        return Reply(200, _v2(call, kind, rec))
    return Reply(200, _v1(call, kind, rec))


def _links(call: Call, kind: str, rec: dict[str, Any]) -> Reply:
    _check_type(call)
    if "version" in call.query:
        raise app_error(400, "version is not a parameter of this endpoint")
    unit, starts = _v1_starts(call)
    store, now = call.workspace.metrics, call.workspace.now()
    length = _length(starts[0], unit, EST)
    links = [
        {
            "link": link,
            "metric": {
                "series": store.series(
                    "link", int(link["id"]), LINK_METRICS, starts, length, _created(rec), now
                )
            },
        }
        for link in store.links(kind, rec["id"])
    ]
    return Reply(200, {"links": links})


def _get(call: Call, table: str, param: str, what: str) -> dict[str, Any]:
    rec = call.workspace.record(table, call.int_param(param))
    if rec is None:
        raise app_error(404, f"The {what} you requested does not exist.")
    return rec


def _action(call: Call, parent: dict[str, Any], store: str, link: str) -> dict[str, Any]:
    actions: dict[int, dict[str, Any]] = getattr(call.workspace.content, store)
    rec = actions.get(call.int_param("action_id"))
    if rec is None or rec[link] != parent["id"]:
        raise app_error(404, "The action you requested does not exist.")
    return rec


# (parent path, table, id parameter, name, metrics kind, version 2 offered)
PARENTS: tuple[tuple[str, str, str, str, str, bool], ...] = (
    ("/v1/campaigns", "campaigns", "campaign_id", "campaign", "campaign", True),
    ("/v1/broadcasts", "broadcasts", "broadcast_id", "broadcast", "broadcast", False),
    ("/v1/newsletters", "newsletters", "newsletter_id", "newsletter", "newsletter", False),
    (
        "/v1/transactional",
        "transactional",
        "transactional_id",
        "transactional message",
        "transactional",
        False,
    ),
)


def _register(path: str, table: str, param: str, what: str, kind: str, v2: bool) -> None:
    def metrics(call: Call) -> Reply:
        return _metrics(call, kind, _get(call, table, param, what), v2=v2)

    def links(call: Call) -> Reply:
        return _links(call, kind, _get(call, table, param, what))

    route("app", "GET", f"{path}/{{{param}}}/metrics")(metrics)
    route("app", "GET", f"{path}/{{{param}}}/metrics/links")(links)


for _parent in PARENTS:
    _register(*_parent)


@route("app", "GET", "/v1/campaigns/{campaign_id}/actions/{action_id}/metrics")
def campaign_action_metrics(call: Call) -> Reply:
    camp = _get(call, "campaigns", "campaign_id", "campaign")
    action = _action(call, camp, "campaign_actions", "campaign_id")
    return _metrics(call, "campaign_action", action, v2=True)


@route("app", "GET", "/v1/broadcasts/{broadcast_id}/actions/{action_id}/metrics")
def broadcast_action_metrics(call: Call) -> Reply:
    bc = _get(call, "broadcasts", "broadcast_id", "broadcast")
    action = _action(call, bc, "broadcast_actions", "broadcast_id")
    return _metrics(call, "broadcast_action", action, v2=False)
