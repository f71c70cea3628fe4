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

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from .dialects import BulkPath, Dialect
from .names import SYNCED_AT
from .types import Logical, clean_json, clean_text, dumps, shallow, to_text

IN_CHUNK = 1000  # keys per existence query (2 keys x 1000 is far under every parameter limit)
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
        if dialect.name == "sqlite":
            return _memo(_sqlite_time)
        if dialect.name == "mysql":
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
    """Builds and runs the bulk statements of one dialect."""

    def __init__(self, dialect: Dialect, sa_dialect: sa.Dialect) -> None:
        self.dialect = dialect
        self._preparer = sa_dialect.identifier_preparer
        self._ph = "?" if dialect.paramstyle == "qmark" else "%s"

    # --- SQL text ---------------------------------------------------------------

    def quote(self, name: str) -> str:
        """A quoted identifier for exec_driver_sql (SQLAlchemy doubles % for format drivers)."""
        quoted: str = self._preparer.quote_identifier(name)
        return quoted

    def execute(self, conn: sa.Connection, sql: str, params: Any = None) -> sa.CursorResult[Any]:
        if params is None:
            return conn.exec_driver_sql(sql)
        return conn.exec_driver_sql(sql, params)

    def _insert(self, shape: Shape) -> str:
        cols = ", ".join(self.quote(n) for n in shape.names)
        marks = ", ".join([self._ph] * len(shape.names))
        return f"INSERT INTO {self.quote(shape.table)} ({cols}) VALUES ({marks})"  # noqa: S608

    def _on_conflict(self, shape: Shape, *, update: bool) -> str:
        keys = ", ".join(self.quote(k) for k in shape.keys)
        if not update or not shape.compared:
            return f" ON CONFLICT ({keys}) DO NOTHING"
        target = self.quote(shape.table)
        sets = ", ".join(
            f"{self.quote(n)} = excluded.{self.quote(n)}"
            for n in shape.names
            if n not in shape.keys
        )
        op = "IS NOT" if self.dialect.name == "sqlite" else "IS DISTINCT FROM"
        changed = " OR ".join(
            f"{target}.{self.quote(n)} {op} excluded.{self.quote(n)}" for n in shape.compared
        )
        return f" ON CONFLICT ({keys}) DO UPDATE SET {sets} WHERE {changed}"

    def _on_duplicate(self, shape: Shape, *, update: bool) -> str:
        if not update or not shape.compared:
            first = self.quote(shape.keys[0])
            return f" ON DUPLICATE KEY UPDATE {first} = {first}"
        binary = {n for n, t in shape.columns if t in ("text", "raw", "json")}

        def same(n: str) -> str:
            col, new = self.quote(n), f"VALUES({self.quote(n)})"
            if n in binary:  # the default collation ignores case and trailing spaces
                col, new = f"CAST({col} AS BINARY)", f"CAST({new} AS BINARY)"
            return f"{col} <=> {new}"

        unchanged = " AND ".join(same(n) for n in shape.compared)
        synced = self.quote(SYNCED_AT)
        # Assignments run left to right and see earlier ones: compare first.
        sets = [f"{synced} = IF({unchanged}, {synced}, VALUES({synced}))"] + [
            f"{self.quote(n)} = VALUES({self.quote(n)})" for n in shape.compared
        ]
        return " ON DUPLICATE KEY UPDATE " + ", ".join(sets)

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
        table = self.quote(shape.table)
        found = 0
        for start in range(0, len(keys), IN_CHUNK):
            chunk = keys[start : start + IN_CHUNK]
            if len(shape.keys) == 1:
                where = f"{self.quote(shape.keys[0])} IN ({', '.join([self._ph] * len(chunk))})"
                params: list[Any] = [k[0] for k in chunk]
            else:
                one = "(" + ", ".join([self._ph] * len(shape.keys)) + ")"
                values = ", ".join([one] * len(chunk))
                if self.dialect.name != "mysql":
                    values = f"VALUES {values}"
                cols = ", ".join(self.quote(k) for k in shape.keys)
                where = f"({cols}) IN ({values})"
                params = [v for k in chunk for v in k]
            sql = f"SELECT COUNT(*) FROM {table} WHERE {where}"  # noqa: S608 (quoted names)
            found += int(self.execute(conn, sql, tuple(params)).scalar_one())
        return found

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
            if self.dialect.name != "postgresql":
                raise ValueError(f"the copy path needs PostgreSQL, not {self.dialect.name}")
            return self._copy(conn, shape, data, update=update)
        positions = [shape.names.index(k) for k in shape.keys]
        present = 0
        if count and (update or self.dialect.name == "mysql"):
            present = self.existing(conn, shape, [tuple(r[p] for p in positions) for r in data])
        if self.dialect.upsert == "on_conflict":
            sql = self._insert(shape) + self._on_conflict(shape, update=update)
        else:
            sql = self._insert(shape) + self._on_duplicate(shape, update=update)
        affected = self.execute(conn, sql, data).rowcount
        if not count:
            return 0, 0
        n = len(data)
        if self.dialect.name == "mysql":
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
        names = ", ".join(self.quote(n) for n in shape.names)
        merge = (
            f"INSERT INTO {target} ({names}) SELECT {names} FROM {self.quote(stage)}"  # noqa: S608
            + self._on_conflict(shape, update=update)
        )
        counted = self.execute(
            conn,
            f"WITH m AS ({merge} RETURNING (xmax = 0) AS ins) "  # noqa: S608
            "SELECT COUNT(*) FILTER (WHERE ins), COUNT(*) FILTER (WHERE NOT ins) FROM m",
        ).one()
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
