"""Collections with their contents.

``GET /v1/collections`` lists every collection in one answer (no paging, no
time filter); each collection's stored data is a separate call, ``GET
/v1/collections/{id}/content``, whose body is the data itself (a list of
objects, or an object). Only collections at or above the read floor (their
``updated_at`` moved since the watermark, less the lookback) have their
contents fetched, concurrently; the record gets them as ``data``. A collection
deleted between the listing and its content call (404) is skipped with a
warning.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from ..errors import NotFoundError
from ..http import render_path
from .context import Batch, ExtractContext, Hooks, Record, register
from .listing import child_path, cursors, pages, shape

CONTENT_PATH = "/v1/collections/{collection_id}/content"


def content_path(collection_id: Any) -> str:
    return render_path(CONTENT_PATH, {"collection_id": collection_id})


def with_contents(ctx: ExtractContext, records: list[Record]) -> Iterator[Record]:
    """The records with ``data`` (their contents), fetched side by side."""

    def fetch(record: Mapping[str, Any]) -> Record | None:
        path = content_path(record.get("id"))
        try:
            body = ctx.client.app("GET", path)
        except NotFoundError:
            ctx.warn(f"{ctx.spec.name}: {path} answered 404 (collection gone); skipped")
            return None
        return {**record, "data": body}

    for found in ctx.fan_out(fetch, records):
        if found is not None:
            yield found


def collections(ctx: ExtractContext) -> Iterator[Batch]:
    spec = ctx.spec
    listed: list[Record] = []
    calls = 0
    for _token, page in pages(ctx, spec, child_path(spec, None), dict(spec.params), None):
        calls += 1
        listed.extend(shape(spec, r, None) for r in page.records)
    wanted = [r for r in listed if _moved(ctx, r) and ctx.filters.keep(spec.name, r)]
    for start in range(0, len(wanted), ctx.batch_size):
        chunk = wanted[start : start + ctx.batch_size]
        yield Batch(list(with_contents(ctx, chunk)), calls + len(chunk))
        calls = 0
    unchanged = [r for r in listed if not _moved(ctx, r)]  # still there: not deleted
    yield Batch([], calls, done=True, listed=unchanged)


def _moved(ctx: ExtractContext, record: Record) -> bool:
    """At or above the read floor (a record without ``updated_at`` is kept)."""
    value = cursors(ctx.spec, [record])
    return ctx.floor is None or not value or value[0] >= ctx.floor


register("collections", Hooks(collections))
