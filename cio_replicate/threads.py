"""One thread budget for the work an object runs at once (fan-out calls, child streams).

A run creates one :class:`Threads` (``limit``: the client's concurrency) and passes it
down (``Services.threads`` -> ``ExtractContext.threads``); every object's fan-outs and
streams take their threads from it, instead of each opening a pool of its own.

Work is never queued behind a full budget: :meth:`Threads.try_submit` answers None
when every thread is taken, and the caller then does the work itself. So a task that
submits more work (a stream whose records fan out) can never wait for a thread held
by its own caller: there is no starvation, whatever the nesting. The objects of a run
are the outermost level and run on the run's own threads (``engine/run.py``).
"""

from __future__ import annotations

import contextvars
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor, wait
from typing import Any, TypeVar

T = TypeVar("T")
R = TypeVar("R")

__all__ = ["Threads"]


class Threads:
    """At most ``limit`` threads at work; a caller that finds none free works itself."""

    def __init__(self, limit: int, *, name: str = "cio-work") -> None:
        self.limit = max(1, limit)
        self._pool = ThreadPoolExecutor(self.limit, thread_name_prefix=name)
        self._free = threading.BoundedSemaphore(self.limit)

    def try_submit(self, fn: Callable[..., R], *args: Any) -> Future[R] | None:
        """``fn(*args)`` on a free thread, in a copy of the caller's context (the request
        log's per-object scope follows it); None when no thread is free."""
        if not self._free.acquire(blocking=False):
            return None
        run = contextvars.copy_context().run

        def work() -> R:
            try:
                return run(fn, *args)
            finally:
                self._free.release()  # before the future is done: waiting on it frees a thread

        try:
            return self._pool.submit(work)
        except BaseException:
            self._free.release()
            raise

    def map(
        self, fn: Callable[[T], R], items: Iterable[T], check: Callable[[], None] = lambda: None
    ) -> Iterator[R]:
        """``fn`` over ``items``, results in input order; at most ``2 x limit`` items in
        flight, and never more at work than the budget's threads (the caller works only
        when others hold every thread and none of its own calls is running).
        ``check()`` runs before each item is started (it raises to stop). The first
        exception (in input order) propagates; on return every started call has ended."""
        pending: deque[Future[R]] = deque()
        try:
            for item in items:
                check()
                future = self.try_submit(fn, item)
                while future is None and pending:  # wait for a thread of ours to free
                    yield pending.popleft().result()
                    future = self.try_submit(fn, item)
                # no thread free and none of ours busy: the budget is others'; work here
                pending.append(future if future is not None else _done(fn, item))
                if len(pending) >= 2 * self.limit:
                    yield pending.popleft().result()
            while pending:
                yield pending.popleft().result()
        finally:
            for future in pending:
                future.cancel()
            wait(pending)

    def shutdown(self) -> None:
        """Wait for the work in progress to end, then release the threads."""
        self._pool.shutdown(wait=True, cancel_futures=True)

    def __enter__(self) -> Threads:
        return self

    def __exit__(self, *exc: object) -> None:
        self.shutdown()


def _done(fn: Callable[[T], R], item: T) -> Future[R]:
    """``fn(item)`` run here, as a finished future."""
    future: Future[R] = Future()
    try:
        future.set_result(fn(item))
    except Exception as exc:
        future.set_exception(exc)
    return future
