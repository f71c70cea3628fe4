"""Several generators run on threads at once, merged in the order their items arrive.

    for key, item in interleave([(key, start), ...], width=4):
        ...

``start()`` returns one stream's iterator; it runs on a thread of the run's budget
(:class:`cio_replicate.threads.Threads`, or one of ``width`` threads of this call),
inside a copy of the consumer's context taken when the stream is started (so
context variables, such as the request log's per-object scope, follow it). At
most ``width`` streams run at once; the next source is taken when one ends; when
the budget has no thread free and no stream runs, the consumer reads the next
stream itself. Items of one stream keep their order. Finished items wait in one
queue of at most ``width * depth``; a thread waiting for room holds one more, so
at most ``width * (depth + 1)`` items exist besides the one the consumer holds.

An exception in a stream is raised to the consumer. When the consumer stops
(that exception, its own, or ``close()``), every stream is told to stop and the
consumer takes what they put until each has ended (no stream thread outlives the
generator); a thread in the middle of producing an item (an HTTP request)
finishes that item first, then drops it.

With ``width`` 1 the streams run one after the other in the consumer's thread.
"""

from __future__ import annotations

import itertools
import queue
import threading
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future
from typing import Any, TypeVar

from ..threads import Threads

K = TypeVar("K")
T = TypeVar("T")

POLL = 0.05
"""Seconds :func:`offer` waits for room before it looks at the stop flag again."""


class _End:
    """A stream is exhausted (or stopped)."""

    def __init__(self, ticket: int) -> None:
        self.ticket = ticket


class _Failed(_End):
    def __init__(self, ticket: int, error: BaseException) -> None:
        super().__init__(ticket)
        self.error = error


def interleave(
    sources: Iterable[tuple[K, Callable[[], Iterator[T]]]],
    width: int,
    *,
    depth: int = 2,
    name: str = "cio-stream",
    threads: Threads | None = None,
) -> Iterator[tuple[K, T]]:
    """``(key, item)`` from up to ``width`` streams at once, in arrival order."""
    if width <= 1:
        for key, start in sources:
            for item in start():
                yield key, item
        return
    own = Threads(width, name=name) if threads is None else None
    budget = threads or own
    assert budget is not None
    box: queue.Queue[tuple[K, Any]] = queue.Queue(maxsize=width * max(1, depth))
    stop = threading.Event()
    pending = iter(sources)
    held: tuple[K, Callable[[], Iterator[T]]] | None = None
    running: dict[int, Future[None]] = {}  # streams on threads, by ticket, until their end mark
    tickets = itertools.count()
    try:
        while True:
            inline = None
            while len(running) < width:
                source = held or next(pending, None)
                held = None
                if source is None:
                    break
                ticket = next(tickets)
                future = budget.try_submit(_pump, ticket, source[0], source[1], box, stop)
                if future is not None:
                    running[ticket] = future
                elif not running:
                    inline = source  # no thread free: the consumer reads this one itself
                    break
                else:
                    held = source  # taken again when a stream ends
                    break
            if inline is not None:
                for item in inline[1]():
                    yield inline[0], item
                continue
            if not running:
                return
            key, item = box.get()
            if not isinstance(item, _End):
                yield key, item
                continue
            running.pop(item.ticket).result()  # its thread is free once this returns
            if isinstance(item, _Failed):
                raise item.error
    finally:
        stop.set()
        while running:  # every stream puts an end mark last: take items until then
            item = box.get()[1]
            if isinstance(item, _End):
                running.pop(item.ticket).result()
        if own is not None:
            own.shutdown()


def _pump(
    ticket: int,
    key: K,
    start: Callable[[], Iterator[T]],
    box: queue.Queue[tuple[K, Any]],
    stop: threading.Event,
) -> None:
    """One stream's thread: its items into the queue, then an end (or failure) mark."""
    end: _End = _End(ticket)
    try:
        iterator = start()
        try:
            for item in iterator:
                box.put((key, item))
                if stop.is_set():
                    return
        finally:
            close = getattr(iterator, "close", None)
            if close is not None:
                close()
    except BaseException as exc:  # handed to the consumer, which raises it
        end = _Failed(ticket, exc)
    finally:
        box.put((key, end))


def offer(box: queue.Queue[T], item: T, stop: threading.Event) -> bool:
    """Put ``item`` once there is room; False if ``stop`` was set first (item dropped)."""
    while not stop.is_set():
        try:
            box.put(item, timeout=POLL)
            return True
        except queue.Full:
            continue
    return False
