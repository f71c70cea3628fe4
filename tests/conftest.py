"""Shared fixtures: real databases, one fresh schema or database per test.

PostgreSQL and MariaDB are reached through CIO_TEST_POSTGRES_URL and
CIO_TEST_MYSQL_URL (defaults: the local servers). Locally an unreachable
server skips its tests with the reason; under CI (CI=true) it fails them,
because CI must never skip them.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from urllib.parse import quote

import pytest
import sqlalchemy as sa

POSTGRES_URL = os.environ.get(
    "CIO_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
MYSQL_URL = os.environ.get("CIO_TEST_MYSQL_URL", "mysql+pymysql://root@127.0.0.1:3306/test")
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")

_reachable: dict[str, str | None] = {}


def _check(url: str) -> str | None:
    """None if the server answers, else the reason it does not."""
    if url not in _reachable:
        try:
            engine = sa.create_engine(url, connect_args={"connect_timeout": 3})
            with engine.connect() as conn:
                conn.execute(sa.text("SELECT 1"))
            engine.dispose()
            _reachable[url] = None
        except Exception as exc:
            _reachable[url] = f"{type(exc).__name__}: {str(exc).splitlines()[0]}"
    return _reachable[url]


def _require(url: str, name: str) -> None:
    reason = _check(url)
    if reason is not None:
        if IN_CI:
            pytest.fail(f"{name} is not reachable under CI ({reason})")
        pytest.skip(f"{name} not reachable at {url}: {reason}")


@pytest.fixture
def sqlite_url(tmp_path: object) -> str:
    return f"sqlite:///{tmp_path}/target.db"


@pytest.fixture
def postgres_url() -> Iterator[str]:
    _require(POSTGRES_URL, "PostgreSQL")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(POSTGRES_URL)
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in POSTGRES_URL else "?"
    yield f"{POSTGRES_URL}{sep}options={quote('-csearch_path=' + schema)}"
    with admin.begin() as conn:
        conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


@pytest.fixture
def mysql_url() -> Iterator[str]:
    _require(MYSQL_URL, "MariaDB/MySQL")
    name = f"t_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(MYSQL_URL)
    with admin.begin() as conn:
        conn.execute(sa.text(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4"))
    base = MYSQL_URL.rsplit("/", 1)[0]
    yield f"{base}/{name}?charset=utf8mb4"
    with admin.begin() as conn:
        conn.execute(sa.text(f"DROP DATABASE `{name}`"))
    admin.dispose()


@pytest.fixture(
    params=[
        "sqlite",
        pytest.param("postgres", marks=pytest.mark.postgres),
        pytest.param("mysql", marks=pytest.mark.mysql),
    ]
)
def db_url(request: pytest.FixtureRequest) -> str:
    """A fresh, empty target database URL, once per dialect."""
    name = request.param
    fixture = {"sqlite": "sqlite_url", "postgres": "postgres_url", "mysql": "mysql_url"}[name]
    return str(request.getfixturevalue(fixture))


@pytest.fixture(
    params=[
        pytest.param("postgres", marks=pytest.mark.postgres),
        pytest.param("mysql", marks=pytest.mark.mysql),
    ]
)
def server_url(request: pytest.FixtureRequest) -> str:
    """``db_url`` on the database servers only (a target that has schemas)."""
    return str(request.getfixturevalue(f"{request.param}_url"))


@pytest.fixture
def new_schema(server_url: str) -> Iterator[str]:
    """A ``target_schema`` name that does not exist yet; dropped after the test
    (the PostgreSQL schema or the MySQL/MariaDB database)."""
    name = f"ts_{uuid.uuid4().hex[:12]}"
    yield name
    admin = sa.create_engine(server_url)
    with admin.begin() as conn:
        if admin.dialect.name == "postgresql":
            conn.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')
        else:
            conn.exec_driver_sql(f"DROP DATABASE IF EXISTS `{name}`")
    admin.dispose()
