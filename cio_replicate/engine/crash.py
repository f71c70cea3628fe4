"""Kill and pause points for crash and overlap tests (hidden, off unless asked).

``CIO_REPLICATE_CRASH=<event>:<n>`` makes the process SIGKILL itself the
n-th time it reaches ``event``, counted over the whole run:

- ``batch``: a batch was extracted, nothing of it written yet;
- ``write``: a batch's rows and state were written, the transaction is
  still open (the kill must roll all of it back);
- ``commit``: a batch was committed;
- ``create``: ``sync`` created a collection, its id not written back yet.

A kill is a real SIGKILL: no ``finally`` block, no atexit, no flush runs, as
when the machine dies or an operator runs ``kill -9``.

``CIO_REPLICATE_PAUSE=<event>:<n>:<path>`` instead stops there (holding the
object's lock) and prints ``paused at <event>:<n>`` on stderr, until the file
``path`` exists: a test starts a second run meanwhile.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from ..logs import write_line

Event = Literal["batch", "write", "commit", "create"]
CRASH_ENV = "CIO_REPLICATE_CRASH"
PAUSE_ENV = "CIO_REPLICATE_PAUSE"
_COUNT = threading.Lock()
_EVENTS: dict[str, Event] = {
    "batch": "batch",
    "write": "write",
    "commit": "commit",
    "create": "create",
}


def _point(env: str, spec: str) -> tuple[Event, int, str]:
    name, _, rest = spec.partition(":")
    count, _, extra = rest.partition(":")
    if name not in _EVENTS or not count.isdigit():
        raise ValueError(f"{env} must be batch|write|commit|create:<n>[:...], got {spec!r}")
    return _EVENTS[name], int(count), extra


@dataclass
class CrashPoints:
    event: Event | None = None
    at: int = 0
    pause_event: Event | None = None
    pause_at: int = 0
    pause_until: str = ""
    seen: dict[str, int] = field(default_factory=dict)
    """How often each event was reached (also counted when no point is set)."""

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> CrashPoints:
        points = cls()
        crash = env.get(CRASH_ENV, "").strip()
        if crash:
            points.event, points.at, _ = _point(CRASH_ENV, crash)
        pause = env.get(PAUSE_ENV, "").strip()
        if pause:
            points.pause_event, points.pause_at, points.pause_until = _point(PAUSE_ENV, pause)
        return points

    def reached(self, event: Event) -> None:
        with _COUNT:  # objects run on several threads
            count = self.seen[event] = self.seen.get(event, 0) + 1
        if event == self.event and count == self.at:
            os.kill(os.getpid(), signal.SIGKILL)
        if event == self.pause_event and count == self.pause_at:
            write_line(f"paused at {event}:{count}")  # never spliced into another line
            while not Path(self.pause_until).exists():
                time.sleep(0.05)
