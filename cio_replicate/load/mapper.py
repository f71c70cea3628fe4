"""Records (API dicts) -> rows (column name -> value), noting new fields and types.

Pure: no database. The mapper owns the *wanted* columns of one table (what
the data seen so far needs); ``TableWriter.evolve`` makes the database match.

A batch's rows all carry the same columns: every field present in any of
its records (NULL where a record lacks it) plus ``_cio_synced_at``. Columns
of fields absent from the whole batch are not written, so an update never
blanks a column the batch knows nothing about. A new field whose values are
all null gets no column until a value arrives.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from ..errors import CioReplicateError
from .dialects import Dialect
from .names import SYNCED_AT, assign
from .schema import Column, Columns
from .types import Logical, infer, join, needs_text, parse_timestamp, to_text

RAW_TAG = "__raw"
Row = dict[str, Any]


class LoadError(CioReplicateError):
    """A batch cannot be loaded as it is (e.g. a record without its key)."""


class Mapper:
    """Maps the records of one table, widening its wanted columns as needed."""

    def __init__(
        self,
        table: str,
        dialect: Dialect,
        key: Sequence[str],
        timestamps: Iterable[str],
        wanted: Columns,
    ) -> None:
        self.table = table
        self.dialect = dialect
        self.key = tuple(key)
        self.timestamps = frozenset(timestamps) - set(self.key)
        self.wanted = wanted  # shared with the TableWriter, changed in place

    def is_timestamp(self, field: str) -> bool:
        col = self.wanted.get((field, False))
        return field in self.timestamps and (col is None or col.type == "timestamp")

    def prepare(self, records: Iterable[Mapping[str, Any]], synced_at: datetime) -> list[Row]:
        batch = list(records)
        fields: dict[str, Logical | None] = {}  # field -> joined type, in order of appearance
        big: set[str] = set()
        times: list[dict[str, datetime | None]] = []
        bad: set[str] = set()
        for record in batch:
            parsed: dict[str, datetime | None] = {}
            for field, value in record.items():
                if self.is_timestamp(field):
                    try:
                        parsed[field] = parse_timestamp(value)
                        fields[field] = join(
                            fields.get(field), None if value is None else "timestamp"
                        )
                    except ValueError:
                        parsed[field] = None
                        bad.add(field)
                        fields.setdefault(field, None)
                    continue
                fields[field] = join(fields.get(field), infer(value))
                if needs_text("float", value):
                    big.add(field)
            times.append(parsed)
        self._check_keys(batch)
        for field, seen in fields.items():
            self._want(field, "timestamp" if self.is_timestamp(field) else seen, field in big)
        for field in bad:
            self._want_raw(field)
        return self._rows(batch, times, [f for f in fields if (f, False) in self.wanted], synced_at)

    def _check_keys(self, batch: Sequence[Mapping[str, Any]]) -> None:
        for record in batch:
            for field in self.key:
                value = record.get(field)
                if value is None or infer(value) not in ("int", "text") or isinstance(value, bool):
                    raise LoadError(
                        f"{self.table}: a record has {field}={value!r}; "
                        f"key fields {', '.join(self.key)} must be integers or strings"
                    )

    def _want(self, field: str, seen: Logical | None, big: bool) -> None:
        slot = (field, False)
        current = self.wanted.get(slot)
        if seen is None and current is None:
            return  # only nulls so far: no column yet
        if current is not None and current.type == "timestamp" and seen == "timestamp":
            return
        logical = join(current.type if current else None, seen)
        assert logical is not None
        if big and logical == "float":
            logical = "text"  # a double would round an int above 2**53
        if current is None:
            name = assign(field, self._names(), self.dialect)
            self.wanted[slot] = Column(field, name, logical, self._next_position())
        elif logical != current.type:
            self.wanted[slot] = replace(current, type=logical)

    def _want_raw(self, field: str) -> None:
        slot = (field, True)
        if slot not in self.wanted:
            name = assign(field, self._names(), self.dialect, tag=RAW_TAG)
            self.wanted[slot] = Column(field, name, "raw", self._next_position())

    def _names(self) -> list[str]:
        return [c.name for c in self.wanted.values()]

    def _next_position(self) -> int:
        return max((c.position for c in self.wanted.values()), default=0) + 1

    def _rows(
        self,
        batch: Sequence[Mapping[str, Any]],
        times: Sequence[Mapping[str, datetime | None]],
        fields: Sequence[str],
        synced_at: datetime,
    ) -> list[Row]:
        plan = []
        for field in fields:
            main = self.wanted[(field, False)]
            raw = self.wanted.get((field, True))
            plan.append((field, main.name, raw.name if raw else None, self.is_timestamp(field)))
        rows: list[Row] = []
        for record, parsed in zip(batch, times, strict=True):
            row: Row = {}
            for field, column, raw_column, is_time in plan:
                value = record.get(field)
                if is_time:
                    row[column] = parsed.get(field)
                    if raw_column is not None:
                        unconverted = value is not None and parsed.get(field) is None
                        row[raw_column] = to_text(value) if unconverted else None
                else:
                    row[column] = value
            row[SYNCED_AT] = synced_at
            rows.append(row)
        return rows
