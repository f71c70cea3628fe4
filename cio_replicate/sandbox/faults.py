"""Injected trouble: latency, 5xx answers, truncated bodies, bursts of 429, and the App API
rate limit (10 req/s in the real service; here configurable, off by default)."""

from __future__ import annotations

import random
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Faults:
    latency: float = 0.0  # seconds added to every request
    error_rate: float = 0.0  # share of requests answered 500/502/503 (before they take effect)
    truncate_rate: float = 0.0  # share of 2xx JSON bodies cut in half (after they take effect)
    burst_429_every: int = 0  # every Nth request starts a burst of 429s; 0 = never
    burst_429_length: int = 3
    seed: int = 0

    def __post_init__(self) -> None:
        for name in ("error_rate", "truncate_rate"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must be between 0 and 1")
        if self.latency < 0 or self.burst_429_every < 0 or self.burst_429_length < 1:
            raise ValueError("latency and burst_429_every must be >= 0, burst_429_length >= 1")


class FaultState:
    """The deterministic dice: one seeded RNG, one request counter."""

    def __init__(self, faults: Faults) -> None:
        self.faults = faults
        self._rng = random.Random(faults.seed)
        self._count = 0
        self._lock = threading.Lock()

    def roll(self) -> tuple[bool, int | None, bool]:
        """For the next request: (in a 429 burst, 5xx status or None, truncate body)."""
        f = self.faults
        with self._lock:
            self._count += 1
            n = self._count
            burst = (
                f.burst_429_every > 0
                and (n % f.burst_429_every) < f.burst_429_length
                and (n >= f.burst_429_every)
            )
            error = self._rng.random() < f.error_rate
            status = self._rng.choice((500, 502, 503)) if error else None
            truncate = self._rng.random() < f.truncate_rate
        return burst, status, truncate


class RateLimiter:
    """At most `rate` requests in any 1-second window (sliding), per the given clock."""

    def __init__(self, rate: float, monotonic: Callable[[], float]) -> None:
        if rate <= 0:
            raise ValueError("rate_limit must be positive")
        self.capacity = max(1, int(rate))
        self._monotonic = monotonic
        self._hits: deque[float] = deque()
        self._lock = threading.Lock()

    def admit(self) -> bool:
        with self._lock:
            now = self._monotonic()
            while self._hits and now - self._hits[0] >= 1.0:
                self._hits.popleft()
            if len(self._hits) >= self.capacity:
                return False
            self._hits.append(now)
            return True
