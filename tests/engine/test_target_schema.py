"""``target_schema``: a PostgreSQL schema or MySQL/MariaDB database, created if missing,
that holds every table (issue 15)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import sqlalchemy as sa

from cio_replicate.cli import main

OBJECTS = ("Campaigns", "Messages", "Snippets")


@dataclass
class Place:
    url: str  # the target URL, whose own schema/database must stay empty
    schema: str  # target_schema: not there before the test
    admin: sa.Engine

    def tables(self, schema: str | None) -> set[str]:
        with self.admin.connect() as conn:
            return set(sa.inspect(conn).get_table_names(schema=schema))

    def exists(self) -> bool:
        with self.admin.connect() as conn:
            return sa.inspect(conn).has_schema(self.schema)


@pytest.fixture
def place(server_url: str, new_schema: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Place]:
    for name in ("CIO_CONFIG", "CIO_APP_API_KEY", "CIO_TARGET_SCHEMA"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("CIO_SOURCE", "sandbox")
    monkeypatch.setenv("CIO_SANDBOX_SCALE", "tiny")
    monkeypatch.setenv("CIO_RATE_LIMIT", "1000")
    monkeypatch.setenv("CIO_ALLOW_UNSAFE_RATE_LIMIT", "true")
    monkeypatch.setenv("CIO_TARGET_URL", server_url)
    admin = sa.create_engine(server_url)
    yield Place(server_url, new_schema, admin)
    admin.dispose()


def summary(out: str) -> dict[str, object]:
    lines = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    return next(line for line in lines if line.get("event") == "replicate.summary")


def test_tables_go_to_target_schema_created_if_missing(
    place: Place, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert not place.exists()
    monkeypatch.setenv("CIO_TARGET_SCHEMA", place.schema)
    assert main(["--log-format", "json", "replicate", *OBJECTS]) == 0
    first = summary(capsys.readouterr().out)
    assert first["status"] == "success"
    tables = place.tables(place.schema)
    assert {"campaigns", "messages", "snippets"} <= tables
    assert {"_cio_state", "_cio_columns", "_cio_alembic_version"} <= tables
    assert place.tables(None) == set()  # nothing in the URL's own schema/database
    written = sum(int(o["inserted"]) for o in first["objects"])  # type: ignore[attr-defined]
    assert written > 0

    # A rerun finds its state there: nothing to write.
    assert main(["--log-format", "json", "replicate", *OBJECTS]) == 0
    again = summary(capsys.readouterr().out)
    objects = again["objects"]
    assert isinstance(objects, list) and len(objects) == len(OBJECTS)
    assert all(o["inserted"] == 0 and o["updated"] == 0 for o in objects)

    assert main(["db", "upgrade"]) == 0
    assert "already at revision" in capsys.readouterr().out
    assert main(["status"]) == 0
    shown = capsys.readouterr().out
    assert f"(target_schema {place.schema})" in shown.splitlines()[0]  # which replica this is
    assert all(name in shown for name in OBJECTS)
    assert main(["objects", "--json"]) == 0  # the column maps are read from there too
    listed = {o["name"]: o for o in json.loads(capsys.readouterr().out)["objects"]}
    assert listed["Campaigns"]["columns"]["id"] == "id"
    assert place.tables(None) == set()

    # Without the setting the same URL sees an empty target.
    monkeypatch.delenv("CIO_TARGET_SCHEMA")
    assert main(["status"]) == 2
    assert "no cio-replicate tables yet" in capsys.readouterr().err


def test_a_user_who_may_not_create_the_schema_gets_one_line_naming_the_fix(
    server_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    user = f"ts_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(server_url)
    postgres = admin.dialect.name == "postgresql"
    with admin.begin() as conn:  # a user who may use the URL's database, not create one
        if postgres:
            conn.exec_driver_sql(f'CREATE ROLE "{user}" LOGIN')
        else:
            database = sa.make_url(server_url).database
            conn.exec_driver_sql(f"CREATE USER '{user}'@'%%'")
            conn.exec_driver_sql(f"GRANT ALL ON `{database}`.* TO '{user}'@'%%'")
    try:
        url = sa.make_url(server_url).set(username=user).render_as_string(False)
        monkeypatch.setenv("CIO_TARGET_SCHEMA", "ts_never_created")
        assert main(["db", "upgrade", "--target-url", url]) == 1
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1
        assert "cannot create target_schema ts_never_created" in err
        what = "schema" if postgres else "database"
        assert f"create the {what} ts_never_created as a user who may" in err
        with admin.connect() as conn:
            assert not sa.inspect(conn).has_schema("ts_never_created")
    finally:
        with admin.begin() as conn:
            conn.exec_driver_sql(f'DROP ROLE "{user}"' if postgres else f"DROP USER '{user}'@'%%'")
        admin.dispose()


def test_sqlite_refuses_target_schema(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("CIO_CONFIG", raising=False)
    monkeypatch.setenv("CIO_TARGET_SCHEMA", "analytics")
    assert main(["replicate", "--target-url", sqlite_url, "Campaigns"]) == 2
    err = capsys.readouterr().err
    assert "target_schema" in err and "SQLite has no schemas" in err
