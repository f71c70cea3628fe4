"""Child objects: one listing per parent, the parents listed, filtered or built from filters.

Above :mod:`~cio_replicate.extract.listing` in the package; an irregular
parent (people) supplies its records through its registered ``parents`` hook.

Resume position of a fan-out: a :class:`~cio_replicate.positions.FanOutPosition`
(the parent page in progress, the parents of that page done, the parents read
part way with their next page's token, the time window). Parents of the page
neither done nor in ``children`` start from their first page.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import replace
from functools import partial
from typing import Any

from ..catalog import ObjectSpec, get_object
from ..errors import NotFoundError
from ..positions import FanOutPosition, ListingPosition
from .context import Batch, ExtractContext, ParentPage, Record, Resume, hooks_of
from .listing import (
    child_path,
    is_last,
    key_of,
    listing,
    pages,
    query_params,
    shape,
    window,
    window_pair,
)
from .streams import interleave


def parent_pages(
    ctx: ExtractContext, parent: ObjectSpec, start: str | None
) -> Iterator[ParentPage]:
    """The parents to fan out over, page by page, filtered and pushed down."""
    synthetic = synthetic_parents(ctx, parent)
    if synthetic is not None:
        yield ParentPage(None, synthetic)
        return
    yield from listed_parents(ctx, parent, start)


def listed_parents(
    ctx: ExtractContext, parent: ObjectSpec, start: str | None
) -> Iterator[ParentPage]:
    """The parents as the API lists them (an irregular parent's own ``parents`` hook)."""
    source = hooks_of(parent.extractor).parents if parent.extractor is not None else None
    if source is not None:
        yield from source(ctx, start)
        return
    parent_ctx = replace(
        ctx,
        spec=parent,
        floor=None,
        resume=ListingPosition(start) if start else None,
        known=None,
    )
    token = start
    for batch in listing(parent_ctx):
        yield ParentPage(token, batch.records)
        token = batch.resume.start if isinstance(batch.resume, ListingPosition) else None


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
    resume = as_fan_out(ctx.resume)
    win = window(ctx)
    stream = spec.paginated and not spec.per_person
    first = True
    for ppage in parent_pages(ctx, parent, resume.pstart):
        done: set[str] = set(resume.done) if first else set()
        todo = [p for p in ppage.records if key_of(p, parent.key) not in done]
        keys = {key_of(p, parent.key) for p in todo}
        children = {k: t for k, t in resume.children.items() if k in keys} if first else {}
        first = False
        at = partial(FanOutPosition, ppage.token, window=window_pair(win))
        if stream:
            sources = [
                (k, partial(_child_pages, ctx, p, children.get(k)))
                for k, p in ((key_of(p, parent.key), p) for p in todo)
            ]
            for pkey, (records, count, following) in interleave(
                sources, stream_width(ctx), threads=ctx.threads
            ):
                if following is None:
                    done.add(pkey)
                    children.pop(pkey, None)
                else:
                    children[pkey] = following
                yield Batch(records, count, at(tuple(sorted(done)), dict(children)))
        else:
            buffer: list[Record] = []
            pages_in_buffer = 0
            results = ctx.fan_out(lambda p: (p, fetch_children(ctx, p)), todo)
            for p, (records, count) in results:
                buffer.extend(records)
                pages_in_buffer += count
                done.add(key_of(p, parent.key))
                if len(buffer) >= ctx.batch_size:
                    yield Batch(buffer, pages_in_buffer, at(tuple(sorted(done))))
                    buffer, pages_in_buffer = [], 0
            if buffer or pages_in_buffer:
                yield Batch(buffer, pages_in_buffer, at(tuple(sorted(done))))
    yield Batch([], 0, None, done=True)


STREAM_RECORDS = 10_000
"""Records the child streams may hold at once (up to 3 pages each: one being read,
two queued): objects with big pages (segment memberships: 30,000) stream one parent."""


def stream_width(ctx: ExtractContext) -> int:
    """Parents streamed at once: the client's concurrency, within :data:`STREAM_RECORDS`."""
    concurrency = int(getattr(ctx.client, "concurrency", 1))
    return max(1, min(concurrency, STREAM_RECORDS // (3 * (ctx.page_size() or 100))))


def as_fan_out(resume: Resume | None) -> FanOutPosition:
    """The fan-out's position (a stored position with a window only reads as a listing's)."""
    if isinstance(resume, FanOutPosition):
        return resume
    return FanOutPosition(window=None if resume is None else resume.window)


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
