"""The fastest raw path of each driver: the baseline our loader is measured against.

Input: the rows our mapper prepared (column -> Python value), the same rows
our loader writes. Timed: a hand-written conversion of only the JSON and
timestamp columns to what the driver takes, the driver call, the commit.

- PostgreSQL: ``COPY … FROM STDIN`` through psycopg (``write_row``).
- SQLite: ``executemany`` of one INSERT through the stdlib driver (same WAL
  and ``synchronous=NORMAL`` settings as the loader's connections).
- MySQL/MariaDB: ``executemany`` through PyMySQL, which rewrites it into
  multi-row INSERT statements of up to ~1 MB.

Every batch is one transaction, as for our loader. No SQLAlchemy runs on the
timed path: it only hands over the DBAPI connection.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

Row = Mapping[str, Any]
Convert = Callable[[Any], Any]


def _quote(dialect: str, name: str) -> str:
    if dialect == "mysql":
        return "`" + name.replace("`", "``") + "`"
    return '"' + name.replace('"', '""') + '"'


def insert_sql(dialect: str, table: str, columns: Sequence[str]) -> str:
    mark = "?" if dialect == "sqlite" else "%s"
    cols = ", ".join(_quote(dialect, c) for c in columns)
    marks = ", ".join([mark] * len(columns))
    return f"INSERT INTO {_quote(dialect, table)} ({cols}) VALUES ({marks})"  # noqa: S608


def _json(value: Any) -> Any:
    return None if value is None else json.dumps(value, ensure_ascii=False)


def _time_converter(dialect: str) -> Convert | None:
    if dialect == "sqlite":
        return lambda v: None if v is None else v.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    if dialect == "mysql":
        return lambda v: None if v is None else v.astimezone(UTC).replace(tzinfo=None)
    return None  # psycopg takes aware datetimes as they are


def converters(dialect: str, columns: Sequence[str], sample: Sequence[Row]) -> list[Convert | None]:
    """Per column: how to turn its values into driver values (None: as they are)."""
    out: list[Convert | None] = []
    for name in columns:
        value = next((r.get(name) for r in sample if r.get(name) is not None), None)
        if isinstance(value, (dict, list)):
            out.append(_json)
        elif isinstance(value, datetime):
            out.append(_time_converter(dialect))
        else:
            out.append(None)
    return out


def _tuples(
    rows: Sequence[Row], columns: Sequence[str], convert: Sequence[Convert | None]
) -> list[tuple[Any, ...]]:
    plain = [(i, c) for i, c in enumerate(columns) if convert[i] is None]
    special = [(i, c, f) for i, c in enumerate(columns) if (f := convert[i]) is not None]
    width = len(columns)
    out = []
    for row in rows:
        values: list[Any] = [None] * width
        for i, c in plain:
            values[i] = row.get(c)
        for i, c, f in special:
            values[i] = f(row.get(c))
        out.append(tuple(values))
    return out


def write_raw(
    engine: sa.Engine, table: str, columns: Sequence[str], batches: Sequence[Sequence[Row]]
) -> tuple[int, float]:
    """Write every batch (one transaction each); return (rows, seconds)."""
    dialect = engine.dialect.name
    sample = [row for batch in batches[:1] for row in batch]
    convert = converters(dialect, columns, sample)
    proxy = engine.raw_connection()
    conn: Any = proxy.driver_connection
    rows = 0
    t0 = time.perf_counter()
    try:
        if dialect == "postgresql":
            from psycopg import sql

            copy_sql = sql.SQL("COPY {} ({}) FROM STDIN").format(
                sql.Identifier(table), sql.SQL(", ").join(map(sql.Identifier, columns))
            )
            for batch in batches:
                with conn.cursor() as cur, cur.copy(copy_sql) as copy:
                    for values in _tuples(batch, columns, convert):
                        copy.write_row(values)
                conn.commit()
                rows += len(batch)
        else:
            statement = insert_sql(dialect, table, columns)
            explicit = dialect == "sqlite"  # the loader's engine runs pysqlite in autocommit
            for batch in batches:
                cur = conn.cursor()
                if explicit:
                    cur.execute("BEGIN")
                cur.executemany(statement, _tuples(batch, columns, convert))
                if explicit:
                    cur.execute("COMMIT")
                else:
                    conn.commit()
                cur.close()
                rows += len(batch)
        seconds = time.perf_counter() - t0
    finally:
        proxy.close()
    return rows, seconds
