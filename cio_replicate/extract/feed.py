"""One pass shared by two objects of a run, from a producer thread to a consumer thread.

The catalog declares the pairs (``feeds``): CustomersAttributes reads every
person anyway, so when a run replicates Customers too, each chunk of people
it fetches is handed to Customers through a :class:`Feed`, and people are
searched and fetched once, not twice.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from typing import Any

from ..errors import Interrupted
from .streams import offer


class FeedIncomplete(Exception):
    """The shared pass stopped before the end (its object failed or was skipped)."""


_COMPLETE, _INCOMPLETE, _INTERRUPTED = object(), object(), object()


class Feed:
    """Chunks of records from the producer (``producer``: its object's name) to a consumer.

    The producer publishes each chunk it fetched and closes the feed when its
    pass ends; the consumer reads them. The queue is short, so memory stays
    flat; a consumer that stopped (or never started) detaches and the producer
    no longer waits for it.
    """

    def __init__(self, producer: str, depth: int = 4) -> None:
        self.producer = producer
        self._queue: queue.Queue[object] = queue.Queue(depth)
        self._detached = threading.Event()
        self._closed = False
        self._lock = threading.Lock()

    def publish(self, chunk: list[dict[str, Any]]) -> None:
        self._put(chunk)

    def close(self, *, complete: bool, interrupted: bool = False) -> None:
        """End of the pass (the first call counts: later ones are no-ops); ``interrupted``:
        it ended early because the run was asked to stop."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
        self._put(_COMPLETE if complete else _INTERRUPTED if interrupted else _INCOMPLETE)

    def detach(self) -> None:
        self._detached.set()

    def _put(self, item: object) -> None:
        offer(self._queue, item, self._detached)  # dropped once the consumer is gone

    def chunks(self) -> Iterator[list[dict[str, Any]]]:
        """The chunks, in order; :class:`FeedIncomplete` if the pass stopped early
        (:class:`Interrupted` if it stopped because the run was asked to)."""
        while True:
            item = self._queue.get()
            if item is _COMPLETE:
                return
            if item is _INTERRUPTED:
                raise Interrupted("interrupted: the shared people pass stopped")
            if item is _INCOMPLETE:
                raise FeedIncomplete(f"the shared people pass ({self.producer}) stopped early")
            yield item  # type: ignore[misc]
