"""Two overlapping runs on one target: both end correct, the second says what it skipped.

Run A stops after its 3rd commit (holding that object's lock; objects run
side by side, so which object that is depends on timing) until the test lets
it go; run B starts meanwhile, skips the objects A holds with a message
naming run A's process, replicates everything else, and exits. Then A
finishes (A's other threads wait for an object B holds, ``--lock-wait``). The
database equals the sandbox.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from cio_replicate import state
from cio_replicate.sandbox import Sandbox

from ..test_locks import take_over
from .conftest import EMBEDDED, Harness, replicate_subprocess, subprocess_env
from .expected import DEFAULT_TABLES, check_tables


def _overlap(url: str, tmp_path: Path) -> None:
    base_url = EMBEDDED  # each run serves itself the same tiny workspace
    go = tmp_path / "go"
    env = subprocess_env(base_url, url, None)
    env["CIO_REPLICATE_PAUSE"] = f"commit:3:{go}"
    # A's other threads go on while one is paused; an object B holds when one of them
    # reaches it is waited for (--lock-wait), not skipped: only B's skips are the race
    # under test, and A's own must not depend on how fast B starts.
    first = subprocess.Popen(
        [sys.executable, "-m", "cio_replicate", "replicate", "--lock-wait", "120"],
        env=env,
        stderr=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert first.stderr is not None
        for line in first.stderr:
            if "paused at commit:3" in line:
                break
        else:
            pytest.fail("the first run never paused")
        second = replicate_subprocess(base_url, url)
        assert second.returncode == 0, second.stderr[-2000:]
        holder = re.compile(rf"^\s*(\w+): skipped: run \S+ \(pid {first.pid} on .*is working on it")
        skipped = [m.group(1) for ln in second.stdout.splitlines() if (m := holder.match(ln))]
        assert skipped, second.stdout[-3000:]
        table = [ln.split() for ln in second.stdout.splitlines()]
        statuses = {row[0]: row[2] for row in table if len(row) > 2 and row[0] in skipped}
        assert set(statuses.values()) == {"skipped"}, statuses
    finally:
        go.touch()
        out, err = first.communicate(timeout=300)
    assert first.returncode == 0, err[-2000:]
    assert "skipped" not in out
    assert check_tables(url, Sandbox("tiny", seed=1).workspace, DEFAULT_TABLES) == {}


def test_overlapping_runs_end_correct(db_url: str, tmp_path: Path) -> None:
    _overlap(db_url, tmp_path)


def test_lock_wait_then_skip_in_process(harness: Harness) -> None:
    """The lock itself: a run finding an object locked skips it and names the holder."""
    from cio_replicate import state

    harness.run(["Campaigns"])
    held = state.try_lock(harness.target.engine, "Campaigns", "other-run")
    assert held is not None
    try:
        report = harness.run(["Campaigns", "Segments"], lock_wait=0.2)
    finally:
        held.release()
    by_name = {r.name: r for r in report.results}
    assert by_name["Campaigns"].status == "skipped"
    assert "other-run" in (by_name["Campaigns"].message or "")
    assert by_name["Segments"].status == "success"
    assert report.status == "success"


def _count(engine: sa.Engine, table: str) -> int:
    with engine.connect() as conn:
        return int(
            conn.execute(sa.select(sa.func.count()).select_from(sa.table(table))).scalar_one()
        )


def _pause_then_lose_the_lock(
    url: str, tmp_path: Path, pause: str, objects: list[str], full_refresh: bool
) -> tuple[subprocess.CompletedProcess[str], str, int]:
    """Run A pauses holding one object's lock; its lock session is cut and run B takes
    the lock; A resumes. Returns A's outcome, the object and its table's rows at the pause."""
    go = tmp_path / "go"
    env = subprocess_env(EMBEDDED, url, None)
    env.update(CIO_REPLICATE_PAUSE=f"{pause}:{go}", CIO_CONCURRENCY="1")
    args = [*objects, "--full-refresh"] if full_refresh else objects
    first = subprocess.Popen(
        [sys.executable, "-m", "cio_replicate", "replicate", *args],
        env=env,
        stderr=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    engine = sa.create_engine(url)
    theirs = None
    try:
        assert first.stderr is not None
        for line in first.stderr:
            if "paused at" in line:
                break
        else:
            pytest.fail("the first run never paused")
        with engine.connect() as conn:
            (held,) = [h.object_name for h in state.lock_holders(conn)]
        rows_at_pause = _count(engine, "customers")
        theirs = take_over(engine, held, "run-b")
    finally:
        go.touch()
        out, err = first.communicate(timeout=300)
    try:
        with engine.connect() as conn:
            assert [h.run_id for h in state.lock_holders(conn)] == ["run-b"]
    finally:
        if theirs is not None:
            theirs.release()
        engine.dispose()
    return subprocess.CompletedProcess(first.args, first.returncode, out, err), held, rows_at_pause


def test_a_run_that_loses_its_lock_stops_that_object(db_url: str, tmp_path: Path) -> None:
    """Run A's lock session dies mid-object and run B takes the lock: A commits nothing
    more for that object, reports it failed, finishes the others, exits 4."""
    done, held, rows_at_pause = _pause_then_lose_the_lock(
        db_url, tmp_path, "commit:2", ["Customers", "Segments"], full_refresh=False
    )
    assert held == "Customers"
    assert done.returncode == 4, done.stderr[-2000:]
    assert "Customers lost its lock (another run may hold it now)" in done.stdout + done.stderr
    engine = sa.create_engine(db_url)
    try:
        assert _count(engine, "customers") == rows_at_pause  # nothing more committed
        with engine.connect() as conn:
            assert state.load_state(conn, "Customers").watermark is None
            assert state.load_state(conn, "Segments").watermark is not None
    finally:
        engine.dispose()


def test_a_full_refresh_that_loses_its_lock_keeps_the_table(db_url: str, tmp_path: Path) -> None:
    first = replicate_subprocess(EMBEDDED, db_url, objects=["Customers"])
    assert first.returncode == 0, first.stderr[-2000:]
    engine = sa.create_engine(db_url)
    try:
        with engine.connect() as conn:
            before = state.load_state(conn, "Customers").watermark
        rows = _count(engine, "customers")
        done, held, rows_at_pause = _pause_then_lose_the_lock(
            db_url, tmp_path, "batch:3", ["Customers", "Segments"], full_refresh=True
        )
        assert held == "Customers" and rows_at_pause == rows
        assert done.returncode == 4, done.stderr[-2000:]
        assert "Customers lost its lock (another run may hold it now)" in done.stdout + done.stderr
        assert _count(engine, "customers") == rows
        with engine.connect() as conn:
            assert state.load_state(conn, "Customers").watermark == before
        assert not [n for n in sa.inspect(engine).get_table_names() if "__cio_new" in n]
    finally:
        engine.dispose()
