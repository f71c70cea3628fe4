"""Pages -> records, per catalog object: :func:`extract` and what it works with.

Modules depend one way (each imports only those before it)::

    streams, cache, filters   no extraction imports (threads, the listings cache, filters)
    feed                      a pass shared by two objects (streams)
    context                   Record, Batch, ExtractContext, Client, the extractor hooks
    listing                   an object without parent; request pieces, pages
    fanout                    children of every parent (a parent's ``parents`` hook)
    cost                      a fan-out's estimate (the catalog's ``cost``)
    people, objects, memberships, collections, metrics   the irregular extractors; each registers its hooks
                              under the catalog's ``extractor`` name

Everything here speaks to the API through the client (never HTTP directly)
and knows nothing of SQL. This module imports the irregular extractors, so
their hooks are registered before any extraction runs.
"""

from __future__ import annotations

from collections.abc import Iterator

from . import collections, memberships, metrics, objects, people
from .cache import ListingCache
from .context import (
    EARLIEST,
    Batch,
    Client,
    ExtractContext,
    Extractor,
    Hooks,
    Record,
    Resume,
    hooks_of,
    registered,
)
from .cost import Estimate, estimate
from .fanout import fan_out
from .feed import Feed, FeedIncomplete
from .filters import Filter, Filters, check_reach, parse_filter, parse_filters
from .listing import key_of, listing

__all__ = [
    "EARLIEST",
    "Batch",
    "Client",
    "Estimate",
    "ExtractContext",
    "Extractor",
    "Feed",
    "FeedIncomplete",
    "Filter",
    "Filters",
    "Hooks",
    "ListingCache",
    "Record",
    "Resume",
    "check_reach",
    "collections",
    "estimate",
    "extract",
    "key_of",
    "memberships",
    "metrics",
    "objects",
    "parse_filter",
    "parse_filters",
    "people",
    "registered",
]


def extract(ctx: ExtractContext) -> Iterator[Batch]:
    """The batches of one object, from its resume point to the end."""
    if ctx.spec.extractor is not None:
        return hooks_of(ctx.spec.extractor).run(ctx)
    if ctx.spec.parent is not None:
        return fan_out(ctx)
    return listing(ctx)
