"""Dialect differences as data: one capability record per target database.

Everything the loader does differently on SQLite, PostgreSQL and MySQL/MariaDB
is read from a :class:`Dialect` record or from :func:`column_type` here, so the
rest of the package never branches on a dialect name for a type or a limit.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy.dialects import mysql, postgresql

from .types import JsonText, Logical, UtcDateTime

DialectName = Literal["sqlite", "postgresql", "mysql"]
BulkPath = Literal["executemany", "copy"]
"""How rows reach the server: driver executemany (SQLite: one transaction;
PostgreSQL: psycopg 3 pipeline; MySQL: PyMySQL multi-row INSERT), or
psycopg 3 COPY into a temporary staging table followed by one INSERT ... SELECT."""

MYSQL_INDEX_BYTES = 3072
"""InnoDB's largest index key (DYNAMIC row format): the sum of the key columns."""
MYSQL_KEY_CHARS = 255
"""A string key column is VARCHAR(n), n <= 255, never TEXT (MySQL cannot index TEXT)."""


@dataclass(frozen=True)
class Dialect:
    """What one database can do, and how the loader uses it."""

    name: DialectName
    max_identifier: int
    identifier_unit: Literal["bytes", "chars"]
    json_type: str  # for humans and docs; the SQLAlchemy type is column_type()
    text_type: str
    upsert: Literal["on_conflict", "on_duplicate_key"]
    transactional_ddl: bool  # False: DDL commits the open transaction (MySQL)
    bulk_paths: tuple[BulkPath, ...]  # the first is the default
    paramstyle: Literal["qmark", "format"]
    key_collation: str | None = None  # MySQL: binary, no-pad (keys are case-sensitive)
    text_nul: bool = True  # text and JSON can hold U+0000 (not on PostgreSQL: U+FFFD)
    json_depth: int | None = None  # deepest JSON nesting stored (deeper: as JSON text)


SQLITE = Dialect(
    name="sqlite",
    # SQLite has no limit; 63 bytes keeps names identical to PostgreSQL's.
    max_identifier=63,
    identifier_unit="bytes",
    json_type="TEXT (JSON text)",
    text_type="TEXT",
    upsert="on_conflict",
    transactional_ddl=True,
    bulk_paths=("executemany",),
    paramstyle="qmark",
)

POSTGRESQL = Dialect(
    name="postgresql",
    max_identifier=63,  # NAMEDATALEN - 1; longer names are truncated silently
    identifier_unit="bytes",
    json_type="JSONB",
    text_type="TEXT",
    upsert="on_conflict",
    transactional_ddl=True,
    # COPY into a temp stage + INSERT ... SELECT ... ON CONFLICT measured faster
    # than pipelined executemany at every batch size from 10 to 5,000 rows here.
    bulk_paths=("copy", "executemany"),
    paramstyle="format",
    text_nul=False,
)

MYSQL = Dialect(
    name="mysql",
    max_identifier=64,  # characters; SQLAlchemy's own limit (255) is not enforced
    identifier_unit="chars",
    json_type="JSON",
    text_type="LONGTEXT",
    upsert="on_duplicate_key",
    transactional_ddl=False,
    bulk_paths=("executemany",),
    paramstyle="format",
    key_collation="utf8mb4_bin",
)


def dialect_for(engine: sa.Engine) -> Dialect:
    """The capability record for an engine (MariaDB counts as MySQL)."""
    name = engine.dialect.name
    if name == "sqlite":
        return SQLITE
    if name == "postgresql":
        return POSTGRESQL
    if name in ("mysql", "mariadb"):
        if getattr(engine.dialect, "server_version_info", None) is None:
            with engine.connect():  # the first connection tells MariaDB from MySQL
                pass
        is_mariadb = bool(getattr(engine.dialect, "is_mariadb", name == "mariadb"))
        # A no-pad binary collation: 'a' and 'a ' are two keys, like in Customer.io.
        collation = "utf8mb4_nopad_bin" if is_mariadb else "utf8mb4_bin"
        version = getattr(engine.dialect, "server_version_info", None) or ()
        if not is_mariadb and tuple(version) >= (8, 0, 0):
            collation = "utf8mb4_0900_bin"
        # MariaDB's JSON_VALID check refuses 32 levels of nesting, MySQL more than 100.
        depth = 31 if is_mariadb else 100
        return dataclasses.replace(MYSQL, key_collation=collation, json_depth=depth)
    raise ValueError(f"unsupported target database {name!r}: use sqlite, postgresql or mysql")


def key_length(string_keys: int) -> int:
    """VARCHAR length for each string key column of a MySQL primary key."""
    if string_keys <= 0:
        return MYSQL_KEY_CHARS
    return min(MYSQL_KEY_CHARS, MYSQL_INDEX_BYTES // (4 * string_keys))  # utf8mb4: 4 bytes


def column_type(
    dialect: Dialect, logical: Logical, *, key: bool = False, string_keys: int = 1
) -> sa.types.TypeEngine[Any]:
    """The SQL type of a column holding values of one logical type."""
    if logical == "int":
        return sa.BigInteger()
    if logical == "float":
        return sa.Double()
    if logical == "bool":
        return sa.Boolean(create_constraint=False)
    if logical == "timestamp":
        return UtcDateTime()
    if logical == "json":
        if dialect.name == "postgresql":
            return postgresql.JSONB()
        if dialect.name == "mysql":
            return sa.JSON()
        return JsonText()
    # text and raw
    if dialect.name == "mysql":
        if key:
            return mysql.VARCHAR(
                key_length(string_keys), charset="utf8mb4", collation=dialect.key_collation
            )
        return mysql.LONGTEXT()
    return sa.Text()
