"""What a run shows while it works.

On a terminal: a live display (rich), redrawn on a timer, with one line per
object in flight (API calls done of the estimate, rows, rate) and the run's
overall progress (objects done of total, calls, ETA from the call estimate).
Elsewhere: plain lines, one when an object starts and one when it ends, and a
progress line at most every ``every`` seconds. With ``--log-format json``
those lines are JSON objects (:func:`cio_replicate.logs.emit`).

The estimate of an object is the API calls of its last run (or, for the
per-person children, the count of people); an object never run has none.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TextIO

from rich.console import Console, Group, RenderableType
from rich.live import Live
from rich.table import Table
from rich.text import Text

from ..logs import emit, log_format, redact

if TYPE_CHECKING:
    from ..stats import ObjectStats

CallCounter = Callable[[str], int]
"""API calls counted so far under an object's name (cumulative; marks are taken at start)."""


@dataclass
class _Object:
    name: str
    started: float
    calls_at_start: int
    rows: int = 0
    pages: int = 0
    calls: int = 0


@dataclass(frozen=True)
class InFlight:
    name: str
    calls: int
    estimate: int | None
    rows: int
    seconds: float

    @property
    def rate(self) -> float:
        return self.rows / self.seconds if self.seconds > 0 else 0.0


@dataclass(frozen=True)
class Snapshot:
    """The state of a run at one moment: what every display renders."""

    total: int
    done: int
    failed: int
    running: tuple[InFlight, ...]
    calls: int
    """API calls of the run so far."""
    calls_left: int
    """Estimated calls still to make (objects with an estimate)."""
    unestimated: int
    """Objects not finished that have no estimate (never run before)."""
    elapsed: float

    @property
    def eta(self) -> float | None:
        """Seconds left at the run's call rate so far; None before the first call."""
        if self.calls <= 0 or self.elapsed <= 0:
            return None
        return self.calls_left / (self.calls / self.elapsed)


def duration(seconds: float) -> str:
    if seconds < 9.95:
        return f"{max(0.0, seconds):.1f}s"
    seconds = round(seconds)
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"


def calls_text(calls: int, estimate: int | None) -> str:
    if estimate:
        return f"{calls:,}/{estimate:,} calls"
    return f"{calls:,} {'call' if calls == 1 else 'calls'}"


def overall_text(snap: Snapshot) -> str:
    """The run's line: objects done of total, calls and rate, elapsed time, ETA.

    The ETA is the estimated calls left at the run's call rate so far; objects that
    never ran have no estimate ("+ N never ran").
    """
    done = f"objects {snap.done}/{snap.total} done"
    if snap.failed:
        done += f" ({snap.failed} failed)"
    rate = snap.calls / snap.elapsed if snap.elapsed > 0 else 0.0
    parts = [done, f"{snap.calls:,} API calls, {rate:.1f}/s", f"{duration(snap.elapsed)} elapsed"]
    eta = snap.eta
    if snap.done >= snap.total:
        pass
    elif snap.calls_left == 0 and snap.unestimated:
        parts.append(f"ETA unknown ({snap.unestimated} never ran)")
    elif eta is None:
        parts.append("ETA after the first calls")
    else:
        more = f" + {snap.unestimated} never ran" if snap.unestimated else ""
        parts.append(f"ETA {duration(eta)}{more}")
    return " | ".join(parts)


def render_live(snap: Snapshot) -> RenderableType:
    """The terminal display for ``snap``: a line per object in flight, then the run's line."""
    grid = Table.grid(padding=(0, 2))
    for _ in range(4):
        grid.add_column(no_wrap=True, justify="right")
    grid.columns[0].justify = "left"
    for item in snap.running:
        grid.add_row(
            Text(item.name, style="bold"),
            calls_text(item.calls, item.estimate),
            f"{item.rows:,} rows",
            f"{item.rate:,.0f} rows/s, {duration(item.seconds)}",
        )
    overall = Text(overall_text(snap), style="cyan", no_wrap=True, overflow="ellipsis")
    return Group(grid, overall)


@dataclass
class _Model:
    names: list[str] = field(default_factory=list)
    estimates: dict[str, int] = field(default_factory=dict)
    counter: CallCounter | None = None
    started: float = 0.0
    running: dict[str, _Object] = field(default_factory=dict)
    finished: dict[str, ObjectStats] = field(default_factory=dict)


