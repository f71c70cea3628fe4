"""Client-side rate limiting: smooth spacing per named budget.

Customer.io's 429s carry little information, so the best policy is never to
cause one. Each budget hands out start slots spaced ``1 / rate`` apart (no
bursts: an idle limiter does not bank credit), with a small headroom so that
network jitter cannot squeeze one extra request into a server-side second.
A 429 received anyway holds the whole budget for its Retry-After.

There is no process-wide registry: whoever composes a client makes one limiter
per budget and gives it to the client; clients share a budget only when given
the same limiter (on purpose).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

HEADROOM = 0.96
"""Requests start at most at rate * HEADROOM: ~4% spare for jitter in arrival times."""

Clock = Callable[[], float]
Sleep = Callable[[float], None]


def pause(sleep: Sleep, seconds: float, stop: threading.Event | None = None) -> bool:
    """Sleep ``seconds``; False if ``stop`` was set (on the real clock, setting it ends
    the wait at once: ``stop.wait``). An injected ``sleep`` (a test's fake clock) is
    called as is."""
    if stop is not None and sleep is time.sleep:
        return not stop.wait(seconds)
    sleep(seconds)
    return stop is None or not stop.is_set()


class RateLimiter:
    """Thread-safe spacing of request starts; clock and sleep are injectable."""

    def __init__(
        self,
        rate: float,
        *,
        name: str = "",
        clock: Clock = time.monotonic,
        sleep: Sleep = time.sleep,
    ) -> None:
        self.name = name
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._next_free = float("-inf")
        self._interval = 0.0
        self.set_rate(rate)

    @property
    def rate(self) -> float:
        return self._rate

    @property
    def interval(self) -> float:
        """Seconds between two request starts."""
        return self._interval

    def set_rate(self, rate: float) -> None:
        if rate <= 0:
            raise ValueError(f"rate must be > 0, got {rate}")
        with self._lock:
            self._rate = rate
            self._interval = 1.0 / (rate * HEADROOM)

    def acquire(self, stop: threading.Event | None = None) -> float:
        """Wait for the next start slot; return the seconds waited (the wait ends
        early once ``stop`` is set: the caller then sends nothing)."""
        with self._lock:
            now = self._clock()
            slot = max(now, self._next_free)
            self._next_free = slot + self._interval
        wait = slot - now
        if wait > 0:
            pause(self._sleep, wait, stop)
        return max(wait, 0.0)

    def hold(self, seconds: float) -> None:
        """Push every later start at least ``seconds`` into the future (after a 429)."""
        with self._lock:
            self._next_free = max(self._next_free, self._clock() + seconds)
