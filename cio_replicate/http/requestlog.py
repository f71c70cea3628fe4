"""The request log: one entry per HTTP attempt, plus counters for run statistics.

Entries hold the method, the path (never the query string), the status, the
duration and the attempt number: never a key, an auth header or a body.

Counters are kept in total and per *scope*: the engine runs objects on
threads side by side and wraps each in ``with log.scope(name)``, so every
call made in that context (threads started with ``contextvars.copy_context``
included) counts towards its object.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections import deque
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass, replace
from typing import Literal

Api = Literal["app", "track"]
log = logging.getLogger("cio_replicate.http")

MAX_ENTRIES = 10_000
"""Entries kept in memory (the counters keep counting beyond it)."""

_SCOPE: ContextVar[str | None] = ContextVar("cio_replicate_request_scope", default=None)


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
        self._scoped: dict[str, LogStats] = {}

    @staticmethod
    @contextlib.contextmanager
    def scope(name: str) -> Iterator[None]:
        """Count the calls made in this context (and contexts copied from it) under ``name``."""
        token = _SCOPE.set(name)
        try:
            yield
        finally:
            _SCOPE.reset(token)

    def _add(self, **deltas: float) -> None:
        """Add to the totals and to the current scope's counters (lock held)."""
        name = _SCOPE.get()
        self._stats = _plus(self._stats, deltas)
        if name is not None:
            self._scoped[name] = _plus(self._scoped.get(name, LogStats()), deltas)

    def record(self, entry: LogEntry) -> None:
        with self._lock:
            self._entries.append(entry)
            self._add(calls=1, retries=int(entry.attempt > 1), throttled=int(entry.status == 429))
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
            self._add(wait_seconds=limiter, retry_wait_seconds=retry)

    @property
    def entries(self) -> list[LogEntry]:
        with self._lock:
            return list(self._entries)

    def snapshot(self, scope: str | None = None) -> LogStats:
        """The counters so far: in total, or of one scope."""
        with self._lock:
            if scope is None:
                return self._stats
            return self._scoped.get(scope, LogStats())

    def since(self, mark: LogStats, scope: str | None = None) -> LogStats:
        """Counters accumulated after ``mark`` (a previous snapshot of the same scope)."""
        return self.snapshot(scope) - mark

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


def _plus(stats: LogStats, deltas: dict[str, float]) -> LogStats:
    values = {name: getattr(stats, name) + delta for name, delta in deltas.items() if delta}
    return replace(stats, **values) if values else stats