class Progress:
    """Progress of a run: live on a terminal, plain (or JSON) lines otherwise.

    ``live`` defaults to whether the stream is a terminal; ``fmt`` (text or json)
    to the process's log format for the default stream (stderr), else text.
    ``every``: seconds between two progress lines when not live.
    """

    def __init__(
        self,
        stream: TextIO | None = None,
        *,
        live: bool | None = None,
        fmt: str | None = None,
        every: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.stream = stream
        self.fmt = fmt or (log_format() if stream is None else "text")
        out = stream or sys.stderr
        self.live = (out.isatty() if live is None else live) and self.fmt == "text"
        self.every = every
        self.clock = clock
        self._model = _Model(started=clock())
        self._lock = threading.RLock()  # objects run on several threads
        self._last_line = self._model.started
        self._display: Live | None = None

    # --- what the engine tells ---------------------------------------------------

    def begin(
        self,
        names: Sequence[str],
        estimates: Mapping[str, int] | None = None,
        counter: CallCounter | None = None,
    ) -> None:
        """The run's objects, their call estimates and where to read calls done."""
        display = None
        with self._lock:
            m = self._model
            m.names = list(names)
            m.estimates = {k: v for k, v in (estimates or {}).items() if v > 0}
            m.counter = counter
            m.started = self.clock()
            self._last_line = m.started
            if self.live and self._display is None:
                console = Console(file=self.stream or sys.stderr, force_terminal=True)
                display = self._display = Live(
                    get_renderable=self._renderable,
                    console=console,
                    refresh_per_second=4,
                    transient=True,
                    redirect_stdout=False,  # stdout may be a file while stderr is a terminal
                    redirect_stderr=True,  # log lines print above the display
                )
        if display is not None:  # outside our lock: a redraw takes rich's lock, then ours
            display.start(refresh=True)

    def start(self, name: str) -> None:
        with self._lock:
            counter = self._model.counter
            at_start = counter(name) if counter else 0
            self._model.running[name] = _Object(name, self.clock(), at_start)
            estimate = self._model.estimates.get(name)
        if not self.live:
            plural = "call" if estimate == 1 else "calls"
            about = f" (about {estimate:,} API {plural})" if estimate else ""
            self._line(
                "object.start", f"{name}: started{about}", object=name, estimated_calls=estimate
            )

    def estimate(self, name: str, calls: int) -> None:
        with self._lock:
            if calls > 0:
                self._model.estimates[name] = calls

    def say(
        self, text: str, *, level: str = "warning", event: str = "replicate.note", **fields: Any
    ) -> None:
        """A message that stays (estimates, skips, warnings); ``fields`` for JSON lines."""
        display = self._display  # printed outside our lock: the redraw thread takes it
        if display is not None:
            display.console.print(Text(redact(text)))
            return
        self._line(event, text, level=level, **fields)

    def update(
        self, name: str, rows: int, pages: int, calls: int, throttled: int, waited: float
    ) -> None:
        """After each batch: the object's rows, pages and calls so far."""
        with self._lock:
            item = self._model.running.get(name)
            if item is None:
                item = self._model.running[name] = _Object(name, self.clock(), 0)
            item.rows, item.pages, item.calls = rows, pages, calls
            due = not self.live and self.clock() - self._last_line >= self.every
            if due:
                self._last_line = self.clock()
                snap = self.snapshot()
        if due:
            self._progress_line(snap)

    def finish(self, result: ObjectStats) -> None:
        with self._lock:
            self._model.running.pop(result.name, None)
            self._model.finished[result.name] = result
        display = self._display
        if self.live:
            if result.status == "failed" and display is not None:
                display.console.print(Text(redact(f"{result.name}: failed")))
            return
        rows = result.inserted + result.updated + result.deleted
        calls = f"{result.api_calls:,} {'call' if result.api_calls == 1 else 'calls'}"
        text = f"{result.name}: {result.status}, {rows:,} rows written, {calls}"
        if result.message:
            text += f" ({result.message})"
        self._line(
            "object.finish",
            text,
            level="error" if result.status == "failed" else "info",
            object=result.name,
            status=result.status,
            inserted=result.inserted,
            updated=result.updated,
            deleted=result.deleted,
            api_calls=result.api_calls,
            seconds=round(result.seconds, 3),
            error=result.message if result.status == "failed" else None,
        )

    def close(self) -> None:
        """Stop the live display (before the summary is printed)."""
        with self._lock:
            display, self._display = self._display, None
        if display is not None:
            display.stop()

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- what the displays read ---------------------------------------------------

    def snapshot(self) -> Snapshot:
        with self._lock:
            m, now = self._model, self.clock()
            running = []
            for item in m.running.values():
                calls = item.calls
                if m.counter is not None:
                    calls = max(calls, m.counter(item.name) - item.calls_at_start)
                running.append(
                    InFlight(
                        item.name, calls, m.estimates.get(item.name), item.rows, now - item.started
                    )
                )
            names = m.names or [*m.finished, *m.running]
            left, unestimated = 0, 0
            live_calls = {r.name: r.calls for r in running}
            for name in names:
                if name in m.finished:
                    continue
                estimate = m.estimates.get(name)
                if estimate is None:
                    unestimated += 1
                else:
                    left += max(0, estimate - live_calls.get(name, 0))
            calls = sum(r.api_calls for r in m.finished.values()) + sum(live_calls.values())
            return Snapshot(
                total=len(names),
                done=len(m.finished),
                failed=sum(1 for r in m.finished.values() if r.status == "failed"),
                running=tuple(running),
                calls=calls,
                calls_left=left,
                unestimated=unestimated,
                elapsed=now - m.started,
            )

    def _renderable(self) -> RenderableType:
        return render_live(self.snapshot())

    def _progress_line(self, snap: Snapshot) -> None:
        parts = [
            f"{r.name} {r.rows:,} rows, {calls_text(r.calls, r.estimate)}" for r in snap.running
        ]
        text = "progress: " + overall_text(snap)
        if parts:
            text += "; running: " + "; ".join(parts)
        self._line(
            "progress",
            text,
            done=snap.done,
            total=snap.total,
            api_calls=snap.calls,
            eta_seconds=None if snap.eta is None else round(snap.eta),
            running=[
                {"object": r.name, "rows": r.rows, "api_calls": r.calls} for r in snap.running
            ],
        )

    def _line(self, event: str, text: str, *, level: str = "info", **fields: Any) -> None:
        emit(
            event,
            text,
            level=level,
            stream=self.stream,
            fmt=self.fmt,
            **{k: v for k, v in fields.items() if v is not None},
        )
