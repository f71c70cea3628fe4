"""Several generators run on threads at once, merged in the order their items arrive.

    for key, item in interleave([(key, start), ...], width=4):
        ...

``start()`` returns one stream's iterator; it runs on a thread of its own,
inside a copy of the consumer's context taken when the stream is started (so
context variables, such as the request log's per-object scope, follow it). At
most ``width`` streams run at once; the next source is taken when one ends.
Items of one stream keep their order. Finished items wait in one queue of at
most ``width * depth``; a thread waiting for room holds one more, so at most
``width * (depth + 1)`` items exist besides the one the consumer holds.

An exception in a stream is raised to the consumer. When the consumer stops
(that exception, its own, or ``close()``), every thread is told to stop and is
joined before the generator returns; a thread in the middle of producing an
item (an HTTP request) finishes that item first, then drops it.

With ``width`` 1 the streams run one after the other in the consumer's thread.
"""

from __future__ import annotations

import contextvars
import queue
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import Any, TypeVar

K = TypeVar("K")
T = TypeVar("T")

POLL = 0.05
"""Seconds a blocked thread waits before it looks at the stop flag again."""


class _End:
    """A stream is exhausted."""


class _Failed:
    def __init__(self, error: BaseException) -> None:
        self.error = error


def interleave(
    sources: Iterable[tuple[K, Callable[[], Iterator[T]]]],
    width: int,
    *,
    depth: int = 2,
    name: str = "cio-stream",
) -> Iterator[tuple[K, T]]:
    """``(key, item)`` from up to ``width`` streams at once, in arrival order."""
    if width <= 1:
        for key, start in sources:
            for item in start():
                yield key, item
        return
    box: queue.Queue[tuple[K, Any]] = queue.Queue(maxsize=width * max(1, depth))
    stop = threading.Event()
    threads: list[threading.Thread] = []
    pending = iter(sources)
    running = 0
    started = 0
    try:
        while True:
            while running < width:
                source = next(pending, None)
                if source is None:
                    break
                key, start = source
                started += 1
                thread = threading.Thread(
                    target=contextvars.copy_context().run,
                    args=(_pump, key, start, box, stop),
                    name=f"{name}-{started}",
                    daemon=True,
                )
                thread.start()
                threads = [t for t in threads if t.is_alive()]
                threads.append(thread)
                running += 1
            if running == 0:
                return
            key, item = box.get()
            if isinstance(item, _End):
                running -= 1
            elif isinstance(item, _Failed):
                raise item.error
            else:
                yield key, item
    finally:
        stop.set()
        for thread in threads:
            while thread.is_alive():
                _drain(box)
                thread.join(POLL)
        _drain(box)


def _pump(
    key: K,
    start: Callable[[], Iterator[T]],
    box: queue.Queue[tuple[K, Any]],
    stop: threading.Event,
) -> None:
    """One stream's thread: its items into the queue, then an end (or failure) mark."""

    def put(item: Any) -> bool:
        return offer(box, (key, item), stop)

    try:
        iterator = start()
        try:
            for item in iterator:
                if not put(item) or stop.is_set():
                    return
        finally:
            close = getattr(iterator, "close", None)
            if close is not None:
                close()
    except BaseException as exc:  # handed to the consumer, which raises it
        put(_Failed(exc))
        return
    put(_End())


def offer(box: queue.Queue[T], item: T, stop: threading.Event) -> bool:
    """Put ``item`` once there is room; False if ``stop`` was set first (item dropped)."""
    while not stop.is_set():
        try:
            box.put(item, timeout=POLL)
            return True
        except queue.Full:
            continue
    return False


def _drain(box: queue.Queue[Any]) -> None:
    try:
        while True:
            box.get_nowait()
    except queue.Empty:
        pass
