"""CSV in and out: streaming reads that survive hostile files, and the rejects file.

Reads accept a UTF-8 BOM, quotes and newlines inside cells and cells of any size;
a row whose value count differs from the header is returned with an error rather
than dropped. The rejects file repeats the input columns as they were (so it can be
fixed and imported again with the same ``--map``) plus ``_cio_error`` and ``_cio_row``.
"""

from __future__ import annotations

import csv
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import IO, Any

from ..errors import UsageError

ERROR_COLUMN = "_cio_error"
ROW_COLUMN = "_cio_row"
INTERNAL_PREFIX = "_cio_"

csv.field_size_limit(min(sys.maxsize, 2**31 - 1))


@dataclass(frozen=True)
class CsvRow:
    number: int  # 1-based data row (the header is row 0)
    line: int  # physical line where the row starts
    values: dict[str, Any]
    raw: tuple[str, ...]
    error: str | None = None


def read_header(path: Path) -> tuple[str, ...]:
    with _open(path) as handle:
        return _header(path, csv.reader(handle))


def read_rows(path: Path) -> Iterator[CsvRow]:
    """Rows of a UTF-8 CSV file with a header, one at a time."""
    with _open(path) as handle:
        reader = csv.reader(handle)
        header = _header(path, reader)
        number = 0
        line = reader.line_num + 1
        try:
            for raw in reader:
                number += 1
                if not raw:  # a blank line
                    line = reader.line_num + 1
                    continue
                error = None
                if len(raw) != len(header):
                    error = f"row has {len(raw)} values but the header has {len(header)} columns"
                values = dict(zip(header, raw, strict=False))
                yield CsvRow(number, line, values, tuple(raw), error)
                line = reader.line_num + 1
        except UnicodeDecodeError as exc:
            raise UsageError(
                f"{path}: not UTF-8 after line {reader.line_num} ({exc.reason})"
            ) from None
        except csv.Error as exc:
            raise UsageError(f"{path}: line {reader.line_num}: {exc}") from None


def _open(path: Path) -> IO[str]:
    try:
        return path.open(encoding="utf-8-sig", newline="")
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror}") from None


def _header(path: Path, reader: Any) -> tuple[str, ...]:
    try:
        header = next(reader, None)
    except (UnicodeDecodeError, csv.Error) as exc:
        raise UsageError(f"{path}: cannot read the header line: {exc}") from None
    if not header or all(not name.strip() for name in header):
        raise UsageError(f"{path}: the first line must be a header naming the columns")
    names = tuple(name.strip() for name in header)
    seen: set[str] = set()
    for name in names:
        if not name:
            raise UsageError(f"{path}: a header column has no name")
        if name in seen:
            raise UsageError(f"{path}: column {name!r} appears twice in the header")
        seen.add(name)
    return names


class RejectsWriter:
    """Writes failed rows as they happen (flushed per row, so a crash keeps them).

    The file is created at the first rejected row: a run that rejects nothing leaves
    no empty file (and leaves alone a rejects file of an earlier run, see
    :attr:`stale`). The folder is checked at once, so a wrong path fails before
    any row is sent.
    """

    def __init__(self, path: Path, columns: Sequence[str]) -> None:
        self.path = path
        self.count = 0
        self._columns = [c for c in columns if c not in (ERROR_COLUMN, ROW_COLUMN)]
        if path.is_dir():
            raise UsageError(f"--rejects {path} is a folder; give a file name inside it")
        folder = path.absolute().parent
        if not folder.is_dir():
            raise UsageError(
                f"cannot write the rejects file {path}: the folder {folder} does not exist "
                "(create it first)"
            )
        self.stale = path.exists()
        """A rejects file from an earlier run is there (replaced if this run rejects a row)."""
        self._handle: IO[str] | None = None
        self._writer: Any = None

    def _open(self) -> Any:
        if self._writer is None:
            try:
                self._handle = self.path.open("w", encoding="utf-8", newline="")
            except OSError as exc:
                raise UsageError(
                    f"cannot write the rejects file {self.path}: {exc.strerror}"
                ) from None
            self._writer = csv.writer(self._handle)
            self._writer.writerow([*self._columns, ERROR_COLUMN, ROW_COLUMN])
        return self._writer

    def write(self, values: dict[str, Any], error: str, row: int, raw: Sequence[str] = ()) -> None:
        cells = [_cell(values.get(c)) for c in self._columns]
        if raw and len(raw) > len(self._columns):  # keep surplus values rather than lose them
            cells += [_cell(v) for v in raw[len(self._columns) :]]
        self._open().writerow([*cells, error, row])
        assert self._handle is not None
        self._handle.flush()
        self.count += 1

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()

    def __enter__(self) -> RejectsWriter:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def _cell(value: Any) -> str:
    if value is None:
        return ""
    return value if isinstance(value, str) else str(value)


def default_rejects_path(source: Path) -> Path:
    """``people.csv`` -> ``people.rejects.csv`` beside it."""
    return source.with_name(f"{source.stem}.rejects.csv")
