"""Group commit: requests hand their event to writer threads and wait for its commit.

Each request is answered only once the transaction holding its event has committed, so
an answered 200 is on disk; events arriving while a transaction commits go into the
next one, so twenty senders cost a few transactions, not twenty. A few writers (each
with its own connection) overlap one transaction's commit with the next one's writes.
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
WRITERS = 4


class Batcher:
    """Writer threads over :class:`EventStore` s; :meth:`close` drains and stops them.

    ``store`` is the first writer's; the others get their own (``EventStore.twin``).
    """

    def __init__(
        self, store: EventStore, *, writers: int = WRITERS, max_batch: int = MAX_BATCH
    ) -> None:
        self.store = store
        self.max_batch = max_batch
        self._queue: list[tuple[Event, Future[None]]] = []
        self._cond = threading.Condition()
        self._closing = False
        self.healthy = True
        self.written = 0
        stores = [store] + [store.twin() for _ in range(writers - 1)]
        self._threads = [
            threading.Thread(target=self._run, args=(s, n == 0), name=f"cio-listen-writer-{n}")
            for n, s in enumerate(stores)
        ]
        for thread in self._threads:
            thread.daemon = True
            thread.start()

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
        return all(thread.is_alive() for thread in self._threads)

    def close(self, timeout: float = 10.0) -> None:
        """Write what is queued, then stop the threads."""
        with self._cond:
            self._closing = True
            self._cond.notify_all()
        for thread in self._threads:
            thread.join(timeout)

    def _run(self, store: EventStore, sweeps: bool) -> None:
        next_sweep = time.monotonic() + SWEEP_EVERY
        while True:
            with self._cond:
                while not self._queue and not self._closing:
                    wait = max(0.0, next_sweep - time.monotonic()) if sweeps else None
                    if not self._cond.wait(timeout=wait):
                        break
                batch = self._queue[: self.max_batch]
                del self._queue[: self.max_batch]
                done = self._closing and not self._queue and not batch
            if done:
                return
            if batch:
                self._write(store, batch)
            elif sweeps and time.monotonic() >= next_sweep:
                next_sweep = time.monotonic() + SWEEP_EVERY
                self._sweep()

    def _write(self, store: EventStore, batch: list[tuple[Event, Future[None]]]) -> None:
        try:
            store.write([event for event, _ in batch])
        except Exception as exc:
            self.healthy = False
            log.warning("could not store %d event(s): %s", len(batch), type(exc).__name__)
            log.debug("store failure", exc_info=True)
            for _, future in batch:
                future.set_exception(exc)
            return
        with self._cond:
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
