"""Export one object to CSV, straight from the API, streaming.

Records come from the same extraction the replicator uses (listing, parent fan-out,
irregular objects, ``--filter`` pushdowns), batch by batch, so memory stays flat
however many rows there are. Values are typed as the loader types them: the
object's unix timestamps become ISO 8601 UTC, nested values JSON text, booleans
``true``/``false``, missing values empty cells.

Columns: ``--columns`` fixes them (fields absent from a record give empty cells,
other fields are left out); a name that is neither a documented field
(:mod:`cio_replicate.catalog.fields`) nor in the first records is refused before
anything is written. Otherwise the header is the union of the fields of the
first records (up to ``SAMPLE`` of them, read before anything is written): the key
first, then fields in the order they appear. A field that shows up only later goes
into the last column, ``_cio_extra``, as a JSON object, so nothing is lost and the
header never changes mid-file. ``import`` ignores ``_cio_*`` columns.

Where the CSV goes: :mod:`.outputs`; the spreadsheet-safe mode: :mod:`.spreadsheet`.
"""

from __future__ import annotations

import csv
import itertools
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import IO, Any

from ..catalog import ObjectSpec
from ..catalog.fields import OPEN, record_fields
from ..catalog.select import did_you_mean
from ..errors import UsageError
from ..extract import ExtractContext, extract
from ..extract.filters import Filters
from ..http import CioClient
from ..load.types import parse_timestamp, to_text
from .outputs import Output, check_output, open_output
from .spreadsheet import Guard

EXTRA_COLUMN = "_cio_extra"
SAMPLE = 1000


@dataclass(frozen=True)
class ExportResult:
    rows: int
    columns: tuple[str, ...]
    rows_with_extra: int
    never_seen: tuple[str, ...]  # --columns that no record had
    risky: int = 0  # text cells a spreadsheet would run as a formula (escaped if ``safe``)
    safe: bool = False


def cell(value: Any, *, timestamp: bool = False) -> str:
    """One CSV cell, typed by the loader's rules (cio_replicate.load.types)."""
    if value is None:
        return ""
    if timestamp:
        try:
            moment = parse_timestamp(value)
        except ValueError:  # no time: kept as text, as the loader's raw column keeps it
            return to_text(value)
        return moment.isoformat() if moment is not None else ""
    return to_text(value)


def records(
    client: CioClient, spec: ObjectSpec, filters: Filters, now: int, batch_size: int = 1000
) -> Iterator[dict[str, Any]]:
    ctx = ExtractContext(
        client, spec, floor=None, until=now, filters=filters, batch_size=batch_size
    )
    for batch in extract(ctx):
        yield from batch.records


def header_for(spec: ObjectSpec, sample: Sequence[dict[str, Any]]) -> list[str]:
    seen: dict[str, None] = dict.fromkeys(spec.key)
    for record in sample:
        seen.update(dict.fromkeys(record))
    return [name for name in seen if name != EXTRA_COLUMN]


def check_columns(
    spec: ObjectSpec, columns: Sequence[str], sample: Sequence[dict[str, Any]]
) -> None:
    """Refuse a ``--columns`` name that is neither documented nor in the records read.

    People and custom objects have attributes of any name, which a sample cannot
    rule out: for them an unknown name is only noted at the end (``never_seen``).
    """
    if spec.name in OPEN:
        return
    known = dict.fromkeys([*spec.key, *record_fields(spec.name), *header_for(spec, sample)])
    unknown = [name for name in columns if name not in known]
    if unknown:
        name = unknown[0]
        raise UsageError(
            f"--columns: {spec.name} has no field {name!r}{did_you_mean(name, known)} "
            f"(fields: {', '.join(known)})"
        )


@dataclass(frozen=True)
class Layout:
    """What ``write_csv`` writes: the header and whether ``_cio_extra`` follows it."""

    header: list[str]
    extra: bool


def plan(
    spec: ObjectSpec,
    rows: Iterable[dict[str, Any]],
    columns: Sequence[str] | None = None,
    sample_size: int = SAMPLE,
) -> tuple[Layout, Iterator[dict[str, Any]]]:
    """Read the sample (up to ``sample_size`` records), fix the columns, check ``columns``.

    Runs before the output is opened, so a wrong column name writes nothing.
    Returns the layout and every record (the sample first).
    """
    stream = iter(rows)
    sample = list(itertools.islice(stream, sample_size))
    if columns is None:
        layout = Layout(header_for(spec, sample), extra=True)
    else:
        check_columns(spec, columns, sample)
        layout = Layout(list(columns), extra=False)
    return layout, itertools.chain(sample, stream)


def write_csv(
    out: IO[str],
    spec: ObjectSpec,
    rows: Iterable[dict[str, Any]],
    columns: Sequence[str] | None = None,
    sample_size: int = SAMPLE,
    *,
    safe: bool = False,
) -> ExportResult:
    """Write ``rows`` as CSV with a header; returns what was written."""
    layout, stream = plan(spec, rows, columns, sample_size)
    return write_planned(out, spec, layout, stream, safe=safe)


def write_planned(
    out: IO[str],
    spec: ObjectSpec,
    layout: Layout,
    stream: Iterable[dict[str, Any]],
    *,
    safe: bool = False,
) -> ExportResult:
    header, extra = layout.header, layout.extra
    stamps = set(spec.timestamps) - set(spec.key)  # as the loader's mapper
    known = set(header)
    seen: set[str] = set()
    guard = Guard(safe)
    writer = csv.writer(out)
    writer.writerow(guard.row([*header, EXTRA_COLUMN] if extra else header))
    count = with_extra = 0
    for record in stream:
        cells = [cell(record.get(name), timestamp=name in stamps) for name in header]
        if extra:
            rest = {k: v for k, v in record.items() if k not in known}
            with_extra += bool(rest)
            cells.append(cell(rest) if rest else "")
        else:
            seen.update(k for k in record if k in known)
        writer.writerow(guard.row(cells))
        count += 1
    missing = () if extra else tuple(c for c in header if c not in seen)
    return ExportResult(count, tuple(header), with_extra, missing, guard.risky, safe)


def export_to(
    target: str | Output,
    spec: ObjectSpec,
    rows: Iterable[dict[str, Any]],
    columns: Sequence[str] | None,
    stdout: Callable[[], IO[bytes]],
    *,
    safe: bool = False,
) -> ExportResult:
    """Write to ``target`` (see :mod:`.outputs`): the columns are checked before the
    output is opened; a regular file appears only when complete."""
    output = target if isinstance(target, Output) else check_output(target)
    layout, stream = plan(spec, rows, columns)
    with open_output(output, stdout) as handle:
        return write_planned(handle, spec, layout, stream, safe=safe)
