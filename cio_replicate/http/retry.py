"""The one retry policy: what is retried, how long to wait, when to give up.

Plain functions over plain values; the client drives them. Retried: 408, 429,
5xx, timeouts, connection errors and a truncated or invalid JSON body. Waits use
exponential backoff with full jitter (uniform in [0, base * 2^(n-1)], capped),
Retry-After (integer seconds or an HTTP date) overrides the computed wait, and
the total wait per request is bounded.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC
from email.utils import parsedate_to_datetime
from typing import Literal

Outcome = Literal["ok", "retry", "auth", "not_found", "redirect", "client_error"]


def classify(status: int) -> Outcome:
    """What to do with an HTTP status."""
    if status in (408, 429) or 500 <= status <= 599:
        return "retry"
    if status in (401, 403):
        return "auth"
    if status == 404:
        return "not_found"
    if 300 <= status <= 399:
        return "redirect"
    if 400 <= status <= 499:
        return "client_error"
    return "ok"


def parse_retry_after(value: str | None, now: float) -> float | None:
    """Seconds to wait from a Retry-After header (integer seconds or HTTP date).

    ``now`` is the current unix time, used for the date form. Unparsable -> None.
    """
    if value is None:
        return None
    text = value.strip()
    if not text:
        return None
    if text.isdigit():
        return float(text)
    try:
        moment = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return max(0.0, moment.timestamp() - now)


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 10
    """Attempts per request in total (first try included)."""
    connect_attempts: int = 3
    """Attempts when the host cannot be reached at all (refused, DNS)."""
    base_delay: float = 0.5
    max_delay: float = 60.0
    """Cap on any single wait, Retry-After included."""
    max_total_wait: float = 120.0
    """Bound on the sum of waits for one request; beyond it -> RetryExhaustedError."""

    def backoff(self, attempt: int, rng: random.Random) -> float:
        """Full jitter: uniform in [0, min(max_delay, base * 2^(attempt-1))]."""
        ceiling = min(self.max_delay, self.base_delay * 2 ** max(attempt - 1, 0))
        return rng.uniform(0.0, ceiling)

    def next_wait(
        self,
        attempt: int,
        waited: float,
        retry_after: float | None,
        rng: random.Random,
        *,
        connect_failure: bool = False,
    ) -> float | None:
        """The wait before attempt ``attempt + 1``, or None to give up.

        ``waited`` is the total already waited for this request.
        """
        limit = self.connect_attempts if connect_failure else self.max_attempts
        if attempt >= limit:
            return None
        if retry_after is not None:
            wait = min(retry_after, self.max_delay)
        else:
            wait = self.backoff(attempt, rng)
        if waited + wait > self.max_total_wait:
            return None
        return wait
