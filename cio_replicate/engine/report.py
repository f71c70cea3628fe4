"""What a run tells its user at the end: the summary table, or its JSON fields.

Progress while the run works is :mod:`.progress` (stderr). The summary goes
to stdout: a table, or with ``--log-format json`` the fields of the closing
JSON object the CLI writes (with the exit code) for schedulers.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from ..stats import ObjectStats
from .progress import Progress, duration

__all__ = ["ObjectStats", "Progress", "RunReport", "summary_table"]


@dataclass(frozen=True)
class RunReport:
    run_id: str
    started: float
    """The run's start (unix seconds, run clock): watermarks are capped here."""
    finished: float
    results: tuple[ObjectStats, ...]
    seconds: float = 0.0
    """Elapsed wall time."""

    @property
    def failed(self) -> tuple[ObjectStats, ...]:
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

    def summary(self, verbose: bool = False) -> str:
        return summary_table(self, verbose)

    def summary_fields(self) -> dict[str, Any]:
        """The run in figures: what the closing JSON object holds (besides the exit code)."""
        return {
            "run_id": self.run_id,
            "status": self.status,
            "seconds": round(self.seconds, 3),
            "inserted": sum(r.inserted for r in self.results),
            "updated": sum(r.updated for r in self.results),
            "deleted": sum(r.deleted for r in self.results),
            "api_calls": sum(r.api_calls for r in self.results),
            "objects": [
                {
                    **r.report_fields(),
                    "wait_seconds": round(r.wait_seconds, 3),
                    "seconds": round(r.seconds, 3),
                }
                for r in self.results
            ],
        }

    def as_json(self) -> str:
        payload = {"event": "replicate.summary", **self.summary_fields()}
        return json.dumps(payload, separators=(",", ":"), ensure_ascii=False)


COLUMNS = ("object", "mode", "status", "inserted", "updated", "deleted", "API calls", "time")
VERBOSE_COLUMNS = ("pages", "429s")


def summary_table(report: RunReport, verbose: bool = False) -> str:
    """One row per object, the run's line, then each object's message in full.

    ``verbose`` adds pages and 429 answers. The rate limiter's wait is not shown:
    summed over requests in flight it reads as more than the run's wall time.
    """
    header = COLUMNS + (VERBOSE_COLUMNS if verbose else ())
    rows = []
    for r in report.results:
        row = [r.name, r.mode, r.status, f"{r.inserted:,}", f"{r.updated:,}", f"{r.deleted:,}",
               f"{r.api_calls:,}", duration(r.seconds)]  # fmt: skip
        if verbose:
            row += [f"{r.pages:,}", f"{r.throttled:,}"]
        rows.append(row)
    lines = _table(header, rows)
    calls = sum(r.api_calls for r in report.results)
    rate = calls / report.seconds if report.seconds > 0 else 0.0
    lines.append(
        f"run {report.run_id}: {report.status}, {len(report.results)} objects in "
        f"{duration(report.seconds)}, {calls:,} API calls ({rate:.1f}/s)"
    )
    for r in report.results:
        if r.message:
            lines.append(f"  {r.name}: {r.status}: {r.message}")
    return "\n".join(lines)


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    widths = [max([len(header[i])] + [len(row[i]) for row in rows]) for i in range(len(header))]

    def line(cells: Sequence[str]) -> str:
        first = cells[0].ljust(widths[0])
        rest = [cells[i].rjust(widths[i]) if i > 2 else cells[i].ljust(widths[i])
                for i in range(1, len(cells))]  # fmt: skip
        return "  ".join([first, *rest]).rstrip()

    return [line(header), line(["-" * w for w in widths]), *(line(r) for r in rows)]
