"""What every extraction works with: records, batches, the client it may use,
the context of one object's read, and the hooks irregular extractors register.

The bottom of :mod:`cio_replicate.extract` (above it: listing, fan-out, the
irregular extractors); it imports none of them. Everything here speaks to the
API through the client (never HTTP directly) and knows nothing of SQL.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from ..catalog import ObjectSpec
from ..errors import UsageError
from ..http import Page
from ..http.pagination import Check
from ..positions import At
from ..threads import Threads
from .cache import ListingCache
from .feed import Feed
from .filters import Filters

log = logging.getLogger("cio_replicate.extract")

Record = dict[str, Any]
Resume = At
T = TypeVar("T")
R = TypeVar("R")

EARLIEST = 1
"""``start_ts`` of a first read: the message lists cover six months without one."""


class Client(Protocol):
    """The part of :class:`cio_replicate.http.CioClient` extraction uses."""

    concurrency: int
    """Requests the client runs at once (``fan_out`` threads, child streams)."""
    stopping: threading.Event
    """Set when the run is asked to stop: requests raise :class:`~cio_replicate.errors.Interrupted`."""

    def app(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        idempotent: bool | None = None,
        check: Check | None = None,
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

    def fan_out(
        self, fn: Callable[[T], R], items: Iterable[T], threads: Threads | None = None
    ) -> Iterator[R]: ...


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
    listed: list[Record] = field(default_factory=list)
    """Records the read saw but does not write (unchanged since the floor): their keys
    still count as present, so deletes (``engine/deletes.py``) do not mark them."""


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
    feed: Feed | None = None
    """A pass shared with another object of the run (the catalog's ``feeds``), or None."""
    listings: ListingCache | None = None
    """The run's small top-level listings, read once (parents of several objects)."""
    threads: Threads | None = None
    """The run's thread budget for fan-outs and child streams (None: one per call)."""

    def fan_out(self, fn: Callable[[T], R], items: Iterable[T]) -> Iterator[R]:
        """``client.fan_out`` on the run's thread budget."""
        return self.client.fan_out(fn, items, self.threads)

    def page_size(self, spec: ObjectSpec | None = None) -> int | None:
        """Records per request: the object's maximum, at most one batch for objects
        that commit per page (a full refresh commits once, so it asks for the most)."""
        spec = spec or self.spec
        if not spec.paginated or spec.page_size is None:
            return None
        if spec.mode == "full":
            return spec.page_size
        return max(1, min(spec.page_size, self.batch_size))


@dataclass(frozen=True)
class ParentPage:
    token: str | None
    """The token that fetched this page (None for the first page)."""
    records: list[Record]


Extractor = Callable[[ExtractContext], Iterator[Batch]]
ParentSource = Callable[[ExtractContext, str | None], Iterator[ParentPage]]
"""The parent records of a fan-out, page by page from a page token."""


@dataclass(frozen=True)
class Hooks:
    """An irregular extractor, under the catalog's ``extractor`` name."""

    run: Extractor
    """The object's batches (instead of a listing or a fan-out)."""
    parents: ParentSource | None = None
    """Its records as parents of other objects' fan-outs (None: listed like any object)."""


_HOOKS: dict[str, Hooks] = {}


def register(name: str, hooks: Hooks) -> None:
    """Declare the extractor the catalog calls ``name`` (done once, at import)."""
    _HOOKS[name] = hooks


def hooks_of(name: str) -> Hooks:
    try:
        return _HOOKS[name]
    except KeyError:
        raise UsageError(f"the catalog names an unknown extractor {name!r}") from None


def registered() -> frozenset[str]:
    """The extractor names registered (the catalog's checks list the same)."""
    return frozenset(_HOOKS)
