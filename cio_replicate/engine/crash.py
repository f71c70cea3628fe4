"""Kill points for crash tests (hidden, off unless the environment asks).

``CIO_REPLICATE_CRASH=<event>:<n>`` makes the process SIGKILL itself the
n-th time it reaches ``event``, counted over the whole run:

- ``batch``: a batch was extracted, nothing of it written yet;
- ``write``: a batch's rows and state were written, the transaction is
  still open (the kill must roll all of it back);
- ``commit``: a batch was committed.

A kill is a real SIGKILL: no ``finally`` block, no atexit, no flush runs, as
when the machine dies or an operator runs ``kill -9``.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

Event = Literal["batch", "write", "commit"]
ENV = "CIO_REPLICATE_CRASH"


@dataclass
class CrashPoints:
    event: Event | None = None
    at: int = 0
    seen: dict[str, int] = field(default_factory=dict)

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> CrashPoints:
        spec = env.get(ENV, "").strip()
        if not spec:
            return cls()
        name, _, count = spec.partition(":")
        events: dict[str, Event] = {"batch": "batch", "write": "write", "commit": "commit"}
        if name not in events or not count.isdigit():
            raise ValueError(f"{ENV} must be batch|write|commit:<n>, got {spec!r}")
        return cls(events[name], int(count))

    def reached(self, event: Event) -> None:
        self.seen[event] = self.seen.get(event, 0) + 1
        if event == self.event and self.seen[event] == self.at:
            os.kill(os.getpid(), signal.SIGKILL)
