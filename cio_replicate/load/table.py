"""One data table: map records to rows, evolve the schema, write in bulk."""

from __future__ import annotations

import weakref
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any, NamedTuple

import sqlalchemy as sa
from sqlalchemy import event

from ..clock import from_unix
from .ddl import Widening
from .deletes import want_column
from .dialects import BulkPath
from .host import Host
from .indexes import ensure_indexes
from .mapper import LoadError, Mapper, Row
from .merge import merge_stored
from .names import DELETED_AT, SYNCED_AT, Naming, fold
from .replace import ReplaceResult, SwapPolicy, replace_staged, replace_table
from .schema import Column, Columns, read_map, write_map
from .types import Logical, join
from .writer import Shape


class TableAltered(LoadError):
    """The live table differs from what ``_cio_columns`` records (altered by hand)."""

    def __init__(self, table: str, problem: str, object_name: str | None) -> None:
        self.table = table
        self.problem = problem
        what = object_name or "<object>"
        super().__init__(
            f"table {table} was altered outside cio-replicate: {problem}; "
            f"run `cio-replicate replicate {what} --full-refresh` to rebuild it"
        )


class UpsertCounts(NamedTuple):
    inserted: int
    updated: int


class TableWriter:
    """Writes one data table. Get one from :meth:`Target.table`.

    ``prepare`` is pure (no database); ``evolve`` brings the table up to what
    the prepared rows need (create it, add columns, widen types) and records
    the column map in ``_cio_columns``, in the caller's transaction.
    """

    def __init__(
        self,
        target: Host,
        name: str,
        key: Sequence[str],
        timestamps: Sequence[str],
        recorded: Columns,
        *,
        open_key: bool = False,
        soft_deletes: bool = False,
        naming: Naming = "api",
        typed: Collection[str] | None = None,
    ) -> None:
        self.target = target
        self.open_key = open_key
        self.name = name
        self.key = tuple(key)
        self._db: Columns | None = dict(recorded)  # as recorded; None: reload
        self._wanted: Columns = dict(recorded)
        self.soft_deletes = soft_deletes
        """Rows carry ``_cio_deleted_at`` (NULL: live), see :mod:`cio_replicate.load.deletes`."""
        if soft_deletes:
            want_column(self._wanted)
        self._mapper = Mapper(
            name, target.dialect, self.key, timestamps, self._wanted, naming=naming, typed=typed
        )
        self._watched: weakref.WeakSet[sa.Connection] = weakref.WeakSet()
        self._verified = False
        self.object_name: str | None = None
        """The object this table belongs to (named in hints)."""

    def __repr__(self) -> str:
        return f"TableWriter({self.name!r}, key={self.key!r})"

    # --- the mapping ------------------------------------------------------------

    @property
    def columns(self) -> list[Column]:
        """The columns this table has or will have after ``evolve``, by position."""
        return sorted(self._wanted.values(), key=lambda c: c.position)

    def column(self, api_name: str) -> Column | None:
        """The column of an API field (None if no value has been seen yet)."""
        return self._wanted.get((api_name, False))

    @property
    def wanted(self) -> Columns:
        """The live wanted columns by slot (the mapper widens them in place)."""
        return self._wanted

    @property
    def key_columns(self) -> tuple[str, ...]:
        names = []
        for field in self.key:
            col = self.column(field)
            if col is None:
                raise ValueError(f"{self.name}: no record with key field {field!r} prepared yet")
            names.append(col.name)
        return tuple(names)

    def sa_table(self) -> sa.Table:
        """A SQLAlchemy Table for reading the data back: aware UTC datetimes, parsed JSON."""
        return self.target.ddl.sa_table(
            self.name, self._wanted.values(), self.key_columns, open_key=self.open_key
        )

    def prepare(self, records: Iterable[Mapping[str, Any]]) -> list[Row]:
        """Records (API dicts) -> rows (column name -> value), for one batch.

        Unix seconds in the timestamp fields become aware UTC datetimes; objects
        and arrays stay Python values (written as JSON); every row gets
        ``_cio_synced_at``. New fields and wider types are noted for ``evolve``.
        """
        rows = self._mapper.prepare(records, from_unix(self.target.clock()))
        if (DELETED_AT, False) in self._wanted:  # soft deletes, now or in an earlier run
            for row in rows:
                row[DELETED_AT] = None  # written: a key that comes back is live again
        return rows

    # --- schema -------------------------------------------------------------------

    def evolve(self, conn: sa.Connection) -> bool:
        """Create the table, add new columns, widen types; True if anything changed.

        On MySQL every DDL statement commits the open transaction first (MySQL
        has no transactional DDL); on PostgreSQL and SQLite it all rolls back
        with the caller's transaction.
        """
        recorded = self.recorded(conn)
        self.verify(conn)
        if all(recorded.get(slot) == col for slot, col in self._wanted.items()):
            return False
        self.sync(conn, self.name, recorded, check_existing=True)
        self.index(conn, self._wanted)
        write_map(conn, self.name, recorded, self._wanted)
        self.mark_recorded(conn)
        return True

    def verify(self, conn: sa.Connection) -> None:
        """Raise :class:`TableAltered` if the live table lost a recorded column or the
        table itself, or a column's type was changed by hand (checked once per writer)."""
        if self._verified:
            return
        recorded = self.recorded(conn)
        if recorded:
            problem = self.altered(conn)
            if problem is not None:
                raise TableAltered(self.name, problem, self.object_name)
            self.index(conn, recorded)  # a table from an older version may lack some
        self._verified = True

    def index(self, conn: sa.Connection, columns: Columns) -> None:
        """Create the join indexes the table lacks (:mod:`cio_replicate.load.indexes`)."""
        ensure_indexes(conn, self.target.dialect, self.name, columns.values(), self.key_columns)

    def altered(self, conn: sa.Connection, table: str | None = None) -> str | None:
        """How the live table differs from what is recorded (None: it does not)."""
        recorded = self.recorded(conn)
        keys = [c.name for slot, c in recorded.items() if slot in {(f, False) for f in self.key}]
        return self.target.ddl.mismatch(conn, table or self.name, recorded.values(), keys)

    def recorded(self, conn: sa.Connection) -> Columns:
        """The columns as ``_cio_columns`` has them (read again after a rollback)."""
        if self._db is None:
            self._db = read_map(conn, self.name)
            self._merge(self._db)
        return self._db

    def mark_recorded(self, conn: sa.Connection) -> None:
        """The wanted columns are now recorded, in ``conn``'s transaction."""
        self._db = dict(self._wanted)
        self._watch(conn)

    def _merge(self, recorded: Columns) -> None:
        """Never narrow what is recorded (another writer may have widened it)."""
        for slot, col in recorded.items():
            mine = self._wanted.get(slot)
            if mine is None:
                self._wanted[slot] = col
            elif mine.type != col.type and col.type != "timestamp":
                wider = join(col.type, mine.type)
                assert wider is not None
                self._wanted[slot] = replace(mine, type=wider)

    def sync(
        self, conn: sa.Connection, table: str, have: Columns | None, *, check_existing: bool
    ) -> None:
        """Make ``table`` (with columns ``have``; None: no table) have the wanted columns."""
        ddl = self.target.ddl
        stored = ddl.existing_columns(conn, table) if check_existing else None
        if have is None or (check_existing and stored is None):
            ddl.create(conn, table, self._wanted.values(), self.key_columns, open_key=self.open_key)
            return
        widen: list[Widening] = []
        for slot, col in self._wanted.items():
            old = have.get(slot)
            if old is None or old.type == col.type:
                continue
            if (
                old.type == "int"
                and col.type == "float"
                and ddl.has_big_ints(conn, table, col.name)
            ):
                col = self._wanted[slot] = replace(col, type="text")
            widen.append((old, col))
        wanted = self.columns
        if widen:
            ddl.widen(conn, table, widen, wanted, self.key_columns, open_key=self.open_key)
            if self.target.dialect.widen == "rebuild":
                return  # the rebuild added the new columns too
        present = {fold(n) for n in stored} if stored is not None else set()
        adds = [
            c
            for slot, c in self._wanted.items()
            if slot not in have and fold(c.name) not in present
        ]
        adds.sort(key=lambda c: c.position)
        string_keys = sum(1 for c in wanted if c.name in self.key_columns and c.type == "text")
        ddl.add(conn, table, adds, self.key_columns, string_keys)

    def _watch(self, conn: sa.Connection) -> None:
        """After a rollback, what is recorded must be read again."""
        if conn in self._watched:
            return
        self._watched.add(conn)

        def forget(*_: object) -> None:
            self._db = None

        event.listen(conn, "rollback", forget)
        event.listen(conn, "rollback_savepoint", forget)

    # --- writes -------------------------------------------------------------------

    def shape(self, rows: Sequence[Row], table: str | None = None) -> Shape:
        """The columns a batch writes (all its rows have the same ones)."""
        types: dict[str, Logical] = {c.name: c.type for c in self._wanted.values()}
        types[SYNCED_AT] = "timestamp"
        columns = tuple((name, types[name]) for name in rows[0])
        return Shape(table or self.name, columns, self.key_columns)

    def upsert(
        self,
        conn: sa.Connection,
        rows: Sequence[Row],
        *,
        path: BulkPath | None = None,
        merge: str | None = None,
    ) -> UpsertCounts:
        """Insert new keys, update changed rows; returns (inserted, updated).

        Rows equal to the stored ones (``_cio_synced_at`` aside) are not
        written and not counted. Calls ``evolve`` first if it is due.
        ``merge``: the API field whose JSON object is merged into the stored one
        (stored keys kept, :mod:`cio_replicate.load.merge`) before the comparison.
        """
        if not rows:
            return UpsertCounts(0, 0)
        self.evolve(conn)
        if merge is not None:
            rows = self.merge_stored(conn, rows, merge)
        ins, upd = self.target.sql.write(
            conn, self.shape(rows), rows, update=True, path=path or self.target.bulk
        )
        return UpsertCounts(ins, upd)

    def merge_stored(
        self, conn: sa.Connection, rows: Sequence[Row], field: str, *, lock: bool = True
    ) -> list[Row]:
        """Rows whose JSON object ``field`` is merged into the one the table stores under
        the same key (:mod:`cio_replicate.load.merge`); as they are if the table has no
        such column yet. ``lock=False``: a read for a stage (the table is not written)."""
        col = self.column(field)
        if col is None or col.type != "json" or (field, False) not in self.recorded(conn):
            return list(rows)
        table = self.target.ddl.sa_table(self.name, self.recorded(conn).values(), self.key_columns)
        return merge_stored(conn, table, self.key_columns, col.name, rows, lock=lock)

    def insert_missing(
        self, conn: sa.Connection, rows: Sequence[Row], *, path: BulkPath | None = None
    ) -> int:
        """Insert rows whose key is not in the table; never touch existing rows."""
        if not rows:
            return 0
        self.evolve(conn)
        ins, _ = self.target.sql.write(
            conn, self.shape(rows), rows, update=False, path=path or self.target.bulk
        )
        return ins

    def replace(
        self,
        conn: sa.Connection,
        batches: Iterable[Sequence[Row] | Row],
        *,
        batch_size: int = 5000,
        path: BulkPath | None = None,
        run_id: str | None = None,
    ) -> ReplaceResult:
        """Full refresh: the table's content becomes exactly these rows, atomically.

        ``batches`` yields prepared batches (``prepare()``'s lists) or single
        rows, and is consumed one batch at a time into a staging table, which
        then takes the table's place. See :mod:`cio_replicate.load.replace`.
        """
        return replace_table(self, conn, batches, batch_size=batch_size, path=path, run_id=run_id)

    def replace_staged(
        self,
        batches: Iterable[Sequence[Row] | Row],
        finish: Callable[[sa.Connection, ReplaceResult], None],
        *,
        batch_size: int = 5000,
        path: BulkPath | None = None,
        run_id: str | None = None,
        guard: Callable[[sa.Connection], None] | None = None,
        swap: SwapPolicy | None = None,
        soft_deleted_at: datetime | None = None,
    ) -> ReplaceResult:
        """Full refresh in short transactions: each batch is staged and committed
        on its own, then one transaction swaps the stage in and runs ``finish``
        (the caller's state). Readers still see the old table until the swap.

        ``run_id`` names the stage (unique per run); ``guard`` runs last in each
        stage transaction and first in the swap's (e.g. the lock's ``confirm``);
        ``swap`` bounds the wait for readers of the old table; ``soft_deleted_at``:
        rows gone from the source stay, marked deleted then."""
        return replace_staged(
            self,
            batches,
            finish,
            batch_size=batch_size,
            path=path,
            run_id=run_id,
            guard=guard,
            swap=swap,
            soft_deleted_at=soft_deleted_at,
        )
