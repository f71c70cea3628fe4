"""Pages -> records for an object without parent; the request pieces fan-outs share.

A listing yields :class:`~cio_replicate.extract.context.Batch` es; each batch
is committed by the engine together with its ``resume`` position, so a killed
run continues after the last committed batch. Resume positions are typed
values (:mod:`cio_replicate.positions`): a listing's is a
:class:`~cio_replicate.positions.ListingPosition` (a fan-out over parents:
:mod:`cio_replicate.extract.fanout`).

A resume token the API no longer accepts (400) restarts that listing from the
beginning: records are written by key, so reading some twice is harmless,
and nothing is skipped.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from functools import partial
from typing import Any

from ..catalog import ObjectSpec
from ..errors import ApiError
from ..http import Page, render_path
from ..positions import ListingPosition
from .context import EARLIEST, Batch, ExtractContext, Record

# --- request pieces ---------------------------------------------------------


def window(ctx: ExtractContext) -> list[int] | None:
    """``[start_ts, end_ts]`` for objects the API filters by time (kept across resumes)."""
    if ctx.spec.since_param is None:
        return None
    if ctx.resume is not None and ctx.resume.window:
        start, end = ctx.resume.window
        return [start, end]
    start = max(EARLIEST, ctx.floor) if ctx.floor is not None else EARLIEST
    return [start, max(start, ctx.until)]


def query_params(ctx: ExtractContext, win: list[int] | None) -> dict[str, Any]:
    """Fixed params, filter pushdowns (``query`` kind, one value) and the time window."""
    params: dict[str, Any] = dict(ctx.spec.params)
    for rule in ctx.spec.pushdown:
        if rule.kind != "query":
            continue
        for flt in ctx.filters.on(ctx.spec.name):
            if flt.field == rule.column and len(flt.values) == 1:
                params[rule.param] = flt.values[0]
    if win is not None and ctx.spec.since_param is not None:
        params[ctx.spec.since_param] = win[0]
        params["end_ts"] = win[1]
    return params


def shape(spec: ObjectSpec, record: Any, parent: Mapping[str, Any] | None) -> Record:
    """Apply ``rename`` and stamp the parent's fields named by ``inherit``."""
    rec: Record = dict(record) if isinstance(record, dict) else {"value": record}
    for api_name, column in spec.rename.items():
        if api_name in rec:
            rec[column] = rec.pop(api_name)
    if parent is not None:
        for column, parent_field in spec.inherit.items():
            if rec.get(column) is None:
                rec[column] = parent.get(parent_field)
    return rec


def child_path(spec: ObjectSpec, parent: Mapping[str, Any] | None) -> str:
    """The object's path, placeholders filled (percent-encoded) from the parent record."""
    values = {ph: (parent or {}).get(field) for ph, field in spec.parent_params.items()}
    return render_path(spec.path, values)


def key_of(record: Mapping[str, Any], fields: Sequence[str]) -> str:
    """A record's key as a JSON string (resume positions, done lists)."""
    return json.dumps([record.get(f) for f in fields], default=str)


def pages(
    ctx: ExtractContext,
    spec: ObjectSpec,
    path: str,
    params: Mapping[str, Any],
    start: str | None,
    page_size: int | None = None,
) -> Iterator[tuple[str | None, Page]]:
    """``(token of this page, page)``; a resume token the API rejects restarts once.

    ``page_size`` defaults to :meth:`ExtractContext.page_size`. A top-level
    listing without a time window is read once per run (:mod:`cio_replicate.extract.cache`)."""
    size = page_size if page_size is not None else ctx.page_size(spec)
    plain = spec.parent is None and spec.extractor is None and spec.since_param is None
    if ctx.listings is not None and plain and not start and not spec.newest_first:
        body = json.dumps(spec.body, sort_keys=True, default=str)
        key = (spec.method, path, json.dumps(dict(params), sort_keys=True, default=str), body, size)
        fetch = partial(_pages, ctx, spec, path, params, None, size)
        return ctx.listings.read(key, fetch, lambda item: item[1].records)
    return _pages(ctx, spec, path, params, start, size)


def _pages(
    ctx: ExtractContext,
    spec: ObjectSpec,
    path: str,
    params: Mapping[str, Any],
    start: str | None,
    page_size: int | None,
) -> Iterator[tuple[str | None, Page]]:
    first = dict(params)
    if start:
        first["start"] = start
    token = start
    try:
        for page in ctx.client.paginate(
            spec.method,
            path,
            envelope=spec.envelope,
            params=first,
            json=dict(spec.body) if spec.body is not None else None,
            page_size=page_size,
        ):
            yield token, page
            token = page.next
    except ApiError as exc:
        if not start or token != start or exc.status != 400:
            raise
        ctx.warn(f"{spec.name}: the saved page token was refused ({exc}); reading from the start")
        yield from _pages(ctx, spec, path, params, None, page_size)


def is_last(page: Page) -> bool:
    return not page.records or page.next is None


# --- an object without parent -------------------------------------------------


def listing(ctx: ExtractContext) -> Iterator[Batch]:
    spec = ctx.spec
    win = window(ctx)
    params = query_params(ctx, win)
    start = ctx.resume.start if isinstance(ctx.resume, ListingPosition) else None
    # Newest first, no time filter: the page with the first record below the
    # floor is the last one needed (the engine drops the older records anyway).
    floor = ctx.floor if spec.newest_first else None
    newest: list[int] = []  # the last cursor seen, to check the order across pages
    for _token, page in pages(ctx, spec, child_path(spec, None), params, start):
        records = [shape(spec, r, None) for r in page.records]
        seen = newest + cursors(spec, records)
        if floor is not None and any(a < b for a, b in zip(seen, seen[1:], strict=False)):
            ctx.warn(f"{spec.name}: the pages are not newest first; reading all of them")
            floor = None
        newest = seen[-1:]
        last = is_last(page) or (floor is not None and bool(seen) and seen[-1] < floor)
        records = [r for r in records if ctx.filters.keep(spec.name, r)]
        yield Batch(
            records,
            pages=1,
            resume=None if last else ListingPosition(page.next, window_pair(win)),
            done=last,
        )
        if last:
            return


def window_pair(win: list[int] | None) -> tuple[int, int] | None:
    return None if win is None else (win[0], win[1])


def cursors(spec: ObjectSpec, records: Sequence[Record]) -> list[int]:
    """The records' cursor values, in page order (records without one left out)."""
    values = (r.get(spec.cursor or "") for r in records)
    return [int(v) for v in values if isinstance(v, int | float) and not isinstance(v, bool)]
