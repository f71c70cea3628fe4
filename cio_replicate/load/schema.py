"""A data table's columns, and their record in ``_cio_columns``.

Each API field has one column (its ``slot`` is ``(api_name, False)``); a
declared timestamp field that once carried a value that is no time also has
a ``raw`` sibling column (slot ``(api_name, True)``, logical type ``raw``)
holding that value as text. ``_cio_synced_at`` is in every table and is not
recorded (it is no API field).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import sqlalchemy as sa

from .. import systables
from .types import LOGICAL_TYPES, Logical

Slot = tuple[str, bool]  # (api_name, is the raw sibling)


@dataclass(frozen=True)
class Column:
    """One column of a data table: where an API field's values go."""

    api_name: str
    name: str
    type: Logical
    position: int

    @property
    def slot(self) -> Slot:
        return (self.api_name, self.type == "raw")


Columns = dict[Slot, Column]


def _logical(value: str) -> Logical:
    for logical in LOGICAL_TYPES:
        if value == logical:
            return logical
    raise ValueError(f"unknown logical type {value!r} in _cio_columns")


def read_map(conn: sa.Connection, table: str) -> Columns:
    """The recorded columns of ``table`` (empty if it has none yet)."""
    t = systables.columns
    rows = conn.execute(
        sa.select(t.c.api_name, t.c.column_name, t.c.sql_type, t.c.position)
        .where(t.c.table_name == table)
        .order_by(t.c.position)
    ).all()
    columns = [Column(str(a), str(c), _logical(str(s)), int(p)) for a, c, s, p in rows]
    return {col.slot: col for col in columns}


def write_map(
    conn: sa.Connection, table: str, before: Mapping[Slot, Column], after: Columns
) -> int:
    """Record what changed from ``before`` to ``after``; returns rows written."""
    t = systables.columns
    changed = [c for slot, c in after.items() if before.get(slot) != c]
    if not changed:
        return 0
    conn.execute(
        t.delete().where(t.c.table_name == table, t.c.column_name.in_([c.name for c in changed]))
    )
    conn.execute(
        t.insert(),
        [
            {
                "table_name": table,
                "column_name": c.name,
                "api_name": c.api_name,
                "sql_type": c.type,
                "position": c.position,
            }
            for c in changed
        ],
    )
    return len(changed)


def column_map(bind: sa.Engine | sa.Connection, table: str) -> list[Column]:
    """The columns of one data table, in position order (for ``objects --json``).

    ``type`` is the logical type: int, float, bool, text, timestamp, json, or
    raw (text holding the values of a timestamp field that were no time; its
    ``api_name`` is that timestamp field's). Every table also has the column
    ``_cio_synced_at`` (UTC), which is not listed.
    """
    if isinstance(bind, sa.Engine):
        with bind.connect() as conn:
            return column_map(conn, table)
    if not sa.inspect(bind).has_table(systables.columns.name):
        return []
    return sorted(read_map(bind, table).values(), key=lambda c: c.position)
