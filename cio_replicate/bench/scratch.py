"""Throw-away target databases for one measured run: a schema, a database, a file."""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Literal
from urllib.parse import quote

import sqlalchemy as sa

DbName = Literal["sqlite", "postgres", "mysql"]
DATABASES: tuple[DbName, ...] = ("sqlite", "postgres", "mysql")

POSTGRES_URL = os.environ.get(
    "CIO_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
MYSQL_URL = os.environ.get("CIO_BENCH_MYSQL_URL", "mysql+pymysql://root@127.0.0.1:3306/test")


def server_url(db: DbName) -> str | None:
    return {"sqlite": None, "postgres": POSTGRES_URL, "mysql": MYSQL_URL}[db]


def reachable(db: DbName) -> str | None:
    """None if the database can be used, else why not."""
    url = server_url(db)
    if url is None:
        return None
    engine = sa.create_engine(url, connect_args={"connect_timeout": 3})
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
        return None
    except Exception as exc:
        return f"{type(exc).__name__}: {str(exc).splitlines()[0]}"
    finally:
        engine.dispose()


@contextmanager
def scratch(db: DbName) -> Iterator[str]:
    """A fresh, empty target URL for ``db``; dropped afterwards."""
    name = f"bench_{uuid.uuid4().hex[:10]}"
    if db == "sqlite":
        folder = tempfile.mkdtemp(prefix="cio-bench-")
        try:
            yield f"sqlite:///{folder}/{name}.db"
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        return
    admin = sa.create_engine(POSTGRES_URL if db == "postgres" else MYSQL_URL)
    if db == "postgres":
        create, drop = f'CREATE SCHEMA "{name}"', f'DROP SCHEMA IF EXISTS "{name}" CASCADE'
        sep = "&" if "?" in POSTGRES_URL else "?"
        url = f"{POSTGRES_URL}{sep}options={quote('-csearch_path=' + name)}"
    else:
        create = f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4"
        drop = f"DROP DATABASE IF EXISTS `{name}`"
        url = f"{MYSQL_URL.rsplit('/', 1)[0]}/{name}?charset=utf8mb4"
    with admin.begin() as conn:
        conn.execute(sa.text(create))
    try:
        yield url
    finally:
        with admin.begin() as conn:
            conn.execute(sa.text(drop))
        admin.dispose()
