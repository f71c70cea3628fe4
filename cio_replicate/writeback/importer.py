"""Import rows (from a CSV file or a table) into Customer.io, one validated row at a time.

For each row: map columns to fields, skip it if the journal says it is done, ask the
object's writer for a plan (validation and existence checks, before any write),
then send it (or, in a dry run, print it). A row that fails validation or that the
API refuses goes to the rejects file with its error; nothing is dropped silently.
Errors that would fail every row alike (credentials, the API unreachable, retries
exhausted) stop the import; the journal makes the rerun safe.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import (
    ApiError,
    AuthError,
    ConnectionFailedError,
    NotFoundError,
    RetryExhaustedError,
    UsageError,
)
from ..http import CioClient
from . import dml
from .appwriter import AppWriter
from .csvfiles import CsvRow, RejectsWriter
from .people import PeopleWriter
from .plan import Plan, Writer
from .progress import Journal, fingerprint
from .wire import send

Echo = Callable[[str], None]
_FATAL = (AuthError, ConnectionFailedError, RetryExhaustedError)


@dataclass
class ImportSummary:
    object: str
    mode: str
    rows: int = 0
    sent: int = 0
    succeeded: int = 0
    rejected: int = 0
    skipped: int = 0
    dry_run: bool = False
    rejects_path: str | None = None
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "object": self.object,
            "operation": self.mode,
            "rows": self.rows,
            "sent": self.sent,
            "succeeded": self.succeeded,
            "rejected": self.rejected,
            "skipped": self.skipped,
            "dry_run": self.dry_run,
            "rejects": self.rejects_path if self.rejected else None,
        }

    def text(self) -> str:
        verb = "would send" if self.dry_run else "sent"
        line = (
            f"{self.object} {self.mode}: {self.rows} rows, {verb} {self.sent}, "
            f"succeeded {self.succeeded}, rejected {self.rejected}, skipped {self.skipped}"
        )
        if self.rejected:
            line += f" (rejects in {self.rejects_path})"
        return line


def parse_mapping(pairs: Iterable[str]) -> dict[str, str]:
    """``--map csv_column=field`` pairs; ``column=`` (empty field) drops the column."""
    out: dict[str, str] = {}
    for pair in pairs:
        column, sep, target = pair.partition("=")
        if not sep or not column.strip():
            raise UsageError(f"--map expects csv_column=field, got {pair!r}")
        out[column.strip()] = target.strip()
    return out


def mapped_columns(columns: Iterable[str], mapping: Mapping[str, str]) -> list[str]:
    names = list(columns)
    unknown = [c for c in mapping if c not in names]
    if unknown:
        raise UsageError(
            f"--map names column(s) not in the input: {', '.join(unknown)} "
            f"(columns: {', '.join(names)})"
        )
    out = [mapping.get(c, c) for c in names if mapping.get(c, c)]
    twice = sorted({f for f in out if out.count(f) > 1})
    if twice:
        raise UsageError(f"several columns map to the same field: {', '.join(twice)}")
    return out


def make_writer(object_name: str, client: CioClient) -> Writer:
    if object_name == dml.CUSTOMERS:
        return PeopleWriter(client)
    return AppWriter(dml.write_spec(object_name), client)


@dataclass(frozen=True)
class ImportJob:
    object_name: str
    mode: dml.Mode
    columns: tuple[str, ...]
    mapping: Mapping[str, str]
    dry_run: bool = False
    strict_columns: bool = True  # CSV: unknown columns are an error; tables: ignored
    verbose: bool = False  # also print a line per row that succeeded


def check_job(job: ImportJob) -> tuple[str, list[str]]:
    """The object's name and the columns to ignore; raises UsageError before any call."""
    name, _ = dml.resolve(job.object_name, job.mode)
    fields = mapped_columns(job.columns, job.mapping)
    if name == dml.CUSTOMERS:
        return name, []  # every other column is a custom attribute
    spec = dml.write_spec(name)
    unknown = dml.unknown_columns(spec, fields)
    if unknown and job.strict_columns:
        raise UsageError(
            f"column(s) {', '.join(unknown)} are not fields of {name}; writable: "
            f"{', '.join(sorted(spec.fields))}; key: {', '.join(spec.key)} "
            "(rename with --map column=field, ignore with --map column=)"
        )
    return name, unknown


def run_import(
    job: ImportJob,
    rows: Iterator[CsvRow],
    client: CioClient,
    rejects: RejectsWriter,
    journal: Journal,
    echo: Echo,
) -> ImportSummary:
    """Validate and send every row; the summary counts what happened."""
    name, unknown = check_job(job)
    if unknown:
        echo(f"ignoring column(s) that are not writable fields of {name}: {', '.join(unknown)}")
    writer = make_writer(name, client)
    summary = ImportSummary(name, job.mode, dry_run=job.dry_run, rejects_path=str(rejects.path))
    ignored = set(unknown)
    finished = False
    try:
        for row in rows:
            summary.rows += 1
            _one(job, writer, row, ignored, client, rejects, journal, summary, echo)
        finished = summary.rejected == 0 and not job.dry_run
    finally:
        journal.close(finished=finished)
    return summary


def _one(
    job: ImportJob,
    writer: Writer,
    row: CsvRow,
    ignored: set[str],
    client: CioClient,
    rejects: RejectsWriter,
    journal: Journal,
    summary: ImportSummary,
    echo: Echo,
) -> None:
    def fail(message: str) -> None:
        summary.rejected += 1
        rejects.write(row.values, message, row.number, row.raw)
        echo(f"row {row.number}: rejected: {message}")

    if row.error:
        fail(row.error)
        return
    values = {
        job.mapping.get(k, k): v
        for k, v in row.values.items()
        if job.mapping.get(k, k) and job.mapping.get(k, k) not in ignored
    }
    fp = fingerprint(summary.object, job.mode, values)
    if fp in journal.done:
        summary.skipped += 1
        echo(f"row {row.number}: skipped: done in an earlier run (journal {journal.path})")
        return
    plan = writer.plan(job.mode, values)
    if plan.outcome == "reject":
        fail(plan.message)
        return
    if plan.outcome == "skip":
        summary.skipped += 1
        echo(f"row {row.number}: skipped: {plan.message}")
        if not job.dry_run:
            journal.record(fp, row.number, "skipped")
        return
    assert plan.request is not None
    summary.sent += 1
    if job.dry_run:
        writer.applied(plan, None)  # later rows see this row's effect (e.g. a new name)
        echo(f"row {row.number}: would send {plan.operation} {plan.request.describe()}")
        return
    outcome = _send(writer, plan, client)
    if outcome.outcome == "reject":
        fail(outcome.message)
        return
    summary.succeeded += 1
    journal.record(fp, row.number, "succeeded")
    if job.verbose:
        note = f" ({outcome.message})" if outcome.message else ""
        echo(f"row {row.number}: {plan.operation} done{note}")


def _send(writer: Writer, plan: Plan, client: CioClient) -> Plan:
    """Send; the returned plan's outcome is send (done, message = note) or reject."""
    assert plan.request is not None
    try:
        response = send(client, plan.request)
    except _FATAL:
        raise
    except NotFoundError:
        missing = writer.missing(plan)
        return missing if missing.outcome == "reject" else Plan("send", missing.message)
    except ApiError as exc:
        return Plan("reject", str(exc))
    return Plan("send", writer.applied(plan, response))


def default_journal_path(source: Path) -> Path:
    return source.with_name(source.name + ".progress")
