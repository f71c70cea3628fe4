"""Export one object to CSV, straight from the API, streaming.

Records come from the same extraction the replicator uses (listing, parent fan-out,
irregular objects, ``--filter`` pushdowns), batch by batch, so memory stays flat
however many rows there are. Values are typed as the loader types them: the
object's unix timestamps become ISO 8601 UTC, nested values JSON text, booleans
``true``/``false``, missing values empty cells.

Columns: ``--columns`` fixes them (fields absent from a record give empty cells,
other fields are left out). Otherwise the header is the union of the fields of the
first records (up to ``SAMPLE`` of them, read before anything is written): the key
first, then fields in the order they appear. A field that shows up only later goes
into the last column, ``_cio_extra``, as a JSON object, so nothing is lost and the
header never changes mid-file. ``import`` ignores ``_cio_*`` columns.
"""

from __future__ import annotations

import csv
import itertools
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from ..catalog import ObjectSpec
from ..extract import ExtractContext, extract
from ..extractors.filters import Filters
from ..http import CioClient
from ..load.types import parse_timestamp, to_text

EXTRA_COLUMN = "_cio_extra"
SAMPLE = 1000


@dataclass(frozen=True)
class ExportResult:
    rows: int
    columns: tuple[str, ...]
    rows_with_extra: int
    never_seen: tuple[str, ...]  # --columns that no record had


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


def write_csv(
    out: IO[str],
    spec: ObjectSpec,
    rows: Iterable[dict[str, Any]],
    columns: Sequence[str] | None = None,
    sample_size: int = SAMPLE,
) -> ExportResult:
    """Write ``rows`` as CSV with a header; returns what was written."""
    stream = iter(rows)
    if columns is None:
        sample = list(itertools.islice(stream, sample_size))
        header = header_for(spec, sample)
        stream = itertools.chain(sample, stream)
        extra = True
    else:
        header = list(columns)
        extra = False
    stamps = set(spec.timestamps) - set(spec.key)  # as the loader's mapper
    known = set(header)
    seen: set[str] = set()
    writer = csv.writer(out)
    writer.writerow([*header, EXTRA_COLUMN] if extra else header)
    count = with_extra = 0
    for record in stream:
        cells = [cell(record.get(name), timestamp=name in stamps) for name in header]
        if extra:
            rest = {k: v for k, v in record.items() if k not in known}
            with_extra += bool(rest)
            cells.append(cell(rest) if rest else "")
        else:
            seen.update(k for k in record if k in known)
        writer.writerow(cells)
        count += 1
    missing = () if extra else tuple(c for c in header if c not in seen)
    return ExportResult(count, tuple(header), with_extra, missing)


def export_to(
    target: str,
    spec: ObjectSpec,
    rows: Iterable[dict[str, Any]],
    columns: Sequence[str] | None,
    stdout: Callable[[], IO[bytes]],
) -> ExportResult:
    """Write to ``target`` (``-`` = stdout). A file appears only when complete."""
    if target == "-":
        binary = stdout()
        text = _text(binary)
        try:
            return write_csv(text, spec, rows, columns)
        finally:
            text.flush()
            text.detach()
    path = Path(target)
    part = path.with_name(path.name + ".part")
    try:
        with part.open("w", encoding="utf-8", newline="") as handle:
            result = write_csv(handle, spec, rows, columns)
        os.replace(part, path)
    finally:
        part.unlink(missing_ok=True)
    return result


def _text(binary: IO[bytes]) -> Any:
    import io

    return io.TextIOWrapper(binary, encoding="utf-8", newline="", write_through=True)
