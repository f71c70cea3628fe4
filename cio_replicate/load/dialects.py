"""Dialect differences as data: one capability record per target database.

Everything the loader does differently on SQLite, PostgreSQL and MySQL/MariaDB
is read from a :class:`Dialect` record or from :func:`column_type` here, so the
rest of the package never branches on a dialect name for a type or a limit.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy.dialects import mysql, postgresql, sqlite

from .types import Logical, dumps

DialectName = Literal["sqlite", "postgresql", "mysql"]
BulkPath = Literal["executemany", "copy"]
"""How rows reach the server: driver executemany (SQLite: one transaction;
PostgreSQL: psycopg 3 pipeline; MySQL: PyMySQL multi-row INSERT), or
psycopg 3 COPY into a temporary staging table followed by one INSERT ... SELECT."""

MYSQL_INDEX_BYTES = 3072
"""InnoDB's largest index key (DYNAMIC row format): the sum of the key columns."""
MYSQL_KEY_CHARS = 255
"""A string key column is VARCHAR(n), n <= 255, never TEXT (MySQL cannot index TEXT)."""
SQLITE_BUSY_MS = 30_000


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
    text_index_prefix: int | None = None  # an index on a text column covers this many chars
    # --- how the loader talks to it (read by writer, ddl, staging, table, target)
    timestamp_value: Literal["text", "naive", "aware"] = "aware"
    """What the driver gets for a timestamp: SQLAlchemy's SQLite text, a naive UTC
    datetime (MySQL DATETIME), or the aware datetime (PostgreSQL TIMESTAMPTZ)."""
    rowcount: Literal["written", "affected"] = "written"
    """What a bulk write's rowcount counts: rows inserted or updated ("written"), or
    MySQL's affected rows (1 per insert, 2 per change, 0 per unchanged row, or 1
    with CLIENT_FOUND_ROWS): then inserts are told from updates by a key count."""
    binary_compare: bool = False
    """Text compares under a collation that ignores case and trailing spaces
    (MySQL): compare it as BINARY to see every change."""
    reflected_backticks: bool = False  # reflection doubles ` in column names (MySQL)
    reflects_json_as_text: bool = True  # JSON columns may come back as text types
    reflects_bool_as_int: bool = False  # BOOL is TINYINT(1) (MySQL)
    add_columns_at_once: bool = True  # False: one ALTER TABLE per new column (SQLite)
    widen: Literal["rebuild", "alter_using", "modify"] = "modify"
    """How a column's type changes: copy into a rebuilt table (SQLite, which then
    has the new columns too), ``ALTER COLUMN ... TYPE ... USING`` (PostgreSQL),
    ``MODIFY COLUMN`` (MySQL, whose TINYINT booleans then read '1'/'0')."""
    swap: Literal["rename", "rename_table"] = "rename"
    """How a stage takes a table's place: DROP + ``ALTER TABLE ... RENAME`` in the
    transaction, or one atomic ``RENAME TABLE t TO old, stage TO t`` (MySQL)."""
    rename_pk: bool = False  # the primary key constraint's name follows the table's
    lock_timeout: Literal["none", "local_ms", "session_s"] = "none"
    """How the swap bounds its wait for a lock: not at all (SQLite), ``SET LOCAL
    lock_timeout`` in ms (PostgreSQL), ``SET SESSION lock_wait_timeout`` in whole
    seconds, restored after (MySQL)."""
    object_lock: Literal["advisory", "get_lock", "row"] = "row"
    """How a run locks an object (cio_replicate.locks): a session advisory lock
    (PostgreSQL), GET_LOCK (MySQL), or a row in ``_cio_locks`` (SQLite)."""
    single_writer: bool = False  # one write transaction at a time (SQLite): queue in-process
    connect_sql: tuple[str, ...] = ()  # run on every new connection
    explicit_begin: bool = False  # the driver's BEGIN handling is replaced (pysqlite)
    # Alembic (migrate.py): ALTERs rendered as batch table rebuilds (SQLite), and how an
    # upgrade is serialized across processes (advisory xact lock, GET_LOCK, BEGIN IMMEDIATE).
    batch_migrations: bool = False
    migration_lock: Literal["advisory", "get_lock", "begin_immediate"] = "begin_immediate"
    file_database: bool = False  # the database is a local file (SQLite), may not exist yet
    target_schema: Literal["search_path", "database", "none"] = "none"
    """What ``target_schema`` names (load/targetschema.py): a schema every connection's
    search_path is set to (PostgreSQL), a database the URL then names (MySQL), nothing."""
    engine_options: tuple[tuple[str, Any], ...] = ()  # create_engine() defaults
    url_query: tuple[tuple[str, str], ...] = ()  # URL query defaults
    unreachable_hint: str = (
        "is the database server running and reachable, and are user and password right?"
    )


