"""Figures as markdown tables, the goals verdict, and the BENCHMARKS.md text.

The command rewrites BENCHMARKS.md on every run, except the section headed
``## Profiles and changes``, which holds hand-written before/after notes and
is carried over from the existing file.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from .machine import Machine

NOTES_HEADING = "## Profiles and changes"


@dataclass(frozen=True)
class Table:
    title: str
    headers: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    notes: tuple[str, ...] = ()

    def markdown(self) -> str:
        out = [f"### {self.title}", ""]
        if self.rows:
            out.append("| " + " | ".join(self.headers) + " |")
            out.append("|" + "|".join("---" for _ in self.headers) + "|")
            out.extend("| " + " | ".join(row) + " |" for row in self.rows)
        else:
            out.append("(not measured)")
        if self.notes:
            out.append("")
            out.extend(self.notes)
        return "\n".join(out)


@dataclass(frozen=True)
class Goal:
    goal: str
    measured: str
    met: bool | None  # None: not measured in this run

    @property
    def verdict(self) -> str:
        return {True: "met", False: "NOT met", None: "not measured"}[self.met]


@dataclass(frozen=True)
class Report:
    command: str
    started: str  # ISO date-time, UTC
    duration_s: float
    scale: str
    machine: Machine
    tables: tuple[Table, ...]
    goals: tuple[Goal, ...]
    remarks: tuple[str, ...] = field(default=())

    def goals_table(self) -> Table:
        return Table(
            "Goals",
            ("Goal", "Measured", "Verdict"),
            tuple((g.goal, g.measured, g.verdict) for g in self.goals),
        )

    def markdown(self, notes: str = "") -> str:
        head = [
            "# Benchmarks",
            "",
            "Written by the benchmark command; rerun it to refresh every figure below:",
            "",
            f"    {self.command}",
            "",
            f"Run {self.started}, scale `{self.scale}`, took {fmt_duration(self.duration_s)}.",
            "",
            "## Machine",
            "",
            *self.machine.lines(),
            "",
            "## Results",
            "",
            self.goals_table().markdown(),
        ]
        body = [t.markdown() for t in self.tables]
        parts = ["\n".join(head), *body]
        if self.remarks:
            parts.append("\n".join(["### Remarks", "", *self.remarks]))
        parts.append(notes.strip() or f"{NOTES_HEADING}\n\n(none yet)")
        return "\n\n".join(parts) + "\n"


def carried_notes(previous: str) -> str:
    """The hand-written section of an existing BENCHMARKS.md (empty if none)."""
    at = previous.find(NOTES_HEADING)
    return previous[at:] if at >= 0 else ""


def fmt_duration(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.1f} s"
    minutes, secs = divmod(int(round(seconds)), 60)
    return f"{minutes} min {secs:02d} s"


def fmt_rate(value: float | None) -> str:
    if value is None:
        return "–"
    if value >= 10_000:
        return f"{value / 1000:,.0f} k"
    if value >= 1_000:
        return f"{value / 1000:,.1f} k"
    return f"{value:,.1f}"


def fmt_int(value: int | None) -> str:
    return "–" if value is None else f"{value:,}"


def fmt_ratio(value: float | None) -> str:
    return "–" if value is None else f"{value:.2f}"


def fmt_s(value: float | None) -> str:
    return "–" if value is None else f"{value:,.2f}"


def fmt_mib(value: float | None) -> str:
    return "–" if value is None else f"{value:,.0f} MiB"


def median(values: Sequence[float]) -> float:
    ordered = sorted(values)
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2
