"""Create and upgrade the tool's own tables with Alembic, from code.

The Alembic config is built here (no ini file); its script location is the
installed package ``cio_replicate.migrations`` (the repository's top-level
``migrations/`` folder when running from an uninstalled checkout). An upgrade
runs in one ``engine.begin()`` block and is serialized across processes: a
transaction-scoped advisory lock on PostgreSQL, ``GET_LOCK`` on MySQL, and
``BEGIN IMMEDIATE`` on SQLite, so a second process waits and then finds the
work done.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from importlib.resources import files
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from . import systables
from .load.dialects import family, is_memory_database
from .load.target import target_errors
from .locks import advisory_key, mysql_lock_name

VERSION_TABLE = "_cio_alembic_version"
MIGRATION_LOCK = "migrate"
MYSQL_WAIT_SECONDS = 600
SQLITE_BUSY_SECONDS = 600.0


def include_name(name: str | None, type_: str, parent_names: Any) -> bool:
    """Autogenerate sees only the system tables, never replicated data tables."""
    if type_ == "table":
        return name in systables.metadata.tables
    return True


def migration_options(dialect_name: str) -> dict[str, Any]:
    """The options env.py gives ``context.configure`` (shared with the tests)."""
    return {
        "target_metadata": systables.metadata,
        "version_table": VERSION_TABLE,
        "include_name": include_name,
        "render_as_batch": _batch_migrations(dialect_name),
        "compare_type": True,
    }


def _batch_migrations(dialect_name: str) -> bool:
    base = family(dialect_name)
    return base is not None and base.batch_migrations


def script_location() -> str:
    """Where env.py and versions/ are: the installed package, else the checkout."""
    try:
        installed = files("cio_replicate.migrations")
        if installed.joinpath("env.py").is_file():
            return str(installed)
    except ModuleNotFoundError:
        pass
    return str(Path(__file__).resolve().parent.parent / "migrations")


def alembic_config(connection: sa.Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", script_location().replace("%", "%%"))
    config.attributes["connection"] = connection
    return config


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


@contextmanager
def _engine(target: sa.Engine | str) -> Iterator[sa.Engine]:
    if isinstance(target, sa.Engine):
        yield target
        return
    with target_errors(target):
        engine = sa.create_engine(target)
    try:
        yield engine
    finally:
        engine.dispose()


def _is_sqlite_file(engine: sa.Engine) -> bool:
    base = family(engine.url.get_backend_name())
    return base is not None and base.file_database and not is_memory_database(engine.url)


@contextmanager
def _migration_engine(engine: sa.Engine) -> Iterator[sa.Engine]:
    """SQLite: a private engine whose transactions start with BEGIN IMMEDIATE.

    pysqlite otherwise runs DDL outside any transaction and takes the write
    lock late, so two processes upgrading at once could both try to create the
    tables. Other dialects use the caller's engine.
    """
    if not _is_sqlite_file(engine):
        yield engine
        return
    private = sa.create_engine(
        engine.url,
        poolclass=sa.pool.NullPool,
        connect_args={"timeout": SQLITE_BUSY_SECONDS},
    )

    @sa.event.listens_for(private, "connect")
    def _manual_transactions(dbapi_connection: Any, record: Any) -> None:
        dbapi_connection.isolation_level = None

    @sa.event.listens_for(private, "begin")
    def _begin_immediate(conn: sa.Connection) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")

    try:
        yield private
    finally:
        private.dispose()


def _serialize(conn: sa.Connection) -> Callable[[], None]:
    """Take the cross-process migration lock; returns how to let it go."""
    base = family(conn.dialect.name)
    lock = base.migration_lock if base is not None else "begin_immediate"
    if lock == "advisory":
        key = advisory_key(conn, MIGRATION_LOCK)
        conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": key})
        return lambda: None  # released at commit or rollback
    if lock == "get_lock":
        name = mysql_lock_name(conn, MIGRATION_LOCK)
        got = conn.execute(
            sa.text("SELECT GET_LOCK(:n, :w)"), {"n": name, "w": MYSQL_WAIT_SECONDS}
        ).scalar()
        if got != 1:
            raise RuntimeError(f"another process holds the migration lock {name!r}")

        def release() -> None:
            conn.execute(sa.text("SELECT RELEASE_LOCK(:n)"), {"n": name})

        return release
    return lambda: None  # SQLite: BEGIN IMMEDIATE already holds the write lock


def upgrade(target: sa.Engine | str, revision: str = "head") -> str | None:
    """Bring the system tables to `revision`; idempotent. Returns the new revision.

    A target that cannot be reached raises TargetUnavailable (one line, no traceback).
    """
    with _engine(target) as engine, target_errors(engine.url):
        with _migration_engine(engine) as migration_engine, migration_engine.begin() as conn:
            release = _serialize(conn)
            try:
                command.upgrade(alembic_config(conn), revision)
            finally:
                release()
        return current_revision(engine)


def current_revision(target: sa.Engine | str) -> str | None:
    """The revision the database is at (None: never upgraded)."""
    with _engine(target) as engine, target_errors(engine.url), engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"version_table": VERSION_TABLE})
        return context.get_current_revision()


def needs_upgrade(target: sa.Engine | str) -> bool:
    return current_revision(target) != head_revision()
