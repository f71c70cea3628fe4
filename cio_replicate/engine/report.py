"""What a run tells its user: live progress, the summary table, the JSON line.

Progress goes to stderr (redrawn in place on a terminal, one line per object
otherwise); the summary goes to stdout, as a table or, with
``--log-format json``, as one JSON object on one line for schedulers.
"""

from __future__ import annotations

import json
import sys
import threading
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Literal, TextIO

Status = Literal["success", "failed", "skipped", "interrupted"]


@dataclass(frozen=True)
class ObjectResult:
    name: str
    mode: str
    status: Status
    inserted: int = 0
    updated: int = 0
    deleted: int = 0
    pages: int = 0
    api_calls: int = 0
    throttled: int = 0
    """429 answers received (each one waited for and retried)."""
    wait_seconds: float = 0.0
    """Seconds spent waiting: rate limiter plus retry backoff."""
    seconds: float = 0.0
    watermark: int | None = None
    message: str | None = None


@dataclass(frozen=True)
class RunReport:
    run_id: str
    started: float
    """The run's start (unix seconds, run clock): watermarks are capped here."""
    finished: float
    results: tuple[ObjectResult, ...]
    seconds: float = 0.0
    """Elapsed wall time."""

    @property
    def failed(self) -> tuple[ObjectResult, ...]:
        return tuple(r for r in self.results if r.status == "failed")

    @property
    def interrupted(self) -> bool:
        """Some object stopped because the run was asked to stop (Ctrl-C, SIGTERM)."""
        return any(r.status == "interrupted" for r in self.results)

    @property
    def status(self) -> Literal["success", "partial", "failed", "interrupted"]:
        if self.interrupted:
            return "interrupted"
        if not self.failed:
            return "success"
        return "partial" if len(self.failed) < len(self.results) else "failed"

    def summary(self) -> str:
        return summary_table(self)

    def as_json(self) -> str:
        totals = {
            "inserted": sum(r.inserted for r in self.results),
            "updated": sum(r.updated for r in self.results),
            "deleted": sum(r.deleted for r in self.results),
            "api_calls": sum(r.api_calls for r in self.results),
        }
        payload = {
            "event": "replicate.summary",
            "run_id": self.run_id,
            "status": self.status,
            "seconds": round(self.seconds, 3),
            **totals,
            "objects": [
                {
                    **asdict(r),
                    "wait_seconds": round(r.wait_seconds, 3),
                    "seconds": round(r.seconds, 3),
                }
                for r in self.results
            ],
        }
        return json.dumps(payload, separators=(",", ":"), ensure_ascii=False)


COLUMNS = ("object", "mode", "status", "inserted", "updated", "deleted", "pages", "calls",
           "429s", "waited s", "seconds")  # fmt: skip


def summary_table(report: RunReport) -> str:
    rows = [
        (
            r.name,
            r.mode,
            r.status,
            f"{r.inserted:,}",
            f"{r.updated:,}",
            f"{r.deleted:,}",
            f"{r.pages:,}",
            f"{r.api_calls:,}",
            f"{r.throttled:,}",
            f"{r.wait_seconds:.1f}",
            f"{r.seconds:.1f}",
        )
        for r in report.results
    ]
    lines = _table(COLUMNS, rows)
    lines.append(
        f"run {report.run_id}: {report.status}, {len(report.results)} objects in "
        f"{report.seconds:.1f}s"
    )
    for r in report.results:
        if r.message:
            lines.append(f"  {r.name}: {r.status}: {r.message}")
    return "\n".join(lines)


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    widths = [max(len(header[i]), *(len(row[i]) for row in rows)) for i in range(len(header))]

    def line(cells: Sequence[str]) -> str:
        first = cells[0].ljust(widths[0])
        rest = [cells[i].rjust(widths[i]) if i > 2 else cells[i].ljust(widths[i])
                for i in range(1, len(cells))]  # fmt: skip
        return "  ".join([first, *rest]).rstrip()

    return [line(header), line(["-" * w for w in widths]), *(line(r) for r in rows)]


class Progress:
    """Per-object progress on stderr: rows, pages, API calls, rate-limit waits."""

    def __init__(self, stream: TextIO | None = None, *, live: bool | None = None) -> None:
        self.stream = stream or sys.stderr
        self.live = self.stream.isatty() if live is None else live
        self._width = 0
        self._lock = threading.RLock()  # objects run on several threads

    def say(self, text: str) -> None:
        """A message that stays (estimates, skips, warnings)."""
        with self._lock:
            self._clear()
            print(text, file=self.stream, flush=True)

    def update(
        self, name: str, rows: int, pages: int, calls: int, throttled: int, waited: float
    ) -> None:
        if not self.live:
            return
        text = (
            f"{name}: {rows:,} rows, {pages:,} pages, {calls:,} {'call' if calls == 1 else 'calls'}, "
            f"{throttled:,} rate-limited, {waited:.1f}s waited"
        )
        with self._lock:
            pad = max(0, self._width - len(text))
            self.stream.write("\r" + text + " " * pad)
            self.stream.flush()
            self._width = len(text)

    def finish(self, result: ObjectResult) -> None:
        rows = result.inserted + result.updated + result.deleted
        text = f"{result.name}: {result.status}, {rows:,} rows written, {result.api_calls:,} {'call' if result.api_calls == 1 else 'calls'}"
        if result.message:
            text += f" ({result.message})"
        with self._lock:
            self._clear()
            print(text, file=self.stream, flush=True)

    def _clear(self) -> None:
        if self.live and self._width:
            self.stream.write("\r" + " " * self._width + "\r")
            self._width = 0
