"""`db upgrade`, `status`, `objects`, and --help on every command."""

from __future__ import annotations

import json
from pathlib import Path

import click
import pytest
import sqlalchemy as sa

from cio_replicate.catalog import CATALOG
from cio_replicate.cli import cli, main
from cio_replicate.migrate import upgrade
from cio_replicate.state import (
    ObjectStats,
    finish_object,
    finish_run,
    save_state,
    start_object,
    start_run,
    try_lock,
)
from cio_replicate.systables import columns

from .test_migrate import table_names

T0 = 1_700_000_000  # 2023-11-14T22:13:20Z


@pytest.fixture(autouse=True)
def _no_ambient_config(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("CIO_CONFIG", "CIO_TARGET_URL", "CIO_SOURCE", "CIO_APP_API_KEY"):
        monkeypatch.delenv(name, raising=False)


def test_db_upgrade_creates_the_system_tables_once(
    db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["db", "upgrade", "--target-url", db_url]) == 0
    assert "upgraded (empty) -> 0005_target" in capsys.readouterr().out
    assert "_cio_state" in table_names(db_url)
    assert main(["db", "upgrade", "--target-url", db_url]) == 0
    assert "already at revision 0005_target" in capsys.readouterr().out


def test_db_upgrade_reads_the_target_from_the_environment(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CIO_TARGET_URL", sqlite_url)
    assert main(["db", "upgrade"]) == 0
    assert sqlite_url in capsys.readouterr().out
    assert "_cio_locks" in table_names(sqlite_url)


def test_db_upgrade_with_a_bad_url_is_a_configuration_error(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["db", "upgrade", "--target-url", "nosuchdb://x/y"]) == 2
    assert "target_url" in capsys.readouterr().err


def test_db_upgrade_hides_the_password(capsys: pytest.CaptureFixture[str]) -> None:
    url = "postgresql+psycopg://u:hunter2@127.0.0.1:1/x?connect_timeout=1"
    assert main(["db", "upgrade", "--target-url", url]) == 1
    captured = capsys.readouterr()
    assert "hunter2" not in captured.out + captured.err
    assert "cannot use target" in captured.err


def test_status_needs_an_existing_initialised_target(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "none.db"
    assert main(["status", "--target-url", f"sqlite:///{missing}"]) == 2
    assert not missing.exists()
    assert "no database" in capsys.readouterr().err
    empty = tmp_path / "empty.db"
    blank = sa.create_engine(f"sqlite:///{empty}")
    blank.connect().close()
    blank.dispose()
    assert main(["status", "--target-url", f"sqlite:///{empty}"]) == 2
    assert "db upgrade" in capsys.readouterr().err


def _record_history(url: str) -> None:
    upgrade(url)
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        run = start_run(conn, command="replicate", objects=["Campaigns", "Segments"], now=T0)
        start_object(conn, run, "Campaigns", now=T0)
        save_state(conn, "Campaigns", watermark=T0, resume=None, run_id=run, now=T0, rows_added=7)
        finish_object(conn, run, "Campaigns", ObjectStats(status="success", inserted=7), now=T0 + 1)
        start_object(conn, run, "Segments", now=T0)
        finish_object(
            conn,
            run,
            "Segments",
            ObjectStats(status="failed", errors=1, message="HTTP 503"),
            now=T0 + 2,
        )
        finish_run(conn, run, status="partial", now=T0 + 3)
    engine.dispose()


def test_status_shows_watermarks_runs_errors_and_locks(
    db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    _record_history(db_url)
    engine = sa.create_engine(db_url)
    lock = try_lock(engine, "Exports", "lockrun-0001")
    assert lock is not None
    try:
        assert main(["status", "--target-url", db_url]) == 0
        text = capsys.readouterr().out
        assert main(["status", "--json", "--target-url", db_url]) == 0
        document = json.loads(capsys.readouterr().out)
    finally:
        lock.release()
        engine.dispose()
    campaigns = next(line for line in text.splitlines() if line.startswith("Campaigns "))
    assert "2023-11-14T22:13:20Z" in campaigns and " 7 " in campaigns and "success" in campaigns
    segments = next(line for line in text.splitlines() if line.startswith("Segments "))
    assert "failed" in segments and "HTTP 503" in segments
    assert "lockrun-" in next(line for line in text.splitlines() if line.startswith("Exports "))

    by_name = {item["object"]: item for item in document["objects"]}
    assert list(by_name)[: len(CATALOG)] == [s.name for s in CATALOG]
    assert by_name["Campaigns"]["watermark"] == "2023-11-14T22:13:20Z"
    assert by_name["Campaigns"]["watermark_unix"] == T0
    assert by_name["Campaigns"]["rows_total"] == 7
    assert by_name["Campaigns"]["last_run"]["status"] == "success"
    assert by_name["Campaigns"]["last_error"] is None
    assert by_name["Segments"]["last_error"]["message"] == "HTTP 503"
    assert by_name["Exports"]["lock"]["run_id"] == "lockrun-0001"
    assert by_name["Exports"]["lock"]["live"] is True
    assert by_name["Messages"]["last_run"] is None
    assert list(by_name["Campaigns"]["last_run"]) == [
        "run_id",
        "command",
        "status",
        "started_at",
        "finished_at",
        "rows_inserted",
        "rows_updated",
        "rows_deleted",
        "api_calls",
        "errors",
        "message",
    ]
    lock = by_name["Exports"]["lock"]
    assert list(lock) == ["run_id", "pid", "host", "acquired_at", "heartbeat_at", "live"]
    assert lock["acquired_at"].endswith("Z") and by_name["Campaigns"]["last_run"]["started_at"]


def test_objects_prints_the_catalog_within_100_columns(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["objects"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0].split() == ["Object", "Table", "Mode", "DML"]
    assert all(len(line) <= 100 for line in out.splitlines()), max(out.splitlines(), key=len)
    for spec in CATALOG:
        assert spec.table in out
    assert "-v objects" in out  # where the details are
    assert main(["-v", "objects"]) == 0
    details = capsys.readouterr().out
    assert details.splitlines()[0].split()[:3] == ["Object", "Table", "Source"]
    assert "GET /v1/campaigns/{campaign_id}/actions" in details


def test_status_fits_100_columns_with_details_under_v(
    sqlite_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    upgrade(sqlite_url)
    engine = sa.create_engine(sqlite_url)
    long_error = "HTTPError: 503 Service Unavailable from /v1/transactional/7/messages " * 3
    with engine.begin() as conn:
        run = start_run(
            conn, command="replicate", objects=["TransactionalMessageDeliveries"], now=T0
        )
        start_object(conn, run, "TransactionalMessageDeliveries", now=T0)
        save_state(conn, "TransactionalMessageDeliveries", watermark=T0, resume=None, run_id=run,
                   now=T0, rows_added=1_234_567)  # fmt: skip
        stats = ObjectStats(status="failed", errors=1, message=long_error.strip())
        finish_object(conn, run, "TransactionalMessageDeliveries", stats, now=T0 + 1)
        finish_run(conn, run, status="failed", now=T0 + 2)
    engine.dispose()
    assert main(["status", "--target-url", sqlite_url]) == 0
    target, *lines = capsys.readouterr().out.splitlines()
    assert target.startswith("target: sqlite:///")  # the user's own URL, as long as it is
    assert all(len(line) <= 100 for line in lines), max(lines, key=len)
    row = next(line for line in lines if line.startswith("TransactionalMessageDeliveries "))
    assert "2023-11-14T22:13:20Z" in row and "1,234,567" in row and "failed" in row
    assert "error: HTTPError: 503" in row and row.endswith("...")
    assert main(["-v", "status", "--target-url", sqlite_url]) == 0
    verbose = capsys.readouterr().out
    assert "Last error" in verbose and run[:8] in verbose


def test_objects_json_includes_the_column_map_of_the_target(
    db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["objects", "--json", "--target-url", db_url]) == 0
    plain = json.loads(capsys.readouterr().out)["objects"]
    assert len(plain) == len(CATALOG)
    assert "columns" not in plain[0]

    upgrade(db_url)
    engine = sa.create_engine(db_url)
    with engine.begin() as conn:
        conn.execute(
            columns.insert(),
            [
                {
                    "table_name": "campaigns",
                    "column_name": "id",
                    "api_name": "id",
                    "sql_type": "int",
                    "position": 0,
                },
                {
                    "table_name": "campaigns",
                    "column_name": "first_started_9f3a",
                    "api_name": "First Started!",
                    "sql_type": "timestamp",
                    "position": 1,
                },
                {
                    "table_name": "campaigns",
                    "column_name": "first_started_9f3a__raw",
                    "api_name": "First Started!",
                    "sql_type": "raw",
                    "position": 2,
                },
            ],
        )
    engine.dispose()
    assert main(["objects", "--json", "--target-url", db_url]) == 0
    items = {item["name"]: item for item in json.loads(capsys.readouterr().out)["objects"]}
    assert items["Campaigns"]["columns"] == {"id": "id", "First Started!": "first_started_9f3a"}
    assert items["Campaigns"]["raw_columns"] == {"First Started!": "first_started_9f3a__raw"}
    assert items["Segments"]["columns"] == {}
    assert items["CampaignActions"]["parent_params"] == {"campaign_id": "id"}
    assert items["Snippets"]["dml"] == ["UPDATE", "DELETE"]


def _command_paths(group: click.Group, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    paths = []
    for name, command in sorted(group.commands.items()):
        paths.append((*prefix, name))
        if isinstance(command, click.Group):
            paths += _command_paths(command, (*prefix, name))
    return paths


def test_every_command_has_help(capsys: pytest.CaptureFixture[str]) -> None:
    paths = _command_paths(cli)
    assert {("db",), ("db", "upgrade"), ("status",), ("objects",)} <= set(paths)
    for path in paths:
        assert main([*path, "--help"]) == 0, path
        out = capsys.readouterr().out
        assert out.startswith("Usage: cio-replicate " + " ".join(path)), path
        command: click.Command = cli
        for name in path:
            assert isinstance(command, click.Group)
            command = command.commands[name]
        assert command.help, f"{' '.join(path)} has no help text"
