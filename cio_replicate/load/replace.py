"""Full refresh: stage the new content, then swap it in, atomically for readers.

1. ``<table>__cio_new_<run>`` (``<run>``: 8 hex digits of the run id, so two
   runs never share a stage) is created with the wanted columns (what
   ``_cio_columns`` records plus what the rows bring, never the live table's
   columns: a table altered by hand is rebuilt as it should be). Leftover
   stages of this table (a killed run's, or a run that lost the object's
   lock) are dropped first: call this holding the object's lock.
2. Batches stream into it, one at a time (memory stays flat); a new field or
   a wider type seen mid-stream changes the stage as it goes.
3. The stage is compared with the old table (rows inserted, updated, deleted);
   when nothing changed (rows and columns), the stage is dropped and the live
   table stays as it was, so a rerun without upstream change writes no row.
4. The stage takes the table's place: on PostgreSQL and SQLite by DROP +
   RENAME inside the caller's transaction, so readers see the old table until
   the commit and the new one after; on MySQL by one ``RENAME TABLE t TO
   old, stage TO t`` (atomic), after which the old table is dropped. MySQL
   commits implicitly at each DDL statement: the stage's rows are committed
   by the RENAME, before the caller's commit. A session reading the old table
   in an open transaction holds a lock the swap needs, and the swap's waiting
   blocks new readers: the swap waits at most ``SwapPolicy.timeout`` seconds
   (PostgreSQL ``lock_timeout``, MySQL ``lock_wait_timeout``), then retries
   with backoff, and finally gives up (:class:`SwapTimeout`): table kept,
   stage dropped, ``finish`` (the caller's state) not run.

A live table altered by hand (a column dropped, a type changed, the table
dropped) is not compared with the stage (the comparison would fail or lie):
every staged row counts as inserted and every old row as deleted.

Swapping drops what hangs on the old table (views, grants, a PostgreSQL
view would even block the DROP).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from .deletes import carry_deleted
from .dialects import BulkPath, table_of
from .host import Refreshable
from .mapper import Row
from .schema import Columns, write_map
from .staging import (
    Guard,
    SwapPolicy,
    SwapTimeout,
    drop_leftovers,
    lock_timed_out,
    lock_timeout,
    stage_name,
    stage_prefix,
)
from .writer import BINARY_TYPES

__all__ = ["ReplaceResult", "SwapPolicy", "SwapTimeout", "stage_name", "stage_prefix"]

log = logging.getLogger("cio_replicate.load")


@dataclass(frozen=True)
class ReplaceResult:
    """What a full refresh did: rows now in the table, and the change against before."""

    rows: int
    inserted: int  # keys that were not in the old table
    updated: int  # keys in both, with a different value in some column
    deleted: int  # keys of the old table that are gone


def _batches(items: Iterable[Sequence[Row] | Row], size: int) -> Iterator[Sequence[Row]]:
    """Prepared batches as they come; loose rows grouped ``size`` at a time."""
    loose: list[Row] = []
    for item in items:
        if isinstance(item, Mapping):
            loose.append(dict(item))
            if len(loose) >= size:
                yield loose
                loose = []
        elif item:
            yield item
    if loose:
        yield loose


def replace_table(
    writer: Refreshable,
    conn: sa.Connection,
    items: Iterable[Sequence[Row] | Row],
    *,
    batch_size: int,
    path: BulkPath | None,
    run_id: str | None = None,
) -> ReplaceResult:
    """Stage and swap inside the caller's one transaction."""
    stage = stage_name(writer.name, run_id or str(uuid.uuid4()), writer.target.dialect)
    recorded, exists, problem = _begin(writer, conn, stage)
    staged: Columns | None = None
    for rows in _batches(items, batch_size):
        staged = _stage(writer, conn, stage, staged, rows, path)
    if staged is None and exists:
        writer.sync(conn, stage, None, check_existing=False)  # an empty table
    change = _measure(writer, conn, stage, recorded, exists, staged, problem)
    return _swap(writer, conn, stage, recorded, exists, change)


def _begin(
    writer: Refreshable, conn: sa.Connection, stage: str
) -> tuple[Columns, bool, str | None]:
    """(recorded columns, the live table exists, how it was altered by hand)."""
    recorded = writer.recorded(conn)
    exists = writer.target.ddl.existing_columns(conn, writer.name) is not None
    problem = writer.altered(conn) if exists and recorded else None
    if problem is not None:
        log.warning(
            "%s was altered outside cio-replicate (%s): rebuilding it from the source",
            writer.name,
            problem,
        )
    drop_leftovers(writer, conn, stage)
    writer.target.ddl.drop(conn, stage)
    return recorded, exists, problem


