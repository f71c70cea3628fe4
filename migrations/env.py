"""Alembic environment for cio-replicate's system tables.

Run from code (:func:`cio_replicate.migrate.upgrade`): the caller passes an open
connection in ``config.attributes["connection"]`` and owns its transaction.
Run from the ``alembic`` command line (developers writing a revision), the
``sqlalchemy.url`` option names the database. Either way only the tables in
:mod:`cio_replicate.systables` are compared (``include_name``), the version
table is ``_cio_alembic_version``, and SQLite gets batch ("move and copy") mode.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import context

from cio_replicate.migrate import migration_options

config = context.config


def run_migrations_offline() -> None:
    url = config.get_main_option("sqlalchemy.url") or "sqlite://"
    dialect = sa.engine.make_url(url).get_dialect()()
    context.configure(
        url=url,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
        **migration_options(dialect.name),
    )
    with context.begin_transaction():
        context.run_migrations()


def _run(connection: sa.Connection) -> None:
    context.configure(connection=connection, **migration_options(connection.dialect.name))
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    url = config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("pass a connection in config.attributes or set sqlalchemy.url")
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with engine.begin() as conn:
            _run(conn)
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
