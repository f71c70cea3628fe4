"""Pages -> records, per catalog object: listings, parent fan-out, resume points.

Everything here speaks to the API through the client (never HTTP directly) and
knows nothing of SQL. An extraction yields :class:`Batch` es; each batch is
committed by the engine together with its ``resume`` position, so a killed
run continues after the last committed batch. Resume positions are plain
JSON values:

- a listing: ``{"start": <next page token>, "window": [start_ts, end_ts]}``;
- a fan-out over parents: ``{"pstart": <token of the parent page in
  progress>, "done": [<parent keys finished in that page>], "children":
  {<parent key>: <token of its next page>, ...}, "window": ...}``. Parents of
  the page neither done nor in ``children`` start from their first page.
  ``"child": {"parent": <key>, "start": <token>} | None`` (one parent in
  progress, written by earlier versions) is still read.

A resume token the API no longer accepts (400) restarts that listing from the
beginning: records are written by key, so reading some twice is harmless,
and nothing is skipped.

Irregular objects (people, custom objects, segment memberships) are named
functions in :mod:`cio_replicate.extractors`.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import partial
from typing import Any, Protocol, TypeVar

from .catalog import ObjectSpec, get_object
from .errors import ApiError, NotFoundError
from .extractors.filters import Filters
from .http import Page, render_path
from .listings import ListingCache
from .streams import interleave

log = logging.getLogger("cio_replicate.extract")

Record = dict[str, Any]
Resume = Mapping[str, Any]
T = TypeVar("T")
R = TypeVar("R")

EARLIEST = 1
"""``start_ts`` of a first read: the message lists cover six months without one."""


class Client(Protocol):
    """The part of :class:`cio_replicate.http.CioClient` extraction uses."""

    concurrency: int
    """Requests the client runs at once (``fan_out`` threads, child streams)."""

    def app(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
    ) -> Any: ...

    def paginate(
        self,
        method: str,
        path: str,
        *,
        envelope: str | None,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        page_size: int | None = None,
        limit_param: str = "limit",
    ) -> Iterator[Page]: ...

    def fan_out(self, fn: Callable[[T], R], items: Iterable[T]) -> Iterator[R]: ...


KnownKeys = Callable[[Sequence[tuple[Any, ...]]], set[tuple[Any, ...]]]
"""Which of these keys the target table already holds (for "only new people")."""


@dataclass(frozen=True)
class Batch:
    """Records to commit together, and where to continue once they are committed."""

    records: list[Record]
    pages: int = 0
    resume: Resume | None = None
    done: bool = False
    """True on the last batch of the object."""


@dataclass(frozen=True)
class ExtractContext:
    client: Client
    spec: ObjectSpec
    floor: int | None
    """Oldest cursor value still needed (watermark - lookback); None reads everything."""
    until: int
    """The run's start time (unix seconds): the end of a server-side time window."""
    resume: Resume | None = None
    filters: Filters = field(default_factory=Filters)
    batch_size: int = 1000
    known: KnownKeys | None = None
    warn: Callable[[str], None] = log.warning
    feed: Any = None
    """A people pass shared with another object of the run
    (:class:`cio_replicate.extractors.people.PeopleFeed`), or None."""
    listings: ListingCache | None = None
    """The run's small top-level listings, read once (parents of several objects)."""

    def page_size(self, spec: ObjectSpec | None = None) -> int | None:
        """Records per request: the object's maximum, at most one batch for objects
        that commit per page (a full refresh commits once, so it asks for the most)."""
        spec = spec or self.spec
        if not spec.paginated or spec.page_size is None:
            return None
        if spec.mode == "full":
            return spec.page_size
        return max(1, min(spec.page_size, self.batch_size))


Extractor = Callable[[ExtractContext], Iterator[Batch]]


def extract(ctx: ExtractContext) -> Iterator[Batch]:
    """The batches of one object, from its resume point to the end."""
    if ctx.spec.extractor is not None:
        from .extractors import get_extractor

        return get_extractor(ctx.spec.extractor)(ctx)
    if ctx.spec.parent is not None:
        return fan_out(ctx)
    return listing(ctx)


# --- request pieces ---------------------------------------------------------


def window(ctx: ExtractContext) -> list[int] | None:
    """``[start_ts, end_ts]`` for objects the API filters by time (kept across resumes)."""
    if ctx.spec.since_param is None:
        return None
    if ctx.resume and ctx.resume.get("window"):
        start, end = ctx.resume["window"]
        return [int(start), int(end)]
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
    listing without a time window is read once per run (:mod:`cio_replicate.listings`)."""
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
    start = ctx.resume.get("start") if ctx.resume else None
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
            resume=None if last else {"start": page.next, "window": win},
            done=last,
        )
        if last:
            return


def cursors(spec: ObjectSpec, records: Sequence[Record]) -> list[int]:
    """The records' cursor values, in page order (records without one left out)."""
    values = (r.get(spec.cursor or "") for r in records)
    return [int(v) for v in values if isinstance(v, int | float) and not isinstance(v, bool)]


# --- a child object: one listing per parent -----------------------------------


@dataclass(frozen=True)
class ParentPage:
    token: str | None
    """The token that fetched this page (None for the first page)."""
    records: list[Record]


def parent_pages(
    ctx: ExtractContext, parent: ObjectSpec, start: str | None
) -> Iterator[ParentPage]:
    """The parents to fan out over, page by page, filtered and pushed down."""
    synthetic = synthetic_parents(ctx, parent)
    if synthetic is not None:
        yield ParentPage(None, synthetic)
        return
    if parent.extractor == "customers":
        from .extractors.people import people_pages

        yield from people_pages(ctx, start)
        return
    parent_ctx = replace(
        ctx,
        spec=parent,
        floor=None,
        resume={"start": start} if start else None,
        known=None,
    )
    token = start
    for batch in listing(parent_ctx):
        yield ParentPage(token, batch.records)
        token = batch.resume.get("start") if batch.resume else None


