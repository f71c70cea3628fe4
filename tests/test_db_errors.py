"""Database errors through the CLI: one line naming the target (host, database), the
table where there is one, the cause and the fix; exit 1 (4 when other objects
committed); never the SQL statement or its parameters (people's data) unless -vv."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from cio_replicate.cli import main
from cio_replicate.load import Target
from cio_replicate.load.dberrors import describe
from cio_replicate.sandbox import APP_API_KEY, SITE_ID, TRACK_API_KEY, Sandbox
from cio_replicate.sandbox.server import serve

from .conftest import MYSQL_URL, POSTGRES_URL

SQL_MARKS = ("[SQL:", "[parameters:", "INSERT INTO", "VALUES (", "Background on this error")


@pytest.fixture(autouse=True)
def _no_ambient_config(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [n for n in os.environ if n.startswith("CIO_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("CIO_SANDBOX_SCALE", "tiny")
    monkeypatch.setenv("CIO_SOURCE", "sandbox")  # a target is set: ask for the sandbox


def _output(capsys: pytest.CaptureFixture[str]) -> tuple[str, str]:
    """(the whole output, the one error line); no SQL, no traceback anywhere."""
    captured = capsys.readouterr()
    text = captured.out + captured.err
    for mark in (*SQL_MARKS, "Traceback", "unexpected error"):
        assert mark not in text, text
    errors = [line for line in captured.err.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1, captured.err
    return text, errors[0]


@pytest.mark.mysql
def test_a_wrong_mysql_password_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    url = MYSQL_URL.replace("root@", "root:not-the-password@", 1)
    assert main(["replicate", "Segments", "--target-url", url]) == 1
    _, line = _output(capsys)
    assert "cannot use target mysql+pymysql://root:***@127.0.0.1:3306/test" in line
    assert "wrong user or password" in line and "CIO_TARGET_URL" in line
    assert "not-the-password" not in line


@pytest.mark.mysql
def test_a_wrong_mysql_port_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    url = MYSQL_URL.replace(":3306/", ":1/", 1)
    assert main(["replicate", "Segments", "--target-url", url]) == 1
    _, line = _output(capsys)
    assert "cannot use target mysql+pymysql://root@127.0.0.1:1/test" in line
    assert "cannot reach the database server" in line and "host and port" in line


@pytest.mark.mysql
def test_an_unknown_mysql_database_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    url = MYSQL_URL.rsplit("/", 1)[0] + "/no_such_db_cio"
    assert main(["db", "upgrade", "--target-url", url]) == 1
    _, line = _output(capsys)
    assert "/no_such_db_cio" in line and "the database does not exist" in line


@pytest.fixture
def role(postgres_url: str) -> Iterator[tuple[str, str]]:
    """A fresh schema with the tool's tables and Segments replicated by the owner, and a
    role that may only SELECT there: (owner's URL, the role's URL)."""
    assert main(["replicate", "Segments", "Snippets", "--target-url", postgres_url]) == 0
    name = f"ro_{uuid.uuid4().hex[:10]}"
    schema = postgres_url.rsplit("search_path%3D", 1)[1]
    admin = sa.create_engine(POSTGRES_URL)
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE ROLE "{name}" LOGIN'))
        conn.execute(sa.text(f'GRANT USAGE ON SCHEMA "{schema}" TO "{name}"'))
        conn.execute(sa.text(f'GRANT SELECT ON ALL TABLES IN SCHEMA "{schema}" TO "{name}"'))
    yield postgres_url, postgres_url.replace("postgres@", f"{name}@", 1)
    with admin.begin() as conn:
        conn.execute(sa.text(f'DROP OWNED BY "{name}"'))
        conn.execute(sa.text(f'DROP ROLE "{name}"'))
    admin.dispose()


@pytest.mark.postgres
def test_a_read_only_postgres_user_is_one_line_naming_the_table(
    role: tuple[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    _, url = role
    capsys.readouterr()
    assert main(["replicate", "Segments", "--target-url", url]) == 1
    _, line = _output(capsys)
    assert "cannot use target postgresql+psycopg://ro_" in line and "127.0.0.1:5432/test" in line
    assert "table _cio_runs: permission denied" in line and "Grant this user" in line


@pytest.mark.postgres
def test_a_revoked_insert_fails_the_object_naming_its_table(
    role: tuple[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    owner, url = role
    user = url.split("://", 1)[1].split("@", 1)[0]
    admin = sa.create_engine(owner)
    with admin.begin() as conn:  # every privilege on the tool's tables, none to INSERT data
        for table in ("_cio_state", "_cio_runs", "_cio_run_objects", "_cio_columns", "_cio_locks"):
            conn.execute(sa.text(f'GRANT INSERT, UPDATE, DELETE ON "{table}" TO "{user}"'))
        conn.execute(sa.text(f'GRANT UPDATE, DELETE ON segments TO "{user}"'))
        conn.execute(sa.text(f'GRANT INSERT, UPDATE, DELETE ON snippets TO "{user}"'))
        conn.execute(sa.text("DELETE FROM segments"))  # the next run must insert
    admin.dispose()
    capsys.readouterr()
    assert main(["replicate", "Segments", "Snippets", "--target-url", url]) == 4
    text, line = _output(capsys)
    assert "Segments: cannot use target postgresql+psycopg://ro_" in line
    assert "table segments: permission denied" in line and "Grant this user" in line


@pytest.mark.mysql
def test_too_many_columns_fails_the_object_naming_its_table(
    mysql_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    sb = Sandbox("tiny", seed=1)
    secret = "secret-value-of-a-person"
    sb.workspace.create_person(
        id="wide", attributes={**{f"attr_{i}": i for i in range(1100)}, "note": secret}
    )
    server = serve(sb)
    try:
        for key, value in {
            "CIO_SOURCE": "customerio", "CIO_APP_API_URL": server.base_url,
            "CIO_TRACK_API_URL": server.base_url, "CIO_APP_API_KEY": APP_API_KEY,
            "CIO_TRACK_API_KEY": TRACK_API_KEY, "CIO_SITE_ID": SITE_ID,
            "CIO_RATE_LIMIT": "1000", "CIO_ALLOW_UNSAFE_RATE_LIMIT": "true",
        }.items():  # fmt: skip
            monkeypatch.setenv(key, value)
        assert main(["replicate", "Customers", "Segments", "--target-url", mysql_url]) == 4
        text, line = _output(capsys)
        assert "Customers: cannot use target mysql+pymysql://root@127.0.0.1:3306/t_" in line
        assert "table customers: more columns than the database allows" in line
        assert secret not in text
        # -vv shows everything (the statement) for the one who asked.
        assert main(["-vv", "replicate", "Customers", "--target-url", mysql_url]) == 1
        assert "Too many columns" in capsys.readouterr().err
    finally:
        server.shutdown()


@pytest.mark.parametrize(
    "url", [pytest.param("postgres", marks=pytest.mark.postgres), pytest.param("mysql", marks=pytest.mark.mysql)]
)  # fmt: skip
def test_a_dropped_connection_is_described_without_sql(
    url: str, request: pytest.FixtureRequest
) -> None:
    """A session killed by the server (failover, restart, idle timeout) mid-run."""
    url = str(request.getfixturevalue(f"{url}_url"))
    target = Target(url)
    admin = sa.create_engine(url)
    try:
        with target.connect() as conn:
            if target.dialect.name == "postgresql":
                pid = conn.exec_driver_sql("SELECT pg_backend_pid()").scalar_one()
                kill = f"SELECT pg_terminate_backend({int(pid)})"
            else:
                pid = conn.exec_driver_sql("SELECT CONNECTION_ID()").scalar_one()
                kill = f"KILL {int(pid)}"
            with admin.begin() as other:
                other.exec_driver_sql(kill)
            with pytest.raises(sa.exc.DBAPIError) as info:
                conn.execute(sa.text("SELECT :secret"), {"secret": "a person's email"})
        line = describe(info.value)
    finally:
        admin.dispose()
        target.dispose()
    assert line.startswith(f"cannot use target {sa.make_url(url).render_as_string()}")
    assert "the connection to the database was lost" in line and "Rerun" in line
    assert "SELECT" not in line and "person" not in line