SQLITE = Dialect(
    name="sqlite",
    file_database=True,
    # SQLite has no limit; 63 bytes keeps names identical to PostgreSQL's.
    max_identifier=63,
    identifier_unit="bytes",
    json_type="TEXT (JSON text)",
    text_type="TEXT",
    upsert="on_conflict",
    transactional_ddl=True,
    bulk_paths=("executemany",),
    paramstyle="qmark",
    timestamp_value="text",
    add_columns_at_once=False,
    widen="rebuild",
    single_writer=True,
    connect_sql=(
        "PRAGMA journal_mode=WAL",
        f"PRAGMA busy_timeout={SQLITE_BUSY_MS}",
        "PRAGMA synchronous=NORMAL",
    ),
    explicit_begin=True,
    batch_migrations=True,
    unreachable_hint="does its folder exist, and may this user write there?",
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
    reflects_json_as_text=False,
    widen="alter_using",
    rename_pk=True,
    lock_timeout="local_ms",
    object_lock="advisory",
    migration_lock="advisory",
    target_schema="search_path",
    engine_options=(("pool_pre_ping", True),),
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
    text_index_prefix=191,  # MySQL cannot index a whole LONGTEXT
    timestamp_value="naive",
    rowcount="affected",
    binary_compare=True,
    reflected_backticks=True,
    reflects_bool_as_int=True,
    swap="rename_table",
    lock_timeout="session_s",
    object_lock="get_lock",
    migration_lock="get_lock",
    target_schema="database",
    # Strict: a value that does not fit is an error, never silently cut.
    connect_sql=(
        "SET SESSION sql_mode = IF(@@SESSION.sql_mode = '', 'STRICT_ALL_TABLES', "
        "CONCAT(@@SESSION.sql_mode, ',STRICT_ALL_TABLES'))",
    ),
    # Objects are written by several threads at once, into their own tables
    # and their own rows of the shared ones (_cio_state, _cio_columns, ...):
    # InnoDB's REPEATABLE READ gap locks made those writers deadlock (1213);
    # READ COMMITTED (PostgreSQL's default) locks only the rows touched.
    engine_options=(("pool_pre_ping", True), ("isolation_level", "READ COMMITTED")),
    url_query=(("charset", "utf8mb4"),),
)

_FAMILIES: dict[str, Dialect] = {
    "sqlite": SQLITE,
    "postgresql": POSTGRESQL,
    "mysql": MYSQL,
    "mariadb": MYSQL,
}


def family(backend: str) -> Dialect | None:
    """The base record of a SQLAlchemy backend name (no connection; MariaDB as MySQL)."""
    return _FAMILIES.get(backend)


def is_memory_database(url: sa.URL) -> bool:
    """An in-memory file database (``:memory:``, empty, or ``mode=memory``)."""
    return url.database in (None, "", ":memory:") or url.query.get("mode") == "memory"


