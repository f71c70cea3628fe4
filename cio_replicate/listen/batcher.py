"""Group commit: requests hand their event to one writer thread and wait for its commit.

Each request is answered only once the transaction holding its event has committed, so
an answered 200 is on disk; events arriving while a transaction commits go into the
next one, so twenty senders cost a few transactions, not twenty.
"""

from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import Future

from .events import Event
from .store import EventStore

log = logging.getLogger("cio_replicate.listen")

MAX_BATCH = 500
SWEEP_EVERY = 60.0


class Batcher:
    """One writer thread over an :class:`EventStore`; :meth:`close` drains and stops it."""

    def __init__(self, store: EventStore, *, max_batch: int = MAX_BATCH) -> None:
        self.store = store
        self.max_batch = max_batch
        self._queue: list[tuple[Event, Future[None]]] = []
        self._cond = threading.Condition()
        self._closing = False
        self.healthy = True
        self.written = 0
        self._thread = threading.Thread(target=self._run, name="cio-listen-writer", daemon=True)
        self._thread.start()

    def submit(self, event: Event) -> Future[None]:
        """The future is done when the event is committed (or failed: its exception)."""
        future: Future[None] = Future()
        with self._cond:
            if self._closing:
                future.set_exception(RuntimeError("the receiver is stopping"))
                return future
            self._queue.append((event, future))
            self._cond.notify()
        return future

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    def close(self, timeout: float = 10.0) -> None:
        """Write what is queued, then stop the thread."""
        with self._cond:
            self._closing = True
            self._cond.notify()
        self._thread.join(timeout)

    def _run(self) -> None:
        next_sweep = time.monotonic() + SWEEP_EVERY
        while True:
            with self._cond:
                while not self._queue and not self._closing:
                    if not self._cond.wait(timeout=max(0.0, next_sweep - time.monotonic())):
                        break
                batch = self._queue[: self.max_batch]
                del self._queue[: self.max_batch]
                done = self._closing and not self._queue and not batch
            if done:
                return
            if batch:
                self._write(batch)
            elif time.monotonic() >= next_sweep:
                next_sweep = time.monotonic() + SWEEP_EVERY
                self._sweep()

    def _write(self, batch: list[tuple[Event, Future[None]]]) -> None:
        try:
            self.store.write([event for event, _ in batch])
        except Exception as exc:
            self.healthy = False
            log.warning("could not store %d event(s): %s", len(batch), type(exc).__name__)
            log.debug("store failure", exc_info=True)
            for _, future in batch:
                future.set_exception(exc)
            return
        self.healthy = True
        self.written += len(batch)
        for _, future in batch:
            future.set_result(None)

    def _sweep(self) -> None:
        try:
            found = self.store.sweep()
        except Exception as exc:
            log.warning("could not re-apply pending events: %s", type(exc).__name__)
            return
        if found:
            log.info("applied %d pending event(s) to deliveries replicated meanwhile", found)
