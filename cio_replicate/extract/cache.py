"""Small top-level listings, read once per run and shared by the objects that need them.

A parent object is listed by its own run and again by each child object that
fans out over it (Broadcasts: by Broadcasts, BroadcastActions,
BroadcastMessages and BroadcastTriggers). Within one run the first reader
reads the whole listing, up to :data:`MAX_RECORDS` records, and the others
(waiting for it if it is still reading) get the same pages without a call. A
listing bigger than that is not kept: the first reader streams on and the
others read it themselves, so memory stays bounded.

Reusing a listing read earlier in the same run is safe for incremental
objects: their watermarks are capped at the run's start (on the source's
clock), so whatever changes after the listing was read is read by the next run.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable, Iterator, Sized
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

T = TypeVar("T")

MAX_RECORDS = 10_000
"""Records a listing may have to be kept for the run."""


@dataclass
class _Entry(Generic[T]):
    lock: threading.Lock = field(default_factory=threading.Lock)
    pages: list[T] | None = None
    too_big: bool = False


class ListingCache:
    """Pages of listings by request (method, path, query, body, page size), for one run."""

    def __init__(self, max_records: int = MAX_RECORDS) -> None:
        self.max_records = max_records
        self._lock = threading.Lock()
        self._entries: dict[Hashable, _Entry[Any]] = {}

    def _entry(self, key: Hashable) -> _Entry[Any]:
        with self._lock:
            return self._entries.setdefault(key, _Entry())

    def read(
        self, key: Hashable, fetch: Callable[[], Iterator[T]], size: Callable[[T], Sized]
    ) -> Iterator[T]:
        """The listing's pages: kept ones, or read (and kept if small enough)."""
        entry = self._entry(key)
        read: list[T] = []
        rest: Iterator[T] | None = None
        with entry.lock:
            if entry.pages is None and not entry.too_big:
                source = fetch()
                count = 0
                for page in source:
                    read.append(page)
                    count += len(size(page))
                    if count > self.max_records:
                        entry.too_big, rest = True, source
                        break
                else:
                    entry.pages = read
        if rest is not None:  # this reader found it too big: stream on
            yield from read
            yield from rest
        elif entry.pages is not None:
            yield from entry.pages
        else:  # another reader found it too big
            yield from fetch()