def replace_staged(
    writer: Refreshable,
    items: Iterable[Sequence[Row] | Row],
    finish: Callable[[sa.Connection, ReplaceResult], None],
    *,
    batch_size: int,
    path: BulkPath | None,
    run_id: str | None = None,
    guard: Guard | None = None,
    swap: SwapPolicy | None = None,
    soft_deleted_at: datetime | None = None,
) -> ReplaceResult:
    """Stage each batch in a short transaction of its own; swap in a last one.

    ``finish`` runs in the swap's transaction (the caller's state goes there).
    No write lock is held while ``items`` is produced (API calls, on SQLite the
    whole database's lock), and a kill before the swap leaves the live table
    as it was, plus a stage that the next full refresh drops first. Any other
    failure drops the stage. ``guard`` (e.g. the object lock's ``confirm``)
    runs last in each stage transaction and first in the swap's.
    ``soft_deleted_at``: the live table's rows missing from the stage are kept,
    marked deleted at that moment (:func:`~cio_replicate.load.deletes.carry_deleted`);
    they count as deleted, not updated.
    """
    target = writer.target
    stage = stage_name(writer.name, run_id or str(uuid.uuid4()), target.dialect)
    with target.begin() as conn:
        recorded, exists, problem = _begin(writer, conn, stage)
    try:
        staged: Columns | None = None
        for rows in _batches(items, batch_size):
            with target.begin() as conn:
                staged = _stage(writer, conn, stage, staged, rows, path)
                if guard is not None:
                    guard(conn)
        if staged is None and exists:
            with target.begin() as conn:
                writer.sync(conn, stage, None, check_existing=False)  # an empty table
        marked = 0
        if soft_deleted_at is not None and exists and problem is None:
            with target.begin() as conn:
                marked = carry_deleted(conn, writer, stage, recorded, soft_deleted_at)
                if guard is not None:
                    guard(conn)
        # The comparison reads (seconds on millions of rows) outside the write
        # transaction: on SQLite that holds the whole database's write lock, which
        # the run's other objects wait for. The object's lock keeps other writers
        # away from this table and its stage meanwhile.
        with target.connect() as conn:
            change = _measure(writer, conn, stage, recorded, exists, staged, problem)
        if marked:
            r = change.result
            moved = ReplaceResult(r.rows, r.inserted, r.updated - marked, r.deleted + marked)
            change = _Change(moved, change.swap)
        return _swap_in(writer, stage, recorded, exists, change, finish, guard, swap)
    except BaseException:
        _drop_quietly(writer, stage)
        raise


def _drop_quietly(writer: Refreshable, stage: str) -> None:
    try:
        with writer.target.begin() as conn:
            writer.target.ddl.drop(conn, stage)
    except Exception:  # the database may be what failed: the next refresh drops it
        log.debug("could not drop %s", stage, exc_info=True)


class _Busy(Exception):
    """The swap's DDL waited longer than the policy allows."""


def _swap_in(
    writer: Refreshable,
    stage: str,
    recorded: Columns,
    exists: bool,
    change: _Change,
    finish: Callable[[sa.Connection, ReplaceResult], None],
    guard: Guard | None,
    swap: SwapPolicy | None,
) -> ReplaceResult:
    """The swap and ``finish`` in one transaction, retried while readers hold the table."""
    policy = swap or SwapPolicy()
    target = writer.target
    for attempt in range(policy.attempts):
        if attempt:
            policy.sleep(policy.backoff * 2 ** (attempt - 1))
        try:
            with target.begin() as conn:
                if guard is not None:
                    guard(conn)
                result = _bounded_swap(writer, conn, stage, recorded, exists, change, policy)
                finish(conn, result)
            return result
        except _Busy:
            log.info("%s: readers hold the table, swap try %d failed", writer.name, attempt + 1)
    raise SwapTimeout(writer.name, policy)


def _bounded_swap(
    writer: Refreshable,
    conn: sa.Connection,
    stage: str,
    recorded: Columns,
    exists: bool,
    change: _Change,
    policy: SwapPolicy,
) -> ReplaceResult:
    """``_swap`` with a lock timeout (only around the swap, not the caller's ``finish``)."""
    with lock_timeout(writer.target.sql, conn, policy.timeout):
        try:
            return _swap(writer, conn, stage, recorded, exists, change)
        except sa.exc.DBAPIError as exc:
            if lock_timed_out(exc, writer.target.dialect):
                raise _Busy from exc
            raise


