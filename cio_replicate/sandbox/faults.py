"""Injected trouble: latency, 5xx answers, truncated bodies, bursts of 429, the App API
rate limit (10 req/s in the real service; here configurable, off by default), and
malformed answers on chosen paths: a broken list envelope, an ever-new cursor whose
pages repeat, a body that trickles in."""

from __future__ import annotations

import random
import threading
from collections import Counter, deque
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

ENVELOPE_FAULTS = ("null", "missing", "string", "bare")
"""How a list envelope (or, in an answer with no list, a single record's) is broken: ``{"x": null}``, the key left out, ``{"x": "..."}``, or
the body is the bare list (not a JSON object)."""


@dataclass(frozen=True)
class Faults:
    latency: float = 0.0  # seconds added to every request
    error_rate: float = 0.0  # share of requests answered 500/502/503 (before they take effect)
    truncate_rate: float = 0.0  # share of 2xx JSON bodies cut in half (after they take effect)
    burst_429_every: int = 0  # every Nth request starts a burst of 429s; 0 = never
    burst_429_length: int = 3
    seed: int = 0
    bad_envelope: Mapping[str, str] = field(default_factory=dict)
    """Request path -> how the list envelope of its 2xx answers is broken (ENVELOPE_FAULTS)."""
    bad_envelope_times: int = 0  # only the first N answers per path are broken; 0 = every one
    endless_cursor: tuple[str, ...] = ()
    """Paths whose every page carries a new ``next`` while the first page is served again."""
    endless_cursor_pages: int = 1000  # then ``"next": ""``, so a client without a guard stops
    slow_body: float = 0.0  # seconds between the chunks of each 2xx body (0 = off)
    slow_body_chunk: int = 1  # bytes per chunk
    slow_body_paths: tuple[str, ...] = ()  # only these request paths; empty = every path
    slow_body_times: int = 0  # only the first N slow bodies; 0 = every one
    failing_paths: tuple[str, ...] = ()
    """Request paths answered 503 every time (one endpoint down, the rest of the API up)."""

    def __post_init__(self) -> None:
        for name in ("error_rate", "truncate_rate"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must be between 0 and 1")
        if self.latency < 0 or self.burst_429_every < 0 or self.burst_429_length < 1:
            raise ValueError("latency and burst_429_every must be >= 0, burst_429_length >= 1")
        for path, mode in self.bad_envelope.items():
            if mode not in ENVELOPE_FAULTS:
                raise ValueError(
                    f"bad_envelope for {path}: {mode!r} is not one of {', '.join(ENVELOPE_FAULTS)}"
                )
        if self.slow_body < 0 or self.slow_body_chunk < 1 or self.endless_cursor_pages < 1:
            raise ValueError("slow_body must be >= 0, slow_body_chunk and endless pages >= 1")
        if self.bad_envelope_times < 0 or self.slow_body_times < 0:
            raise ValueError("bad_envelope_times and slow_body_times must be >= 0")


class FaultState:
    """The deterministic dice: one seeded RNG, one request counter, counters per path."""

    def __init__(self, faults: Faults) -> None:
        self.faults = faults
        self._rng = random.Random(faults.seed)
        self._count = 0
        self._lock = threading.Lock()
        self._hits: Counter[tuple[str, str]] = Counter()

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

    def _hit(self, kind: str, path: str, times: int) -> int:
        """Count one more answer of ``kind`` on ``path``; 0 once ``times`` (if set) is used up."""
        with self._lock:
            if times and self._hits[kind, path] >= times:
                return 0
            self._hits[kind, path] += 1
            return self._hits[kind, path]

    def failing(self, path: str) -> bool:
        """The path is down: every request to it is answered 503."""
        return path in self.faults.failing_paths

    def endless(self, path: str) -> bool:
        """The path repeats its first page under ever-new cursors (its ``start`` is ignored)."""
        return path in self.faults.endless_cursor

    def shape(self, path: str, status: int, body: Any) -> Any:
        """A 2xx JSON body as the path's faults answer it: envelope broken, cursor replaced."""
        f = self.faults
        if not 200 <= status < 300 or not isinstance(body, dict):
            return body
        if self.endless(path):
            n = self._hit("endless", path, 0)
            body = {**body, "next": f"endless-{n}" if n < f.endless_cursor_pages else ""}
        mode = f.bad_envelope.get(path)
        envelope = next((k for k, v in body.items() if isinstance(v, list)), None)
        if envelope is None:  # a single record's answer: {"object": {...}}
            envelope = next((k for k, v in body.items() if isinstance(v, dict)), None)
        if (
            mode is None
            or envelope is None
            or not self._hit("envelope", path, f.bad_envelope_times)
        ):
            return body
        if mode == "bare":
            return body[envelope]
        broken = {k: v for k, v in body.items() if k != envelope}
        if mode == "null":
            broken[envelope] = None
        elif mode == "string":
            broken[envelope] = "not a list"
        return broken

    def trickle(self, path: str, status: int) -> bool:
        """Send this answer's body slowly (``slow_body`` seconds between chunks)."""
        f = self.faults
        if not f.slow_body or not 200 <= status < 300:
            return False
        if f.slow_body_paths and path not in f.slow_body_paths:
            return False
        return bool(self._hit("slow", path, f.slow_body_times))


class Trickle(httpx.SyncByteStream):
    """A body sent ``chunk`` bytes at a time, ``interval`` seconds apart (in-process the
    client's read sleeps; over loopback the server writes each chunk as it comes)."""

    def __init__(
        self, content: bytes, interval: float, chunk: int, sleep: Callable[[float], None]
    ) -> None:
        self.content = content
        self._interval = interval
        self._chunk = chunk
        self._sleep = sleep

    def __iter__(self) -> Iterator[bytes]:
        for offset in range(0, len(self.content), self._chunk):
            if offset:
                self._sleep(self._interval)
            yield self.content[offset : offset + self._chunk]


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
