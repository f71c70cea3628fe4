"""``target_schema``: where the tables go, created if missing.

PostgreSQL: the schema is created (``CREATE SCHEMA IF NOT EXISTS``) and every
connection of the target's engine gets ``search_path`` set to it alone, before
SQLAlchemy's own first-connect work (so the dialect's default schema is it):
data tables, the ``_cio_*`` tables and Alembic's version table all live there,
whatever ``options=-csearch_path=...`` the URL carries. MySQL/MariaDB: the
database is created (utf8mb4) through a connection to the URL's database, and
the engine's URL names it instead. The schema is created only when it is
missing, so a user without the right to create one can use an existing one.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event

from ..errors import CioReplicateError
from .dberrors import one_line
from .dialects import Dialect


class SchemaUnavailable(CioReplicateError):
    """The target schema is missing and cannot be created (exit code 1)."""


def database_url(url: sa.URL, schema: str, dialect: Dialect) -> sa.URL:
    """The URL the engine uses: MySQL's names the schema's database; others unchanged."""
    return url.set(database=schema) if dialect.target_schema == "database" else url


def search_path(engine: sa.Engine, schema: str) -> None:
    """Every new PostgreSQL connection of ``engine`` uses ``schema`` only."""
    setting = engine.dialect.identifier_preparer.quote(schema)
    event.listen(engine, "connect", _set_search_path(setting), insert=True)


def _set_search_path(setting: str) -> Callable[[Any, Any], None]:
    def connect(dbapi_connection: Any, _record: Any) -> None:
        autocommit = dbapi_connection.autocommit
        dbapi_connection.autocommit = True  # the setting outlives any transaction
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"SET SESSION search_path = {setting}")
        finally:
            cursor.close()
            dbapi_connection.autocommit = autocommit

    return connect


def ensure_schema(engine: sa.Engine, schema: str, dialect: Dialect) -> None:
    """Create ``schema`` through ``engine`` (connected to the URL's own database or
    schema) unless it exists."""
    with engine.connect() as conn:  # unreachable, wrong password...: the caller's errors
        if sa.inspect(conn).has_schema(schema):
            return
    try:
        with engine.begin() as conn:
            if dialect.target_schema == "search_path":
                conn.execute(sa.schema.CreateSchema(schema, if_not_exists=True))
            else:  # MySQL/MariaDB: a database, in utf8mb4 like the tables
                name = engine.dialect.identifier_preparer.quote(schema)
                conn.exec_driver_sql(f"CREATE DATABASE IF NOT EXISTS {name} CHARACTER SET utf8mb4")
    except sa.exc.DBAPIError as exc:
        what = "schema" if dialect.target_schema == "search_path" else "database"
        lines = str(exc.orig or exc).strip().splitlines() or [type(exc).__name__]
        raise SchemaUnavailable(
            one_line(
                f"cannot create target_schema {schema} in "
                f"{engine.url.render_as_string(hide_password=True)} ({lines[0]}): create the "
                f"{what} {schema} as a user who may, and let this user create tables in it, "
                f"or set target_schema (CIO_TARGET_SCHEMA) to an existing {what}"
            )
        ) from exc