def _stage(
    writer: Refreshable,
    conn: sa.Connection,
    stage: str,
    staged: Columns | None,
    rows: Sequence[Row],
    path: BulkPath | None,
) -> Columns:
    """One batch into the stage (its columns follow new fields and wider types)."""
    target = writer.target
    writer.sync(conn, stage, staged, check_existing=False)
    shape = writer.shape(rows, table=stage)
    target.sql.write(conn, shape, rows, update=True, path=path or target.bulk, count=False)
    return dict(writer.wanted)


@dataclass(frozen=True)
class _Change:
    result: ReplaceResult
    swap: bool
    """False: nothing changed (rows and columns), or nothing was ever seen."""


def _measure(
    writer: Refreshable,
    conn: sa.Connection,
    stage: str,
    recorded: Columns,
    exists: bool,
    staged: Columns | None,
    problem: str | None = None,
) -> _Change:
    """The stage against the live table (reads only)."""
    if staged is None and not exists:
        return _Change(ReplaceResult(0, 0, 0, 0), swap=False)  # nothing seen, nothing to create
    total = _count(conn, stage)
    if not exists:
        return _Change(ReplaceResult(total, total, 0, 0), swap=True)
    if problem is not None:  # altered by hand: rebuild, whatever the rows say
        return _Change(ReplaceResult(total, total, 0, _count(conn, writer.name)), swap=True)
    before: Columns = dict(recorded)
    inserted, updated, deleted = _compare(writer, conn, stage, before, total)
    unchanged_schema = all(before.get(slot) == col for slot, col in writer.wanted.items())
    if (inserted, updated, deleted) == (0, 0, 0) and unchanged_schema:
        return _Change(ReplaceResult(total, 0, 0, 0), swap=False)
    return _Change(ReplaceResult(total, inserted, updated, deleted), swap=True)


def _swap(
    writer: Refreshable,
    conn: sa.Connection,
    stage: str,
    recorded: Columns,
    exists: bool,
    change: _Change,
) -> ReplaceResult:
    """Swap the stage in, or drop it when nothing changed (the live table and its
    rows' ``_cio_synced_at`` stay as they were)."""
    ddl = writer.target.ddl
    if not change.swap:
        if exists:
            ddl.drop(conn, stage)
            if recorded:
                writer.index(conn, recorded)  # a table from an older version may lack some
        return change.result
    ddl.swap(conn, stage, writer.name, exists)
    writer.index(conn, writer.wanted)  # the old table's indexes went with it
    write_map(conn, writer.name, recorded, writer.wanted)
    writer.mark_recorded(conn)
    return change.result


def _count(conn: sa.Connection, table: str) -> int:
    return int(
        conn.execute(sa.select(sa.func.count()).select_from(table_of(table, ()))).scalar_one()
    )


def _compare(
    writer: Refreshable, conn: sa.Connection, stage: str, before: Columns, total: int
) -> tuple[int, int, int]:
    """(inserted, updated, deleted) of the stage against the live table."""
    dialect = writer.target.dialect
    keys = writer.key_columns
    key_slots = {(f, False) for f in writer.key}
    if any(before.get(s) is None or before[s].type != writer.wanted[s].type for s in key_slots):
        return total, 0, _count(conn, writer.name)  # keys changed type: every row counts as new
    names = [c.name for c in writer.wanted.values()]
    s = table_of(stage, names).alias("s")
    o = table_of(writer.name, names).alias("o")
    same: list[sa.ColumnElement[bool]] = []
    for slot, col in writer.wanted.items():
        if slot in key_slots:
            continue
        old_col = before.get(slot)
        new: Any = s.c[col.name]
        old: Any = o.c[col.name]
        if old_col is None:
            same.append(new.is_(None))  # a new column: a value there is a change
        elif old_col.type == col.type:
            if dialect.binary_compare and col.type in BINARY_TYPES:
                new, old = sa.cast(new, sa.LargeBinary), sa.cast(old, sa.LargeBinary)
            same.append(new.is_not_distinct_from(old))
        # widened columns are not compared
    on = sa.and_(*(s.c[k] == o.c[k] for k in keys))
    first = o.c[keys[0]]
    differs = sa.not_(sa.and_(*same)) if same else sa.false()
    row = conn.execute(
        sa.select(
            sa.func.sum(sa.case((first.is_(None), 1), else_=0)),
            sa.func.sum(sa.case((sa.and_(first.is_not(None), differs), 1), else_=0)),
        ).select_from(s.outerjoin(o, on))
    ).one()
    gone = sa.select(sa.literal_column("1")).select_from(s).where(on).exists()
    deleted = conn.execute(sa.select(sa.func.count()).select_from(o).where(~gone)).scalar_one()
    new_rows, changed = tuple(row)
    return int(new_rows or 0), int(changed or 0), int(deleted)
