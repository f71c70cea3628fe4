"""The target database: one engine with the loader's settings, and its tables.

    target = Target("postgresql+psycopg://...")       # or an existing Engine
    # column_names="snake"|"api": the setting; the target keeps the naming it was made
    # with (load/naming.py), resolved on the first table()
    table = target.table("customers", key=("id",), timestamps=("created_at",))
    rows = table.prepare(records)
    with target.begin() as conn:
        table.evolve(conn)
        inserted, updated = table.upsert(conn, rows)

SQLite connections get WAL, ``synchronous=NORMAL`` and a busy timeout, and
real transactions (pysqlite's own BEGIN handling is replaced by an explicit
BEGIN, so DDL is transactional too). PostgreSQL and MySQL engines ping
pooled connections before use; MySQL sessions use utf8mb4 and strict mode.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Collection, Iterable, Iterator
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event

from ..clock import Clock, system_clock
from ..config import TARGET_EXAMPLES
from ..errors import CioReplicateError, ConfigError
from ..logs import redact, register_secret
from .dberrors import cause_of, describe, watch
from .ddl import Ddl
from .dialects import POSTGRESQL, BulkPath, Dialect, dialect_for, family
from .mapper import LoadError
from .names import Naming, identifier
from .naming import parse, resolve
from .schema import read_map
from .table import TableWriter
from .targetschema import database_url, ensure_schema, search_path
from .writer import SqlWriter

WRITE_OPTION = "cio_write"  # execution option: this connection will write
_DRIVERS = {
    "postgres": "postgresql+psycopg",
    "postgresql": "postgresql+psycopg",
    "mysql": "mysql+pymysql",
    "mariadb": "mysql+pymysql",
}


def _session_setup(statements: tuple[str, ...]) -> Callable[[Any, Any], None]:
    def setup(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        try:
            for statement in statements:
                cursor.execute(statement)
        finally:
            cursor.close()

    return setup


def _explicit_begin(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None  # BEGIN comes from _begin


def _begin(conn: sa.Connection) -> None:
    # A writer takes the write lock up front (waiting up to the busy timeout):
    # a deferred transaction that read first could not upgrade once another
    # writer committed (SQLITE_BUSY without waiting). Readers stay deferred.
    immediate = conn.get_execution_options().get(WRITE_OPTION, False)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


_SETUPS: dict[tuple[str, ...], Callable[[Any, Any], None]] = {}


def configure_engine(engine: sa.Engine) -> sa.Engine:
    """Install the loader's per-connection settings on ``engine`` (idempotent)."""
    watch(engine)  # errors carry the target's masked URL (dberrors.describe)
    record = family(engine.dialect.name)
    if record is None:
        return engine
    if record.explicit_begin and not event.contains(engine, "connect", _explicit_begin):
        event.listen(engine, "connect", _explicit_begin)
        event.listen(engine, "begin", _begin)
    if record.connect_sql:
        setup = _SETUPS.setdefault(record.connect_sql, _session_setup(record.connect_sql))
        if not event.contains(engine, "connect", setup):
            event.listen(engine, "connect", setup)
    return engine


def create_target_engine(
    url: str | sa.URL, *, schema: str | None = None, **kwargs: Any
) -> sa.Engine:
    """An engine for a target URL, with the drivers and settings the loader needs.

    ``postgres://``/``postgresql://`` mean psycopg 3 and ``mysql://``/``mariadb://`` PyMySQL.
    ``schema`` (``target_schema``): the PostgreSQL schema or MySQL database to use, created
    if missing (:mod:`cio_replicate.load.targetschema`); this connects.
    """
    parsed = sa.make_url(url)
    if parsed.password:
        register_secret(str(parsed.password))
    if parsed.drivername in _DRIVERS:
        parsed = parsed.set(drivername=_DRIVERS[parsed.drivername])
    record = family(parsed.get_backend_name())
    if record is not None:
        for option, value in record.engine_options:
            kwargs.setdefault(option, value)
        missing = {k: v for k, v in record.url_query if k not in parsed.query}
        if missing:
            parsed = parsed.update_query_dict(missing)
    if schema is None:
        return configure_engine(sa.create_engine(parsed, **kwargs))
    if record is None or record.target_schema == "none":
        raise ConfigError("SQLite has no schemas: remove target_schema", key="target_schema")
    home = configure_engine(sa.create_engine(parsed, **kwargs))
    try:
        ensure_schema(home, schema, record)
    finally:
        home.dispose()
    engine = configure_engine(sa.create_engine(database_url(parsed, schema, record), **kwargs))
    if record.target_schema == "search_path":
        search_path(engine, schema)
    return engine


class TargetUnavailable(CioReplicateError):
    """The target database cannot be reached or opened (exit code 1)."""


@contextlib.contextmanager
def target_errors(url: str | sa.URL) -> Iterator[None]:
    """Failures to open or reach the target become one line that says what to fix."""
    try:
        yield
    except (sa.exc.ArgumentError, sa.exc.NoSuchModuleError, ModuleNotFoundError) as exc:
        raise ConfigError(
            f"not a usable database URL ({exc}); use {TARGET_EXAMPLES}", key="target_url"
        ) from exc
    except (sa.exc.OperationalError, sa.exc.InterfaceError) as exc:
        parsed = sa.make_url(url)
        message = describe(exc, parsed)
        if cause_of(exc) is None:
            record = family(parsed.get_backend_name())
            check = (record or POSTGRESQL).unreachable_hint
            message = redact(
                f"{message.rstrip('.')}. {check.capitalize()} "
                "Else fix target_url (CIO_TARGET_URL / --target-url)."
            )
        raise TargetUnavailable(message) from exc


