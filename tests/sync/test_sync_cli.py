"""``cio-replicate sync Collections`` as a command, against the sandbox served on
loopback: the printed plan of a dry run, exit 4 on a refused collection, usage
errors, and a SIGKILL between a create and its write-back, then a rerun."""

from __future__ import annotations

import json
import signal
import subprocess
import sys

import pytest
import sqlalchemy as sa

from cio_replicate.load import Target
from cio_replicate.sandbox import Sandbox
from cio_replicate.sandbox.server import serve

from ..engine.conftest import subprocess_env
from ..writeback.conftest import Cli, cli, sandbox  # noqa: F401  (fixtures)

ROW = [{"city": "Zürich", "n": 1}]


def _sql(url: str, statement: str, **params: object) -> None:
    with Target(url) as target, target.begin() as conn:
        conn.execute(sa.text(statement), params)


def _rows(url: str) -> list[tuple[int | None, str]]:
    with Target(url) as target, target.connect() as conn:
        got = conn.execute(sa.text("SELECT id, name FROM collections ORDER BY name")).all()
    return [(None if i is None else int(i), str(n)) for i, n in got]


def test_dry_run_prints_the_plan_each_way_and_changes_nothing(
    cli: Cli,  # noqa: F811
    db_url: str,
) -> None:
    assert cli("replicate", "Collections", "--target-url", db_url) == 0
    assert cli("sync", "Collections", "--target-url", db_url) == 0
    _sql(db_url, "INSERT INTO collections (name, data) VALUES ('stores', :d)", d=json.dumps(ROW))
    cli.sandbox.workspace.delete_collection(3)
    mark = len(cli.sandbox.requests)
    assert cli("sync", "Collections", "--dry-run", "--target-url", db_url) == 0
    assert "would create in Customer.io: (new) 'stores'" in cli.out
    assert "would delete in table: #3 'Store Locations'" in cli.out
    assert "create_to_cio 1, delete_to_table 1" in cli.out
    assert [r for r in cli.sandbox.requests[mark:] if r.method != "GET"] == []
    assert (3, "Store Locations") in _rows(db_url)
    assert cli("sync", "Collections", "--target-url", db_url) == 0
    assert "create in Customer.io: (new) 'stores'" in cli.out


def test_a_refused_collection_exits_4_and_the_others_are_synced(
    cli: Cli,  # noqa: F811
    db_url: str,
) -> None:
    assert cli("replicate", "Collections", "--target-url", db_url) == 0
    assert cli("sync", "Collections", "--target-url", db_url) == 0
    big = json.dumps([{"blob": "x" * 11_000}])
    _sql(db_url, "UPDATE collections SET data = :d WHERE id = 1", d=big)
    _sql(db_url, "UPDATE collections SET name = 'stores_eu' WHERE id = 3")
    assert cli("sync", "Collections", "--target-url", db_url) == 4
    assert "10 KB" in cli.err and "#1" in cli.err
    assert cli.sandbox.workspace.record("collections", 3)["name"] == "stores_eu"


def test_sync_of_an_object_without_sync_is_a_usage_error(cli: Cli, db_url: str) -> None:  # noqa: F811
    assert cli("sync", "Campaigns", "--target-url", db_url) == 2
    assert "Collections" in cli.err
    assert cli("sync", "Colections", "--target-url", db_url) == 2


@pytest.fixture
def served_alone() -> object:
    sb = Sandbox("tiny", seed=1)
    server = serve(sb)
    yield sb, server.base_url
    server.shutdown()


def _sync(base_url: str, url: str, crash: str | None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cio_replicate", "sync", "Collections"],
        env=subprocess_env(base_url, url, crash),
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.mark.slow
def test_a_kill_between_create_and_write_back_then_a_rerun_makes_no_duplicate(
    served_alone: tuple[Sandbox, str], db_url: str
) -> None:
    sb, base_url = served_alone
    setup = subprocess.run(
        [sys.executable, "-m", "cio_replicate", "replicate", "Collections"],
        env=subprocess_env(base_url, db_url, None),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert setup.returncode == 0, setup.stderr[-2000:]
    _sql(db_url, "INSERT INTO collections (name, data) VALUES ('stores', :d)", d=json.dumps(ROW))
    _sql(db_url, "INSERT INTO collections (name, data) VALUES ('coupons', '[{\"c\": 1}]')")
    killed = _sync(base_url, db_url, "create:1")
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]
    made = [c for c in sb.workspace.records("collections") if c["name"] in ("stores", "coupons")]
    assert len(made) == 1  # created in Customer.io, its id not written back
    assert (None, made[0]["name"]) in _rows(db_url)
    rerun = _sync(base_url, db_url, None)
    assert rerun.returncode == 0, rerun.stderr[-2000:]
    names = sorted(c["name"] for c in sb.workspace.records("collections"))
    assert names == sorted(["products", "Store Locations", "stores", "coupons"])  # no duplicate
    by_name = {c["name"]: c["id"] for c in sb.workspace.records("collections")}
    assert sorted(_rows(db_url), key=lambda r: r[1]) == sorted(
        [(i, n) for n, i in by_name.items()], key=lambda r: r[1]
    )
    mark = len(sb.requests)
    again = _sync(base_url, db_url, None)
    assert again.returncode == 0, again.stderr[-2000:]
    assert [r for r in sb.requests[mark:] if r.method != "GET"] == []


def test_sync_keeps_the_targets_column_naming(
    cli: Cli,  # noqa: F811
    db_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``sync`` writes the collections table with the target's recorded naming: a
    ``column_names`` that contradicts it stops the command (exit 2) before any write."""
    assert cli("replicate", "Collections", "--target-url", db_url) == 0  # a new target: snake
    monkeypatch.setenv("CIO_COLUMN_NAMES", "api")
    mark = len(cli.sandbox.requests)
    assert cli("sync", "Collections", "--target-url", db_url) == 2
    assert "column_names" in cli.err and "'snake'" in cli.err
    assert len(cli.sandbox.requests) == mark  # nothing read nor written
    monkeypatch.setenv("CIO_COLUMN_NAMES", "snake")
    assert cli("sync", "Collections", "--target-url", db_url) == 0
    with Target(db_url) as target, target.connect() as conn:
        assert conn.execute(sa.text("SELECT rows_ FROM collections WHERE id = 1")).scalar()
