"""Metrics: daily series per parent (campaign, action, broadcast, newsletter,
transactional message) and per link, as one row per parent (and link) and day.

One call per parent (``client.fan_out``). The answer's shape follows the entry's
``envelope`` (reference section 4, events-and-metrics section 4):

- ``series`` (version 2: ``version=2&res=daily&tz=UTC&start=..&end=..``, unix
  seconds, not cursors): ``{start, end, res, series: {metric: [oldest first]}}``;
  period ``i`` starts at the UTC day of ``start`` plus ``i`` days;
- ``metric`` (version 1: ``period=days&steps=N``): ``{metric: {series: {...}}}``,
  the last N days up to the current one, days starting at 00:00 EST;
- ``links`` (version 1 calendar): ``{links: [{link: {id, href}, metric: {series}}]}``.

Which days are read: a first run (no watermark) everything the API has (version 2:
from the parent's creation day; version 1: the last 45 days). Later runs re-read from
the earlier of the read floor (watermark - lookback) and :data:`RECENT_DAYS` days ago:
recent days keep changing as messages are opened and clicked, and the rows are
upserted by (parent, day), so only changed days are written. A killed run starts the
object again (nothing is skipped; re-reads are upserts).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from ..catalog import ObjectSpec, get_object
from ..errors import NotFoundError
from ..http.pagination import envelope_problem
from .context import Batch, ExtractContext, Hooks, Record, register
from .fanout import fan_out, listed_parents, synthetic_parents
from .listing import child_path, shape

DAY = 86_400
EST = -5 * 3_600
"""Version 1 days start at 00:00 EST (UTC-5, the reference's ``steps`` text)."""
RECENT_DAYS = 7
"""Days before today that every run re-reads (their counts still change)."""
V1_MAX_DAYS = 45
"""The most days version 1 answers (``steps`` maximum for ``period=days``)."""


def day_start(ts: int, offset: int = 0) -> int:
    """The first second of the day holding ``ts`` in a zone ``offset`` seconds from UTC."""
    return ((ts + offset) // DAY) * DAY - offset


def metrics(ctx: ExtractContext) -> Iterator[Batch]:
    """The rows of every parent, committed once per page of parents."""
    for parents in _parents(ctx):
        rows: list[Record] = []
        calls = 0
        for records, count in ctx.fan_out(lambda p: _read(ctx, p), parents):
            rows.extend(records)
            calls += count
        yield Batch(rows, calls)
    yield Batch([], 0, None, done=True)


def _parents(ctx: ExtractContext) -> Iterator[list[Record]]:
    """The parent records, page by page (built from filters, listed, or fanned out)."""
    parent = get_object(ctx.spec.parent or "")
    synthetic = synthetic_parents(ctx, parent)
    if synthetic is not None:
        yield synthetic
        return
    if parent.parent is None or parent.extractor is not None:
        for page in listed_parents(ctx, parent, None):
            yield page.records
        return
    parent_ctx = replace(ctx, spec=parent, floor=None, resume=None, known=None)
    for batch in fan_out(parent_ctx):  # e.g. the actions of every campaign
        if batch.records:
            yield batch.records


def _read(ctx: ExtractContext, parent: Mapping[str, Any]) -> tuple[list[Record], int]:
    spec = ctx.spec
    path = child_path(spec, parent)
    params: dict[str, Any] = dict(spec.params)
    now = _source_now(ctx)
    if spec.envelope == "series":
        start = _first_day(ctx, parent, now)
        params.update(start=start, end=max(start, now))
    else:
        params["steps"] = _steps(ctx, now)
    envelope = spec.envelope or ""
    try:
        body = ctx.client.app(
            "GET", path, params=params, check=lambda answer: _problem(answer, envelope)
        )
    except NotFoundError:
        ctx.warn(f"{spec.name}: {path} answered 404 (parent gone); skipped")
        return [], 0
    rows = [shape(spec, r, parent) for r in rows_of(spec, body, _source_now(ctx))]
    return [r for r in rows if ctx.filters.keep(spec.name, r)], 1


def _first_day(ctx: ExtractContext, parent: Mapping[str, Any], now: int) -> int:
    """Version 2's ``start``: the parent's creation day on a first run, else the
    earlier of the read floor and :data:`RECENT_DAYS` ago (UTC days)."""
    if ctx.floor is None:
        created = parent.get("created") or parent.get("created_at")
        first = int(created) if isinstance(created, int) else now - V1_MAX_DAYS * DAY
    else:
        first = min(ctx.floor, now - RECENT_DAYS * DAY)
    return day_start(min(first, now))


def _steps(ctx: ExtractContext, now: int) -> int:
    """Version 1's ``steps``: days up to today, from the floor (or all 45 on a first run)."""
    if ctx.floor is None:
        return V1_MAX_DAYS
    first = min(ctx.floor, now - RECENT_DAYS * DAY)
    days = (day_start(now, EST) - day_start(first, EST)) // DAY + 1
    return max(2, min(V1_MAX_DAYS, days))


def _source_now(ctx: ExtractContext) -> int:
    """The source's time now (from its ``Date`` headers; the API counts days on its own
    clock, and ``end`` past it only adds empty days), else the run's start."""
    probe = getattr(ctx.client, "source_time", None)
    value = probe() if callable(probe) else None
    return int(value) if isinstance(value, int | float) else ctx.until


def _problem(answer: Any, envelope: str) -> str | None:
    """Why an answer is not a metrics answer (retried, then the object fails)."""
    if envelope == "links":
        return envelope_problem(answer, "links")
    if not isinstance(answer, dict):
        return "the body is not a JSON object"
    series = answer.get("series") if envelope == "series" else answer.get("metric")
    if envelope == "metric" and isinstance(series, dict):
        series = series.get("series")
    if not isinstance(series, dict):
        return f"expected a {envelope!r} object with a series of each metric"
    if envelope == "series" and not isinstance(answer.get("start"), int):
        return "expected the series' 'start' (unix seconds)"
    return None


def rows_of(spec: ObjectSpec, body: Mapping[str, Any], now: int) -> list[Record]:
    """One record per period (and link) of an answer: ``day`` (the date in the answer's
    calendar), ``period_start`` (its first second) and the counts."""
    if spec.envelope == "series":
        first = day_start(int(body["start"]))
        return _periods(body["series"], lambda i, n: first + i * DAY, 0)
    last = day_start(now, EST)
    if spec.envelope == "metric":
        return _periods(body["metric"]["series"], lambda i, n: last - (n - 1 - i) * DAY, EST)
    rows: list[Record] = []
    for item in body["links"]:
        link = item.get("link") or {}
        series = (item.get("metric") or {}).get("series") or {}
        for row in _periods(series, lambda i, n: last - (n - 1 - i) * DAY, EST):
            rows.append({"link_id": link.get("id"), "href": link.get("href"), **row})
    return rows


def _periods(
    series: Mapping[str, Any], start_of: Callable[[int, int], int], offset: int
) -> list[Record]:
    lists = {m: v for m, v in series.items() if isinstance(v, list)}
    n = max((len(v) for v in lists.values()), default=0)
    rows: list[Record] = []
    for i in range(n):
        start = start_of(i, n)
        day = datetime.fromtimestamp(start + offset, UTC).date().isoformat()
        row: Record = {"day": day, "period_start": start}
        for metric, values in lists.items():
            row[metric] = values[i] if i < len(values) else None
        rows.append(row)
    return rows


register("metrics", Hooks(metrics))