@contextlib.contextmanager
def target_engine(url: str | sa.URL, *, schema: str | None = None) -> Iterator[sa.Engine]:
    """A short-lived engine on the target (loader settings), errors as in target_errors."""
    with target_errors(url):
        engine = create_target_engine(url, schema=schema)
        try:
            yield engine
        finally:
            engine.dispose()


@contextlib.contextmanager
def _tool_table(name: str, what: str) -> Iterator[None]:
    """A tool table the target lacks (never upgraded) becomes a LoadError naming the fix."""
    try:
        yield
    except (sa.exc.ProgrammingError, sa.exc.OperationalError) as exc:
        text = str(exc.orig).lower()
        if not any(m in text for m in ("no such table", "does not exist", "doesn't exist")):
            raise
        raise LoadError(
            f"the target has no {what} table ({name}): run `cio-replicate db upgrade` first"
        ) from exc


class Target:
    """A target database: its engine, dialect record and data tables."""

    def __init__(
        self,
        url: str | sa.URL | sa.Engine,
        *,
        clock: Clock = system_clock,
        bulk: BulkPath | None = None,
        column_names: str | None = None,
        schema: str | None = None,
    ) -> None:
        """``schema``: ``target_schema`` (see :func:`create_target_engine`); not with an
        Engine, which is used as it is."""
        self._owns_engine = not isinstance(url, sa.Engine)
        if isinstance(url, sa.Engine):
            if schema is not None:
                raise ValueError("schema is for a URL: an Engine is used as it is")
            self.engine = configure_engine(url)
        else:
            with target_errors(url):
                self.engine = create_target_engine(url, schema=schema)
        with target_errors(self.engine.url):  # MySQL connects here: the first error shows
            self.dialect: Dialect = dialect_for(self.engine)
        if bulk is not None and bulk not in self.dialect.bulk_paths:
            raise ValueError(
                f"bulk path {bulk!r} is not available on {self.dialect.name}: "
                f"choose one of {', '.join(self.dialect.bulk_paths)}"
            )
        self.bulk: BulkPath = bulk or self.dialect.bulk_paths[0]
        self.clock = clock
        self.requested_naming: Naming | None = parse(column_names)
        """The ``column_names`` setting (None: not set); :meth:`naming` is what applies."""
        self._naming: Naming | None = None
        self._naming_lock = threading.Lock()
        self.sql = SqlWriter(self.dialect, self.engine.dialect)
        self.ddl = Ddl(self.dialect, self.engine.dialect, self.sql)
        # SQLite has one writer at a time: this process's threads queue here and
        # start as soon as the previous one commits, instead of sleeping in
        # SQLite's busy handler (steps of up to 100 ms) and polling.
        self._writer: contextlib.AbstractContextManager[Any] = (
            threading.RLock() if self.dialect.single_writer else contextlib.nullcontext()
        )

    def __repr__(self) -> str:
        return f"Target({self.engine.url!r})"  # the URL's repr masks the password

    @contextlib.contextmanager
    def begin(self) -> Iterator[sa.Connection]:
        """A connection in a write transaction, committed on success.

        On SQLite this is ``BEGIN IMMEDIATE`` (``engine.begin()`` gives a deferred
        one): use it for every transaction that writes.
        """
        with self._writer, self.engine.connect() as conn:
            conn.execution_options(**{WRITE_OPTION: True})
            with conn.begin():
                yield conn

    def connect(self) -> contextlib.AbstractContextManager[sa.Connection]:
        return self.engine.connect()

    def naming(self) -> Naming:
        """The target's column naming, recorded on first use (:mod:`.naming`).

        Raises ConfigError (exit 2) when the ``column_names`` setting contradicts
        the recorded naming."""
        with self._naming_lock:
            if self._naming is None:
                with _tool_table("_cio_target", "naming"):
                    self._naming = resolve(self.begin, self.requested_naming, read=self.connect)
            return self._naming

    def table_name(self, name: str) -> str:
        """The SQL name of a data table (shortened to the dialect's limit if needed)."""
        return identifier(name, self.dialect)

    def table(
        self,
        name: str,
        key: Iterable[str] = ("id",),
        timestamps: Iterable[str] = (),
        *,
        open_key: bool = False,
        soft_deletes: bool = False,
        typed: Collection[str] | None = None,
    ) -> TableWriter:
        """The writer of one data table, with its recorded column map loaded.

        ``open_key``: the key is UNIQUE and nullable instead of the primary key, and
        ``_cio_synced_at`` nullable (a table users insert rows into, see ``sync``);
        ``soft_deletes``: its rows carry ``_cio_deleted_at``; ``typed``: string values are
        typed where a batch's all convert (:mod:`cio_replicate.load.infer`), but for these
        fields and the key (None: strings stay text)."""
        key = tuple(key)
        if not key:
            raise ValueError(f"{name}: a data table needs at least one key field")
        sql_name = self.table_name(name)
        with self.engine.connect() as conn, _tool_table("_cio_columns", "column map"):
            recorded = read_map(conn, sql_name)
        return TableWriter(
            self,
            sql_name,
            key,
            tuple(timestamps),
            recorded,
            open_key=open_key,
            soft_deletes=soft_deletes,
            naming=self.naming(),
            typed=typed,
        )

    def dispose(self) -> None:
        """Close pooled connections (only those of an engine this Target created)."""
        if self._owns_engine:
            self.engine.dispose()

    def __enter__(self) -> Target:
        return self

    def __exit__(self, *exc: object) -> None:
        self.dispose()
