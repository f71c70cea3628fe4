"""Deletes: the ``_cio_deleted_at`` column, and rows whose key left the source.

A table that records deletes softly has the column ``_cio_deleted_at``
(a timestamp, NULL while the row is live). It is an ordinary recorded column
(``_cio_columns``, slot ``("_cio_deleted_at", False)``), so a table created
by an earlier version gains it through :meth:`TableWriter.evolve` like any
new field. Every row the tool writes carries it as NULL, so a key that
comes back is live again by the same upsert that writes it; only marking
needs to know that a read was complete, which is the caller's decision.

* :func:`live_keys`, :func:`mark_deleted`, :func:`remove`: for tables written
  by key (upserts): the caller compares the keys it read with the live ones.
* :func:`carry_deleted`: for a full refresh, the live table's rows missing
  from the stage are copied into it, marked (their mark kept if they had one).
* :func:`row_counts`: live and deleted rows, for ``status``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from .dialects import table_of
from .host import Refreshable
from .names import DELETED_AT, SYNCED_AT
from .schema import Column, Columns
from .writer import IN_CHUNK, converter

SLOT = (DELETED_AT, False)

Key = tuple[str, ...]
"""A key as text (the records' and the database's values compare equal so)."""


def text_key(values: Iterable[Any]) -> Key:
    return tuple("" if v is None else str(v) for v in values)


def want_column(wanted: Columns) -> None:
    """Add ``_cio_deleted_at`` to a table's wanted columns (a no-op once there)."""
    if SLOT not in wanted:
        position = max((c.position for c in wanted.values()), default=0) + 1
        wanted[SLOT] = Column(DELETED_AT, DELETED_AT, "timestamp", position)


def has_column(conn: sa.Connection, table: str) -> bool | None:
    """Whether ``table`` has ``_cio_deleted_at`` (None: no such table)."""
    inspector = sa.inspect(conn)
    if not inspector.has_table(table):
        return None
    return any(str(c["name"]) == DELETED_AT for c in inspector.get_columns(table))


def _stamp(writer: Refreshable, moment: datetime) -> Any:
    convert = converter(writer.target.dialect, "timestamp")
    return moment if convert is None else convert(moment)


def live_keys(
    conn: sa.Connection, writer: Refreshable, *, soft: bool
) -> dict[Key, tuple[Any, ...]]:
    """The keys of the table's live rows (``soft``: not marked deleted), as text ->
    as stored."""
    keys = writer.key_columns
    t = table_of(writer.name, [*keys, DELETED_AT])
    query = sa.select(*(t.c[k] for k in keys))
    if soft:
        query = query.where(t.c[DELETED_AT].is_(None))
    return {text_key(row): tuple(row) for row in conn.execute(query)}


def _chunks(keys: Sequence[tuple[Any, ...]]) -> Iterable[Sequence[tuple[Any, ...]]]:
    for start in range(0, len(keys), IN_CHUNK):
        yield keys[start : start + IN_CHUNK]


def _where_keys(t: sa.TableClause, names: Sequence[str], chunk: Sequence[tuple[Any, ...]]) -> Any:
    if len(names) == 1:
        return t.c[names[0]].in_([k[0] for k in chunk])
    return sa.tuple_(*(t.c[n] for n in names)).in_([tuple(k) for k in chunk])


def mark_deleted(
    conn: sa.Connection, writer: Refreshable, keys: Sequence[tuple[Any, ...]], moment: datetime
) -> int:
    """Mark these (stored) keys deleted at ``moment``, leaving rows marked already."""
    names = writer.key_columns
    t = table_of(writer.name, [*names, DELETED_AT, SYNCED_AT])
    stamp = _stamp(writer, moment)
    marked = 0
    for chunk in _chunks(keys):
        query = (
            sa.update(t)
            .where(_where_keys(t, names, chunk), t.c[DELETED_AT].is_(None))
            .values({DELETED_AT: stamp, SYNCED_AT: stamp})
        )
        marked += int(conn.execute(query).rowcount or 0)
    return marked


def remove(conn: sa.Connection, writer: Refreshable, keys: Sequence[tuple[Any, ...]]) -> int:
    """Delete the rows of these (stored) keys."""
    names = writer.key_columns
    t = table_of(writer.name, names)
    removed = 0
    for chunk in _chunks(keys):
        removed += int(conn.execute(sa.delete(t).where(_where_keys(t, names, chunk))).rowcount or 0)
    return removed


def carry_deleted(
    conn: sa.Connection, writer: Refreshable, stage: str, recorded: Columns, moment: datetime
) -> int:
    """Copy the live table's rows whose key is not in ``stage`` into it, marked deleted
    (a row marked already keeps its mark and its ``_cio_synced_at``). Returns the rows
    newly marked (the table's rows that were live). Nothing is carried from a table
    whose columns are not recorded (MySQL: a kill between the swap's RENAME, which
    commits, and the commit of its ``_cio_columns`` record): it is rebuilt as it is."""
    if not all((field, False) in recorded for field in writer.key):
        return 0
    keys = writer.key_columns
    common = [c.name for slot, c in recorded.items() if slot in writer.wanted and slot != SLOT]
    marked_before = SLOT in recorded
    o = table_of(writer.name, [*common, SYNCED_AT, DELETED_AT]).alias("o")
    s = table_of(stage, keys).alias("s")
    same_key = sa.and_(*(s.c[k] == o.c[k] for k in keys))
    gone = ~sa.select(sa.literal_column("1")).select_from(s).where(same_key).exists()
    stamp = sa.literal(_stamp(writer, moment))
    if marked_before:
        was_live = o.c[DELETED_AT].is_(None)
        deleted_at: Any = sa.case((was_live, stamp), else_=o.c[DELETED_AT])
        synced_at: Any = sa.case((was_live, stamp), else_=o.c[SYNCED_AT])
        newly = sa.select(sa.func.count()).select_from(o).where(gone, was_live)
    else:
        deleted_at = synced_at = stamp
        newly = sa.select(sa.func.count()).select_from(o).where(gone)
    count = int(conn.execute(newly).scalar_one())
    names = [*common, SYNCED_AT, DELETED_AT]
    source = sa.select(*(o.c[n] for n in common), synced_at, deleted_at).where(gone)
    conn.execute(sa.insert(table_of(stage, names)).from_select(names, source))
    return count


def row_counts(conn: sa.Connection, table: str) -> tuple[int, int] | None:
    """(live rows, rows marked deleted) of a data table; None if it does not exist."""
    marked = has_column(conn, table)
    if marked is None:
        return None
    t = table_of(table, [DELETED_AT])
    total = int(conn.execute(sa.select(sa.func.count()).select_from(t)).scalar_one())
    if not marked:
        return total, 0
    query = sa.select(sa.func.count()).select_from(t).where(t.c[DELETED_AT].is_not(None))
    deleted = int(conn.execute(query).scalar_one())
    return total - deleted, deleted
