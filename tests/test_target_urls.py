"""Target URLs as PaaS providers hand them out (no driver) reach the installed driver;
a MySQL charset that cannot hold every value is refused with the fix."""

from __future__ import annotations

import os

import pytest
import sqlalchemy as sa

from cio_replicate.cli import main
from cio_replicate.config import load_settings
from cio_replicate.errors import ConfigError


@pytest.fixture(autouse=True)
def _no_ambient_config(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [n for n in os.environ if n.startswith("CIO_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("CIO_SOURCE", "sandbox")  # a target is set: ask for the sandbox


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("postgres://u:pw@db.example.com:5432/app", "postgresql+psycopg://u:pw@db.example.com:5432/app"),
        ("postgresql://u@db/app?sslmode=require", "postgresql+psycopg://u@db/app?sslmode=require"),
        ("POSTGRES://u@db/app", "postgresql+psycopg://u@db/app"),
        ("mysql://u@db/app", "mysql+pymysql://u@db/app"),
        ("mariadb://u@db/app", "mysql+pymysql://u@db/app"),
        ("postgresql+psycopg://u@db/app", "postgresql+psycopg://u@db/app"),
        ("sqlite:///x.db", "sqlite:///x.db"),
    ],
)  # fmt: skip
def test_driverless_urls_map_to_the_installed_driver(given: str, expected: str) -> None:
    env = {"CIO_TARGET_URL": given, "CIO_SOURCE": "sandbox"}
    assert load_settings(None, env=env).target_url == expected


@pytest.mark.parametrize("charset", ["latin1", "utf8"])
def test_a_mysql_charset_that_cannot_hold_emoji_is_refused(charset: str) -> None:
    url = f"mysql+pymysql://u@db/app?charset={charset}"
    with pytest.raises(ConfigError) as info:
        load_settings(None, env={"CIO_TARGET_URL": url})
    assert "target_url (from env CIO_TARGET_URL)" in str(info.value)
    assert "use charset=utf8mb4" in str(info.value)


def _tables(url: str) -> set[str]:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return set(sa.inspect(conn).get_table_names())
    finally:
        engine.dispose()


@pytest.mark.postgres
@pytest.mark.parametrize("scheme", ["postgres://", "postgresql://"])
def test_a_postgres_url_without_driver_works_end_to_end(postgres_url: str, scheme: str) -> None:
    url = postgres_url.replace("postgresql+psycopg://", scheme, 1)
    assert main(["db", "upgrade", "--target-url", url]) == 0
    assert "_cio_state" in _tables(postgres_url)
    assert main(["replicate", "Segments", "--target-url", url]) == 0
    assert "segments" in _tables(postgres_url)


@pytest.mark.mysql
def test_a_mysql_url_without_driver_works_end_to_end(mysql_url: str) -> None:
    url = mysql_url.replace("mysql+pymysql://", "mysql://", 1)
    assert main(["replicate", "Segments", "--target-url", url]) == 0
    assert {"_cio_state", "segments"} <= _tables(mysql_url)
