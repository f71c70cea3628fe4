"""Import rows (from a CSV file or a table) into Customer.io, one validated row at a time.

For each row: map columns to fields, skip it if the journal says it is done, ask the
object's writer for a plan (validation and existence checks, before any write),
then send it (or, in a dry run, print it). A row that fails validation or that the
API refuses goes to the rejects file with its error; nothing is dropped silently.
Errors that would fail every row alike (credentials, the API unreachable, retries
exhausted) stop the import; the journal makes the rerun safe.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..catalog.select import did_you_mean
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


MAX_COLUMNS = 10_000
"""Columns an import takes: far above any object's fields or a person's attributes
(Customer.io caps attributes per person well below this), low enough that a file with
a broken header (one line of a million cells) is refused at once instead of tried."""


def mapped_columns(columns: Iterable[str], mapping: Mapping[str, str]) -> list[str]:
    """The fields the columns map to (``--map``; an empty field drops the column).

    Linear in the number of columns; more than :data:`MAX_COLUMNS` is a UsageError.
    """
    names = list(columns)
    if len(names) > MAX_COLUMNS:
        raise UsageError(
            f"the input has {len(names):,} columns; an import takes at most {MAX_COLUMNS:,} "
            "(is the first line really the header? split the file by columns otherwise)"
        )
    present = set(names)
    unknown = [c for c in mapping if c not in present]
    if unknown:
        shown = ", ".join(names[:50]) + (f", ... ({len(names)} in all)" if len(names) > 50 else "")
        raise UsageError(
            f"--map names column(s) not in the input: {', '.join(unknown)}"
            f"{did_you_mean(unknown[0], names)} (columns: {shown})"
        )
    out = [mapping.get(c, c) for c in names if mapping.get(c, c)]
    counts = Counter(out)
    twice = sorted(f for f, n in counts.items() if n > 1)
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
            f"column(s) {', '.join(unknown)} are not fields of {name}"
            f"{did_you_mean(unknown[0], [*spec.fields, *spec.key])}; writable: "
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
    summary = ImportSummary(name, job.mode, dry_run=job.dry_run, rejects_path=str(rejects.path))
    run = _Run(
        job, make_writer(name, client), client, rejects, journal, summary, echo, set(unknown)
    )
    finished = False
    try:
        for row in rows:
            summary.rows += 1
            run.row(row)
        finished = summary.rejected == 0 and not job.dry_run
    finally:
        journal.close(finished=finished)
    return summary


@dataclass(frozen=True)
class _Run:
    """One import in progress: what each row needs, and where its outcome goes.

    Every row ends in exactly one of succeeded, rejected, skipped (or, in a dry run,
    "would send"); ``sent`` counts the rows that reached the API.
    """

    job: ImportJob
    writer: Writer
    client: CioClient
    rejects: RejectsWriter
    journal: Journal
    summary: ImportSummary
    echo: Echo
    ignored: set[str]

    def row(self, row: CsvRow) -> None:
        if row.error:
            self._reject(row, row.error)
            return
        mapping = self.job.mapping
        values = {}
        for column, value in row.values.items():
            name = mapping.get(column, column)
            if name and name not in self.ignored:
                values[name] = value
        fp = fingerprint(self.summary.object, self.job.mode, values)
        if fp in self.journal.done:
            self._skip(row, f"done in an earlier run (journal {self.journal.path})")
            return
        plan = self.writer.plan(self.job.mode, values)
        if plan.outcome == "reject":
            self._reject(row, plan.message)
        elif plan.outcome == "skip":
            self._skip(row, plan.message, fp)
        elif self.job.dry_run:
            assert plan.request is not None
            self.summary.sent += 1
            self.writer.applied(plan, None)  # later rows see this row's effect (a new name)
            self.echo(f"row {row.number}: would send {plan.operation} {plan.request.describe()}")
        else:
            self._send(row, plan, fp)

    def _send(self, row: CsvRow, plan: Plan, fp: str) -> None:
        assert plan.request is not None
        self.summary.sent += 1
        try:
            response = send(self.client, plan.request)
        except _FATAL:
            raise
        except NotFoundError:
            gone = self.writer.missing(plan)
            if gone.outcome == "reject":
                self._reject(row, gone.message)
            else:
                self._skip(row, gone.message, fp)
            return
        except ApiError as exc:
            self._reject(row, str(exc))
            return
        note = self.writer.applied(plan, response)
        self.summary.succeeded += 1
        self.journal.record(fp, row.number, "succeeded")
        if self.job.verbose:
            self.echo(f"row {row.number}: {plan.operation} done{f' ({note})' if note else ''}")

    def _reject(self, row: CsvRow, message: str) -> None:
        self.summary.rejected += 1
        self.rejects.write(row.values, message, row.number, row.raw)
        self.echo(f"row {row.number}: rejected: {message}")

    def _skip(self, row: CsvRow, message: str, fp: str | None = None) -> None:
        self.summary.skipped += 1
        self.echo(f"row {row.number}: skipped: {message}")
        if fp is not None and not self.job.dry_run:
            self.journal.record(fp, row.number, "skipped")


def default_journal_path(source: Path) -> Path:
    return source.with_name(source.name + ".progress")
