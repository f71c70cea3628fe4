"""The sandbox clock: integer unix seconds, advanced explicitly by tests.

It is callable (returns float seconds) so it can be injected wherever a
`cio_replicate.clock.Clock` is expected. With `live=True` (the served sandbox) it
also follows wall time from the moment it was created.
"""

from __future__ import annotations

import threading
import time

from .constants import EPOCH


class SandboxClock:
    def __init__(self, start: int = EPOCH, *, live: bool = False) -> None:
        self._start = start
        self._offset = 0
        self._live = live
        self._wall0 = time.monotonic()
        self._lock = threading.Lock()

    def now(self) -> int:
        with self._lock:
            elapsed = int(time.monotonic() - self._wall0) if self._live else 0
            return self._start + self._offset + elapsed

    def advance(self, seconds: int | float) -> int:
        if seconds < 0:
            raise ValueError("the sandbox clock never goes back")
        with self._lock:
            self._offset += int(seconds)
        return self.now()

    def __call__(self) -> float:
        return float(self.now())