def _as_id(value: str) -> Any:
    return int(value) if value.lstrip("-").isdigit() else value


def synthetic_parents(ctx: ExtractContext, parent: ObjectSpec) -> list[Record] | None:
    """Parent records built from the filters alone (no listing call), or None.

    ``Child.<column>=v`` where the child declares a ``parent`` pushdown, or
    ``Parent.<field>=v`` on the parent fields the child's path and inherited
    columns need: the path can be filled directly.
    """
    spec = ctx.spec
    for rule in spec.pushdown:
        if rule.kind != "parent":
            continue
        for flt in ctx.filters.on(spec.name):
            if flt.field == rule.column:
                field_name = spec.parent_params[rule.param]
                return [{field_name: _as_id(v)} for v in flt.values]
    on_parent = ctx.filters.on(parent.name)
    needed = set(spec.parent_params.values()) | set(spec.inherit.values())
    if on_parent and len(on_parent) == 1 and on_parent[0].field in needed and len(needed) == 1:
        flt = on_parent[0]
        return [{flt.field: _as_id(v)} for v in flt.values]
    return None


def fetch_children(ctx: ExtractContext, parent: Mapping[str, Any]) -> tuple[list[Record], int]:
    """All child records of one parent (all pages) and the pages read."""
    records: list[Record] = []
    count = 0
    for page_records, pages_read, _next in _child_pages(ctx, parent, None):
        records.extend(page_records)
        count += pages_read
    return records, count


def fan_out(ctx: ExtractContext) -> Iterator[Batch]:
    """Children of every parent; commits at least once per parent page.

    Per-person and single-page children are fetched concurrently
    (``client.fan_out``) and committed in batches; paginated children of a few
    big parents (message lists) are streamed page by page, up to
    ``client.concurrency`` parents at once, so a parent with a million messages
    never sits in memory and a kill resumes inside it.
    """
    spec = ctx.spec
    parent = get_object(spec.parent or "")
    resume = dict(ctx.resume or {})
    win = window(ctx)
    stream = spec.paginated and not spec.per_person
    first = True
    for ppage in parent_pages(ctx, parent, resume.get("pstart")):
        done: set[str] = set(resume.get("done") or []) if first else set()
        todo = [p for p in ppage.records if key_of(p, parent.key) not in done]
        keys = {key_of(p, parent.key) for p in todo}
        children = {k: t for k, t in in_progress(resume).items() if k in keys} if first else {}
        first = False
        at = {"pstart": ppage.token, "window": win}
        if stream:
            sources = [
                (k, partial(_child_pages, ctx, p, children.get(k)))
                for k, p in ((key_of(p, parent.key), p) for p in todo)
            ]
            for pkey, (records, count, following) in interleave(sources, stream_width(ctx)):
                if following is None:
                    done.add(pkey)
                    children.pop(pkey, None)
                else:
                    children[pkey] = following
                yield Batch(
                    records, count, {**at, "done": sorted(done), "children": dict(children)}
                )
        else:
            buffer: list[Record] = []
            pages_in_buffer = 0
            results = ctx.client.fan_out(lambda p: (p, fetch_children(ctx, p)), todo)
            for p, (records, count) in results:
                buffer.extend(records)
                pages_in_buffer += count
                done.add(key_of(p, parent.key))
                if len(buffer) >= ctx.batch_size:
                    yield Batch(
                        buffer, pages_in_buffer, {**at, "done": sorted(done), "children": {}}
                    )
                    buffer, pages_in_buffer = [], 0
            if buffer or pages_in_buffer:
                yield Batch(buffer, pages_in_buffer, {**at, "done": sorted(done), "children": {}})
    yield Batch([], 0, None, done=True)


STREAM_RECORDS = 10_000
"""Records the child streams may hold at once (up to 3 pages each: one being read,
two queued): objects with big pages (segment memberships: 30,000) stream one parent."""


def stream_width(ctx: ExtractContext) -> int:
    """Parents streamed at once: the client's concurrency, within :data:`STREAM_RECORDS`."""
    concurrency = int(getattr(ctx.client, "concurrency", 1))
    return max(1, min(concurrency, STREAM_RECORDS // (3 * (ctx.page_size() or 100))))


def in_progress(resume: Resume) -> dict[str, str]:
    """Parents read part way, ``{key: next token}`` (earlier versions' ``child`` too)."""
    children = {str(k): str(t) for k, t in (resume.get("children") or {}).items() if t}
    old = resume.get("child")
    if isinstance(old, Mapping) and old.get("parent") is not None and old.get("start"):
        children.setdefault(str(old["parent"]), str(old["start"]))
    return children


ChildPage = tuple[list[Record], int, str | None]
"""One page of a parent's children: records, pages read, next token (None: parent done)."""


def _child_pages(
    ctx: ExtractContext, parent: Mapping[str, Any], start: str | None
) -> Iterator[ChildPage]:
    """One parent's children page by page, from ``start``; a vanished parent is skipped."""
    spec = ctx.spec
    path = child_path(spec, parent)
    params = query_params(ctx, window(ctx))
    try:
        for _token, page in pages(ctx, spec, path, params, start):
            records = [shape(spec, r, parent) for r in page.records]
            records = [r for r in records if ctx.filters.keep(spec.name, r)]
            yield records, 1, None if is_last(page) else page.next
    except NotFoundError:
        ctx.warn(f"{spec.name}: {path} answered 404 (parent gone); skipped")
        yield [], 0, None
