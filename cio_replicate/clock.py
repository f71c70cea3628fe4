"""Time in one place: an injectable clock, unix-second conversions, durations."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from datetime import UTC, datetime

Clock = Callable[[], float]
"""Returns the current time as unix seconds (float)."""


def system_clock() -> float:
    return time.time()


def from_unix(seconds: int | float) -> datetime:
    """Unix seconds to an aware UTC datetime."""
    return datetime.fromtimestamp(seconds, tz=UTC)


def to_unix(moment: datetime) -> int:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp())


DAY = 86400
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": DAY}
_DURATION = re.compile(r"^(\d+)\s*([smhd]?)$")


def days_or_duration(high_days: int) -> Callable[[object], int]:
    """A parser: seconds from whole days (``7``) or a number with a unit (``36h``,
    ``90m``, ``3600s``, ``7d``), at most ``high_days`` days; ValueError with the reason."""

    def parse(value: object) -> int:
        match = None
        if isinstance(value, str | int) and not isinstance(value, bool):
            match = _DURATION.match(str(value).strip().lower())
        if match is None:
            raise ValueError(f"must be days (7) or a duration (7d, 36h, 90m), got {value!r}")
        seconds = int(match.group(1)) * _UNITS[match.group(2) or "d"]
        if seconds > high_days * DAY:
            raise ValueError(f"must be at most {high_days} days, got {value!r}")
        return seconds

    return parse
