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

import math
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from ..errors import CioReplicateError
from .dialects import Dialect
from .infer import type_strings
from .names import SYNCED_AT, Naming, assign
from .schema import Column, Columns, Slot
from .types import (
    FLOAT_EXACT,
    INT64_MAX,
    INT64_MIN,
    Logical,
    clean_text,
    infer,
    join,
    needs_text,
    parse_timestamp,
    to_text,
)

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
        *,
        naming: Naming = "api",
        typed: Collection[str] | None = None,
    ) -> None:
        self.table = table
        self.dialect = dialect
        self.key = tuple(key)
        self.timestamps = frozenset(timestamps) - set(self.key)
        self.wanted = wanted  # shared with the TableWriter, changed in place
        self.naming = naming
        self.typed = None if typed is None else frozenset(typed) | set(self.key)
        """Strings are typed (load/infer.py) but for these fields and the key; None: never."""

    def is_timestamp(self, field: str) -> bool:
        """Declared a timestamp when its column was made (the recorded type wins)."""
        col = self.wanted.get((field, False))
        return field in self.timestamps if col is None else col.type == "timestamp"

    def prepare(self, records: Iterable[Mapping[str, Any]], synced_at: datetime) -> list[Row]:
        batch: Sequence[Mapping[str, Any]] = list(records)
        seen = _kinds(batch)
        renamed = {f: c for f in seen if (c := clean_text(f, self.dialect.text_nul)) != f}
        if renamed:  # a field name the database cannot store: U+FFFD where it cannot
            batch = [{renamed.get(f, f): v for f, v in r.items()} for r in batch]
            seen = _kinds(batch)
        stamped: frozenset[str] = frozenset()
        if self.typed is not None:
            batch, stamped = type_strings(batch, self._types(seen), self.typed)
            seen = _kinds(batch)
        self._check_keys(batch)
        times: dict[str, list[datetime | None]] = {}
        texts: dict[str, list[str | None]] = {}
        before = set(self.wanted)
        for field in sorted(seen):  # a collision is settled the same whatever the order
            if self.is_timestamp(field) or field in stamped:
                times[field], raw = _times(batch, field)
                if any(t is not None for t in raw):
                    texts[field] = raw
                    self._want_raw(field)
                self._want(field, "timestamp", False)
            else:
                self._want(field, *_infer(batch, field, seen[field]))
        self._order_new(before, list(seen))
        return self._rows(
            batch, [f for f in seen if (f, False) in self.wanted], times, texts, synced_at
        )

    def _types(self, fields: Iterable[str]) -> dict[str, Logical]:
        """The current column type of each field that has one (or is a declared time)."""
        types: dict[str, Logical] = {}
        for field in fields:
            col = self.wanted.get((field, False))
            if col is not None:
                types[field] = col.type
            elif field in self.timestamps:
                types[field] = "timestamp"
        return types

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
            name = assign(field, self._names(), self.dialect, naming=self.naming)
            self.wanted[slot] = Column(field, name, logical, self._next_position())
        elif logical != current.type:
            self.wanted[slot] = replace(current, type=logical)

    def _want_raw(self, field: str) -> None:
        slot = (field, True)
        if slot not in self.wanted:
            name = assign(field, self._names(), self.dialect, tag=RAW_TAG, naming=self.naming)
            self.wanted[slot] = Column(field, name, "raw", self._next_position())

    def _order_new(self, before: set[Slot], appearance: Sequence[str]) -> None:
        """New columns take their positions in the order their fields appeared
        (named in sorted order, placed in the records' order)."""
        new = [slot for slot in self.wanted if slot not in before]
        if len(new) < 2:
            return
        index = {field: i for i, field in enumerate(appearance)}
        positions = sorted(self.wanted[slot].position for slot in new)
        new.sort(key=lambda slot: (index[slot[0]], not slot[1]))  # a raw sibling first
        for slot, position in zip(new, positions, strict=True):
            self.wanted[slot] = replace(self.wanted[slot], position=position)

    def _names(self) -> list[str]:
        return [c.name for c in self.wanted.values()]

    def _next_position(self) -> int:
        return max((c.position for c in self.wanted.values()), default=0) + 1

    def _rows(
        self,
        batch: Sequence[Mapping[str, Any]],
        fields: Sequence[str],
        times: Mapping[str, list[datetime | None]],
        texts: Mapping[str, list[str | None]],
        synced_at: datetime,
    ) -> list[Row]:
        copied: list[tuple[str, str]] = []  # (column, field): the value as it is
        computed: list[tuple[str, Sequence[Any]]] = []  # (column, value per record)
        nulls = [None] * len(batch)
        for field in fields:
            column = self.wanted[(field, False)].name
            if field in times:
                computed.append((column, times[field]))
                raw = self.wanted.get((field, True))
                if raw is not None:  # once it exists, always written (a good value clears it)
                    computed.append((raw.name, texts.get(field, nulls)))
            else:
                copied.append((column, field))
        rows: list[Row] = []
        for i, record in enumerate(batch):
            row: Row = {column: record.get(field) for column, field in copied}
            for column, values in computed:
                row[column] = values[i]
            row[SYNCED_AT] = synced_at
            rows.append(row)
        return rows


def _kinds(batch: Sequence[Mapping[str, Any]]) -> dict[str, set[type]]:
    """Field -> the Python types of its values, fields in order of appearance."""
    seen: dict[str, set[type]] = {}
    for record in batch:
        for field, value in record.items():
            kinds = seen.get(field)
            if kinds is None:
                kinds = seen[field] = set()
            kinds.add(type(value))
    return seen


_SIMPLE: dict[type, Logical | None] = {
    str: "text",
    bool: "bool",
    dict: "json",
    list: "json",
    type(None): None,
}


def _infer(
    batch: Sequence[Mapping[str, Any]], field: str, kinds: set[type]
) -> tuple[Logical | None, bool]:
    """The joined type of a field's values in a batch, and whether an int needs > 53 bits."""
    logical: Logical | None = None
    big = False
    for kind in kinds:
        found: Logical | None
        if kind in _SIMPLE:
            found = _SIMPLE[kind]
        elif kind is int:
            ints = [v for r in batch if type(v := r.get(field)) is int]
            low, high = min(ints), max(ints)
            found = "int" if INT64_MIN <= low and high <= INT64_MAX else "text"
            big = max(-low, high) > FLOAT_EXACT
        elif kind is float:
            floats = (v for r in batch if type(v := r.get(field)) is float)
            found = "float" if all(math.isfinite(v) for v in floats) else "text"
        else:  # subclasses, tuples, decimals...: one value at a time
            found = None
            for record in batch:
                value = record.get(field)
                if type(value) is kind:
                    found = join(found, infer(value))
                    big = big or needs_text("float", value)
        logical = join(logical, found)
    return logical, big


def _times(
    batch: Sequence[Mapping[str, Any]], field: str
) -> tuple[list[datetime | None], list[str | None]]:
    """A timestamp field's values as datetimes, and as text where they are no time."""
    times: list[datetime | None] = []
    texts: list[str | None] = []
    for record in batch:
        value = record.get(field)
        try:
            times.append(parse_timestamp(value))
            texts.append(None)
        except ValueError:
            times.append(None)
            texts.append(to_text(value))
    return times, texts