def missing_database_file(url: str | sa.URL) -> Path | None:
    """The path of a file database that does not exist yet; None for server databases."""
    parsed = sa.engine.make_url(url)
    base = family(parsed.get_backend_name())
    if base is None or not base.file_database or is_memory_database(parsed):
        return None
    path = Path(str(parsed.database))
    return None if path.exists() else path


def dialect_for(engine: sa.Engine) -> Dialect:
    """The capability record for an engine (MariaDB counts as MySQL)."""
    name = engine.dialect.name
    base = family(name)
    if base is None:
        raise ValueError(f"unsupported target database {name!r}: use sqlite, postgresql or mysql")
    if base is MYSQL:
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
    return base


def table_of(name: str, columns: Iterable[str]) -> sa.TableClause:
    """A lightweight table for Core statements (untyped: values pass to the driver as
    they are); every name quoted, as the DDL creates them."""
    return sa.table(
        sa.sql.quoted_name(name, True), *(sa.column(sa.sql.quoted_name(c, True)) for c in columns)
    )


def insert(dialect: Dialect, table: sa.TableClause) -> Any:
    """The dialect's INSERT construct, with its upsert clause (on_conflict_do_update or
    on_duplicate_key_update)."""
    if dialect.name == "postgresql":
        return postgresql.insert(table)
    if dialect.name == "mysql":
        return mysql.insert(table)
    return sqlite.insert(table)


def key_length(string_keys: int) -> int:
    """VARCHAR length for each string key column of a MySQL primary key."""
    if string_keys <= 0:
        return MYSQL_KEY_CHARS
    return min(MYSQL_KEY_CHARS, MYSQL_INDEX_BYTES // (4 * string_keys))  # utf8mb4: 4 bytes


def id_field(api_name: str) -> bool:
    """An API field holding an id (``id``, ``cio_id``, ``*_id``): short, joined on."""
    return api_name in ("id", "cio_id") or api_name.endswith("_id")


def column_type(
    dialect: Dialect,
    logical: Logical,
    *,
    key: bool = False,
    string_keys: int = 1,
    bounded: bool = False,
) -> sa.types.TypeEngine[Any]:
    """The SQL type of a column holding values of one logical type.

    ``bounded``: a text id column (:func:`id_field`), VARCHAR(255) with the key
    collation on MySQL (fully indexable; a longer value is refused in strict mode),
    as on other dialects any text column."""
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
        if key or bounded:
            length = key_length(string_keys) if key else MYSQL_KEY_CHARS
            return mysql.VARCHAR(length, charset="utf8mb4", collation=dialect.key_collation)
        return mysql.LONGTEXT()
    return sa.Text()


class UtcDateTime(sa.types.TypeDecorator[datetime]):
    """An aware UTC datetime in and out, on every dialect.

    PostgreSQL stores TIMESTAMPTZ; MySQL DATETIME(6) and SQLite text hold the
    UTC wall time, and come back with UTC attached.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def load_dialect_impl(self, dialect: sa.Dialect) -> sa.types.TypeEngine[Any]:
        if dialect.name in ("mysql", "mariadb"):
            return dialect.type_descriptor(mysql.DATETIME(fsp=6))
        return dialect.type_descriptor(sa.DateTime(timezone=True))

    def process_bind_param(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        value = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
        return value if dialect.name == "postgresql" else value.replace(tzinfo=None)

    def process_result_value(self, value: Any, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        if isinstance(value, str):
            value = datetime.fromisoformat(value)
        if not isinstance(value, datetime):
            raise TypeError(f"not a datetime: {value!r}")
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class JsonText(sa.types.TypeDecorator[Any]):
    """JSON kept as TEXT (SQLite): TEXT affinity, so '5' never turns into 5."""

    impl = sa.Text()
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: sa.Dialect) -> str | None:
        return None if value is None else dumps(value)

    def process_result_value(self, value: Any, dialect: sa.Dialect) -> Any:
        return None if value is None else json.loads(value)
