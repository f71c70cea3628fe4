"""Bulk writes, one statement per batch (never a round trip per row).

* SQLite: ``executemany`` of ``INSERT ... ON CONFLICT DO UPDATE ... WHERE``
  inside the caller's transaction.
* PostgreSQL: psycopg 3 ``COPY`` into a temporary stage, then one
  ``INSERT ... SELECT ... ON CONFLICT DO UPDATE ... WHERE ... IS DISTINCT FROM``
  whose ``RETURNING (xmax = 0)`` tells inserts from updates (default); or
  pipelined ``executemany`` (selectable, for measurements).
* MySQL/MariaDB: PyMySQL rewrites ``executemany`` into multi-row
  ``INSERT ... ON DUPLICATE KEY UPDATE``.

A row whose values (all but ``_cio_synced_at``) equal the stored row is not
written at all, so it counts neither as inserted nor as updated and keeps
its old ``_cio_synced_at``: a rerun with no upstream change writes nothing.
Where the driver cannot tell inserts from updates (SQLite, MySQL with
SQLAlchemy's FOUND_ROWS client flag, the executemany path on PostgreSQL),
one indexed ``SELECT COUNT(*) ... WHERE key IN (...)`` per batch counts the
keys already present.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql.compiler import SQLCompiler

from .dialects import BulkPath, Dialect, insert, table_of
from .names import SYNCED_AT
from .types import Logical, clean_json, clean_text, dumps, shallow, to_text

IN_CHUNK = 1000  # keys per existence query (2 keys x 1000 is far under every parameter limit)
MAX_COMPILED = 256  # compiled statements kept per writer (a few per batch shape)
BINARY_TYPES = ("text", "raw", "json")  # compared as BINARY where the dialect says so
Row = Mapping[str, Any]


@dataclass(frozen=True)
class Shape:
    """The columns one statement writes, in row order, and the key columns."""

    table: str
    columns: tuple[tuple[str, Logical], ...]  # (column name, logical type)
    keys: tuple[str, ...]

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.columns)

    @property
    def compared(self) -> tuple[str, ...]:
        """Columns whose change makes a row 'updated'."""
        return tuple(n for n in self.names if n not in self.keys and n != SYNCED_AT)


def _sqlite_time(value: datetime) -> str:
    # SQLAlchemy's own SQLite DATETIME storage format, in UTC.
    if value.tzinfo is not UTC:
        value = value.astimezone(UTC)
    return value.replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")


def _naive_utc(value: datetime) -> datetime:
    return (value if value.tzinfo is UTC else value.astimezone(UTC)).replace(tzinfo=None)


def converter(dialect: Dialect, logical: Logical) -> Callable[[Any], Any] | None:
    """Prepared value (not None) -> driver value for a ``logical`` column; None: as is.

    Text and JSON lose what the database cannot store (types.clean_text).
    """
    nul, depth = dialect.text_nul, dialect.json_depth
    if logical == "json" and depth is not None:
        return lambda value: clean_json(_nested(value, depth), nul)
    if logical == "json":
        return lambda value: clean_json(dumps(value), nul)
    if logical == "timestamp":
        if dialect.timestamp_value == "text":
            return _memo(_sqlite_time)
        if dialect.timestamp_value == "naive":
            return _memo(_naive_utc)
        return None
    if logical in ("text", "raw"):
        return lambda value: clean_text(to_text(value), nul)
    if logical == "float":
        return float
    return None


def _nested(value: Any, depth: int) -> str:
    """JSON text nested at most ``depth`` levels (deeper parts as JSON text strings)."""
    text = dumps(value)
    if text.count("[") + text.count("{") <= depth:  # cannot be deeper: the usual case
        return text
    return dumps(shallow(value, depth))


def _memo(convert: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """Remember the last conversion (every row of a batch has the same _cio_synced_at)."""
    last: list[Any] = [None, None]

    def cached(value: Any) -> Any:
        if value is not last[0]:
            last[0], last[1] = value, convert(value)
        return last[1]

    return cached


class SqlWriter:
    """Builds (with SQLAlchemy Core) and runs the bulk statements of one dialect.

    The bulk INSERT is compiled once per shape into the driver's positional
    SQL and run by ``executemany`` on driver-ready tuples (no per-row work in
    SQLAlchemy); everything else runs as Core statements.
    """

    def __init__(self, dialect: Dialect, sa_dialect: sa.Dialect) -> None:
        self.dialect = dialect
        self._preparer = sa_dialect.identifier_preparer
        # The driver gets tuples: compile for its positional paramstyle.
        self._compiler = sa_dialect
        if not sa_dialect.positional:  # e.g. psycopg's and PyMySQL's pyformat
            self._compiler = type(sa_dialect)(paramstyle="format")  # type: ignore[call-arg]
        self._compiled: dict[Hashable, str] = {}  # bulk INSERT and COUNT per shape
        self._merges: dict[tuple[Shape, bool], sa.Select[int, int]] = {}

    # --- SQL --------------------------------------------------------------------

    def quote(self, name: str) -> str:
        """A quoted identifier for exec_driver_sql (SQLAlchemy doubles % for format drivers)."""
        quoted: str = self._preparer.quote_identifier(name)
        return quoted

    def execute(self, conn: sa.Connection, sql: str, params: Any = None) -> sa.CursorResult[Any]:
        if params is None:
            return conn.exec_driver_sql(sql)
        return conn.exec_driver_sql(sql, params)

    def _upsert(self, shape: Shape, source: sa.Select[Any] | None, *, update: bool) -> Any:
        """INSERT (VALUES of one row, or ``source``) that updates changed rows only
        (``update``) or leaves existing keys alone."""
        t = table_of(shape.table, shape.names)
        ins = insert(self.dialect, t)
        if source is None:
            ins = ins.values({t.c[n]: sa.bindparam(f"p{i}") for i, n in enumerate(shape.names)})
        else:
            ins = ins.from_select(list(shape.names), source)
        keys = [t.c[k] for k in shape.keys]
        if self.dialect.upsert == "on_duplicate_key":
            if not update or not shape.compared:
                return ins.on_duplicate_key_update([(keys[0].name, keys[0])])
            # VALUES(col), not ins.inserted: SQLAlchemy escapes % twice in the latter.
            new = {n: sa.func.values(sa.column(sa.sql.quoted_name(n, True))) for n in shape.names}
            unchanged = sa.and_(*(self._same(shape, t.c[n], new[n]) for n in shape.compared))
            # Assignments run left to right and see earlier ones: compare first.
            synced = sa.case((unchanged, t.c[SYNCED_AT]), else_=new[SYNCED_AT])
            return ins.on_duplicate_key_update(
                [(SYNCED_AT, synced)] + [(n, new[n]) for n in shape.compared]
            )
        if not update or not shape.compared:
            return ins.on_conflict_do_nothing(index_elements=keys)
        new = ins.excluded
        return ins.on_conflict_do_update(
            index_elements=keys,
            set_={n: new[n] for n in shape.names if n not in shape.keys},
            where=sa.or_(*(t.c[n].is_distinct_from(new[n]) for n in shape.compared)),
        )

    def _same(self, shape: Shape, old: Any, new: Any) -> sa.ColumnElement[bool]:
        if self.dialect.binary_compare and dict(shape.columns)[old.name] in BINARY_TYPES:
            old, new = sa.cast(old, sa.LargeBinary), sa.cast(new, sa.LargeBinary)
        same: sa.ColumnElement[bool] = old.is_not_distinct_from(new)
        return same

    def _statement(self, shape: Shape, *, update: bool) -> str:
        """The bulk INSERT's SQL for the driver, compiled once per shape."""
        sql = self._compiled.get((shape, update))
        if sql is None:
            names = [f"p{i}" for i in range(len(shape.names))]
            sql = self._compile(self._upsert(shape, None, update=update), names)
            self._remember((shape, update), sql)
        return sql

    def _merge(self, shape: Shape, stage: str, *, update: bool) -> sa.Select[int, int]:
        """The stage into the table, counting inserts and updates (built once per shape:
        building it costs more than SQLAlchemy's cached compilation)."""
        merge = self._merges.get((shape, update))
        if merge is None:
            staged = table_of(stage, shape.names)
            upsert = self._upsert(shape, sa.select(*staged.c), update=update)
            m = upsert.returning((sa.column("xmax") == 0).label("ins")).cte("m")
            merge = sa.select(sa.func.count().filter(m.c.ins), sa.func.count().filter(~m.c.ins))
            if len(self._merges) >= MAX_COMPILED:
                self._merges.clear()
            self._merges[(shape, update)] = merge
        return merge

    # --- rows -------------------------------------------------------------------

    def tuples(self, shape: Shape, rows: Iterable[Row]) -> list[tuple[Any, ...]]:
        """Driver values, one tuple per distinct key (the last row of a key wins)."""
        names = shape.names
        converts = [
            (i, f) for i, (_, t) in enumerate(shape.columns) if (f := converter(self.dialect, t))
        ]
        positions = [names.index(k) for k in shape.keys]
        unique: dict[tuple[Any, ...], tuple[Any, ...]] = {}
        for row in rows:
            values = [row.get(n) for n in names]
            for i, convert in converts:
                if values[i] is not None:
                    values[i] = convert(values[i])
            unique[tuple([values[p] for p in positions])] = tuple(values)
        return list(unique.values())

    def existing(self, conn: sa.Connection, shape: Shape, keys: Sequence[tuple[Any, ...]]) -> int:
        """How many of ``keys`` are already in the table."""
        found = 0
        for start in range(0, len(keys), IN_CHUNK):
            chunk = keys[start : start + IN_CHUNK]
            params = tuple(v for k in chunk for v in k)
            sql = self._count_sql(shape.table, shape.keys, len(chunk))
            found += int(self.execute(conn, sql, params).scalar_one())
        return found

    def _count_sql(self, table: str, keys: tuple[str, ...], n: int) -> str:
        """``SELECT COUNT(*) ... WHERE key IN (...)`` for ``n`` keys, compiled once per
        size (SQLAlchemy's expanding IN costs a millisecond per 1,000 keys)."""
        sql = self._compiled.get((table, keys, n))
        if sql is None:
            t = table_of(table, keys)
            cols = [t.c[k] for k in keys]
            one = len(cols) == 1
            # An expanding IN rendered now: (a, b) IN (VALUES (?, ?), ...) on SQLite.
            values = [None] * n if one else [(None,) * len(cols)] * n  # untyped: no casts
            marks: sa.BindParameter[Any] = sa.bindparam("p", value=values, expanding=True)
            where = (cols[0] if one else sa.tuple_(*cols)).in_(marks)
            query = sa.select(sa.func.count()).select_from(t).where(where)
            names = [
                f"p_{i + 1}" if one else f"p_{i + 1}_{j + 1}"
                for i in range(n)
                for j in range(1 if one else len(cols))
            ]
            sql = self._compile(query, names)
            self._remember((table, keys, n), sql)
        return sql

    def _compile(self, statement: sa.ClauseElement, names: list[str]) -> str:
        """SQL text for the driver, whose positional parameters are ``names`` in order."""
        compiled = statement.compile(
            dialect=self._compiler, compile_kwargs={"render_postcompile": True}
        )
        assert isinstance(compiled, SQLCompiler)
        if list(compiled.positiontup or ()) != names:
            raise AssertionError(f"unexpected parameter order: {compiled.positiontup}")
        return compiled.string

    def _remember(self, key: Hashable, sql: str) -> None:
        if len(self._compiled) >= MAX_COMPILED:
            self._compiled.clear()
        self._compiled[key] = sql

    # --- writes -----------------------------------------------------------------

    def write(
        self,
        conn: sa.Connection,
        shape: Shape,
        rows: Iterable[Row],
        *,
        update: bool,
        path: BulkPath,
        count: bool = True,
    ) -> tuple[int, int]:
        """Upsert (``update``) or insert-if-absent; returns (inserted, updated).

        ``count=False`` skips the existence query (the counts are then 0, 0).
        """
        data = self.tuples(shape, rows)
        if not data:
            return 0, 0
        if path == "copy":
            if "copy" not in self.dialect.bulk_paths:
                raise ValueError(f"the copy path needs PostgreSQL, not {self.dialect.name}")
            return self._copy(conn, shape, data, update=update)
        positions = [shape.names.index(k) for k in shape.keys]
        present = 0
        affected_rows = self.dialect.rowcount == "affected"
        if count and (update or affected_rows):
            present = self.existing(conn, shape, [tuple(r[p] for p in positions) for r in data])
        affected = self.execute(conn, self._statement(shape, update=update), data).rowcount
        if not count:
            return 0, 0
        n = len(data)
        if affected_rows:
            inserted = n - present
            # Per row: 1 inserted, 2 changed, 0 unchanged (1 with CLIENT_FOUND_ROWS).
            updated = affected - n if _found_rows(conn) else (affected - inserted) // 2
            return inserted, (updated if update else 0)
        if not update:
            return affected, 0
        inserted = n - present
        return inserted, affected - inserted

    def _copy(
        self, conn: sa.Connection, shape: Shape, data: list[tuple[Any, ...]], *, update: bool
    ) -> tuple[int, int]:
        stage = "_cio_copy_stage"
        raw = conn.connection.driver_connection
        assert raw is not None
        target = self.quote(shape.table)
        self.execute(
            conn,
            f"CREATE TEMPORARY TABLE {self.quote(stage)} "
            f"(LIKE {target} INCLUDING DEFAULTS) ON COMMIT DROP",
        )
        cols = ", ".join(_pg_ident(n) for n in shape.names)
        with raw.cursor() as cur, cur.copy(f"COPY {_pg_ident(stage)} ({cols}) FROM STDIN") as copy:
            # Known types: psycopg picks each column's dumper once, not per value.
            copy.set_types([_COPY_TYPES[logical] for _, logical in shape.columns])
            for values in data:
                copy.write_row(values)
        counted = conn.execute(self._merge(shape, stage, update=update)).one()
        self.execute(conn, f"DROP TABLE {self.quote(stage)}")
        inserted, updated = tuple(counted)
        return int(inserted), int(updated)


def _found_rows(conn: sa.Connection) -> bool:
    """Does this MySQL connection report matched (not changed) rows? SQLAlchemy sets it."""
    flag = getattr(conn.connection.driver_connection, "client_flag", 0)
    return bool(int(flag) & 2)  # pymysql.constants.CLIENT.FOUND_ROWS


_COPY_TYPES: dict[str, str] = {
    "bool": "bool",
    "int": "int8",
    "float": "float8",
    "timestamp": "timestamptz",
    "json": "text",  # already JSON text (converter): the server parses it into jsonb
    "text": "text",
    "raw": "text",
}
"""psycopg types of the values COPY sends, by logical type (text COPY: the server
parses each column by its own type)."""


def _pg_ident(name: str) -> str:
    """A quoted PostgreSQL identifier for psycopg's COPY, which takes no parameters (no %%)."""
    return '"' + name.replace('"', '""') + '"'
