"""The request log: one entry per HTTP attempt, plus counters for run statistics.

Entries hold the method, the path (never the query string), the status, the
duration and the attempt number: never a key, an auth header or a body.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from dataclasses import dataclass, replace
from typing import Literal

Api = Literal["app", "track"]
log = logging.getLogger("cio_replicate.http")

MAX_ENTRIES = 10_000
"""Entries kept in memory (the counters keep counting beyond it)."""


@dataclass(frozen=True)
class LogEntry:
    api: Api
    method: str
    path: str
    status: int | None
    """HTTP status, or None when no response arrived (timeout, connection error)."""
    duration_s: float
    attempt: int
    started: float
    """Clock time at which the attempt was sent."""
    error: str | None = None
    """Why the attempt failed without a usable response ("ReadTimeout", "invalid JSON")."""


@dataclass(frozen=True)
class LogStats:
    calls: int = 0
    """HTTP attempts sent."""
    retries: int = 0
    """Attempts after the first for the same request."""
    throttled: int = 0
    """429 responses received."""
    wait_seconds: float = 0.0
    """Time spent waiting for the client-side rate limiter."""
    retry_wait_seconds: float = 0.0
    """Time spent in retry backoff (Retry-After included)."""

    def __sub__(self, other: LogStats) -> LogStats:
        return LogStats(
            calls=self.calls - other.calls,
            retries=self.retries - other.retries,
            throttled=self.throttled - other.throttled,
            wait_seconds=self.wait_seconds - other.wait_seconds,
            retry_wait_seconds=self.retry_wait_seconds - other.retry_wait_seconds,
        )


class RequestLog:
    """Thread-safe log of attempts and counters; read by the engine for run statistics."""

    def __init__(self, max_entries: int = MAX_ENTRIES) -> None:
        self._lock = threading.Lock()
        self._entries: deque[LogEntry] = deque(maxlen=max_entries)
        self._stats = LogStats()

    def record(self, entry: LogEntry) -> None:
        with self._lock:
            self._entries.append(entry)
            s = self._stats
            self._stats = replace(
                s,
                calls=s.calls + 1,
                retries=s.retries + (entry.attempt > 1),
                throttled=s.throttled + (entry.status == 429),
            )
        log.debug(
            "%s %s %s -> %s in %.3fs (attempt %d)%s",
            entry.api,
            entry.method,
            entry.path,
            entry.status if entry.status is not None else "no response",
            entry.duration_s,
            entry.attempt,
            f" [{entry.error}]" if entry.error else "",
        )

    def add_wait(self, *, limiter: float = 0.0, retry: float = 0.0) -> None:
        if limiter <= 0 and retry <= 0:
            return
        with self._lock:
            s = self._stats
            self._stats = replace(
                s,
                wait_seconds=s.wait_seconds + limiter,
                retry_wait_seconds=s.retry_wait_seconds + retry,
            )

    @property
    def entries(self) -> list[LogEntry]:
        with self._lock:
            return list(self._entries)

    def snapshot(self) -> LogStats:
        with self._lock:
            return self._stats

    def since(self, mark: LogStats) -> LogStats:
        """Counters accumulated after ``mark`` (a previous snapshot)."""
        return self.snapshot() - mark

    @property
    def calls(self) -> int:
        return self.snapshot().calls

    @property
    def retries(self) -> int:
        return self.snapshot().retries

    @property
    def throttled(self) -> int:
        return self.snapshot().throttled

    @property
    def wait_seconds(self) -> float:
        return self.snapshot().wait_seconds
