"""SIGINT and SIGTERM: a graceful stop for ``replicate``, Ctrl-C semantics for the rest.

During a replication run (:class:`StopOnSignals`) the first SIGINT or SIGTERM
only sets a stop event: no API request starts after it, batches already read
are committed, the run is recorded ``interrupted``, locks are released, and
the command exits 130 (SIGINT) or 143 (SIGTERM). A second signal says it is
still stopping; a third quits at once (``os._exit``: as after ``kill -9``, the
next run continues from the last committed batch). Once the run is recorded,
later signals are ignored: the process is on its way out with its exit code.

Every other command treats SIGTERM like Ctrl-C (:func:`terminate_like_interrupt`):
cron, systemd and Kubernetes stop programs with SIGTERM.
"""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType, TracebackType
from typing import Any

from ..logs import json_line, log_format

SIGNALS = (signal.SIGINT, signal.SIGTERM)


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised where Ctrl-C would raise KeyboardInterrupt (exit 143, not 130)."""


def _say(text: str) -> None:
    # os.write, not print: a handler may run while the main thread is inside a print.
    line = json_line("signal", text, level="warning") if log_format() == "json" else text
    try:
        os.write(2, (line + "\n").encode())
    except OSError:
        pass


def _raise_terminated(signum: int, frame: FrameType | None) -> None:
    raise Terminated()


@contextmanager
def terminate_like_interrupt() -> Iterator[None]:
    """Meanwhile SIGTERM raises :class:`Terminated` (a KeyboardInterrupt) in the main thread."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, _raise_terminated)
    try:
        yield
    finally:
        if signal.getsignal(signal.SIGTERM) is _raise_terminated:  # not a stopped run's SIG_IGN
            signal.signal(signal.SIGTERM, previous)


class StopOnSignals:
    """``with StopOnSignals() as stopping:`` SIGINT/SIGTERM set ``stopping.event``.

    Outside the main thread (where Python delivers no signals) it installs nothing.
    """

    def __init__(self) -> None:
        self.event = threading.Event()
        self.signal_number: int | None = None
        """The first signal received (None: none)."""
        self._count = 0
        self._previous: dict[int, Any] = {}

    def __enter__(self) -> StopOnSignals:
        if threading.current_thread() is threading.main_thread():
            for signum in SIGNALS:
                self._previous[signum] = signal.signal(signum, self._handle)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        for signum, handler in self._previous.items():
            # Stopped: the run is recorded and the process ends; a late signal must not
            # kill it on the way out (Python resets its handlers at exit, not SIG_IGN).
            signal.signal(signum, signal.SIG_IGN if self.signal_number else handler)
        self._previous.clear()

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        self._count += 1
        name = signal.Signals(signum).name
        if self._count == 1:
            self.signal_number = signum
            self.event.set()
            _say(
                f"{name}: stopping (no new API requests; committing the batches already read, "
                "releasing locks)"
            )
        elif self._count == 2:
            _say(f"{name}: still stopping; send it once more to quit at once")
        else:
            _say(f"{name}: quitting at once; the next run continues from the last commit")
            os._exit(128 + (self.signal_number or signum))
