"""Watermark rules, the state store, runs, and object locks on every dialect."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from typing import TypeVar

import pytest
import sqlalchemy as sa

from cio_replicate.clock import from_unix, to_unix
from cio_replicate.migrate import upgrade
from cio_replicate.state import (
    ObjectLock,
    ObjectStats,
    finish_object,
    finish_run,
    holder_is_live,
    is_new,
    last_object_errors,
    last_object_runs,
    load_state,
    lock_holders,
    next_watermark,
    read_floor,
    reset_state,
    resume_since,
    save_state,
    source_start,
    start_object,
    start_run,
    try_lock,
)
from cio_replicate.systables import locks

T0 = 1_700_000_000

# --- pure rules -------------------------------------------------------------------


def test_incremental_floor_is_watermark_minus_lookback() -> None:
    assert read_floor("incremental", None, 300) is None
    assert read_floor("incremental", T0, 300) == T0 - 300
    assert read_floor("incremental", 100, 300) == 0
    assert read_floor("full", T0, 300) is None
    assert read_floor("append", T0, 300) == T0 - 300  # late-listed records are found


def test_append_rereads_the_lookback_overlap() -> None:
    assert is_new("append", T0, T0)
    assert is_new("append", T0 - 300, T0, lookback=300)
    assert not is_new("append", T0 - 301, T0, lookback=300)
    assert not is_new("append", None, T0)
    assert is_new("append", T0 - 5, None)


def test_resume_since_reads_this_and_earlier_positions() -> None:
    assert resume_since({"at": {"start": "x"}, "max": 5, "since": T0}) == T0
    old_window = {"at": {"pstart": None, "done": [], "window": [1, T0 - 7]}, "max": 5}
    assert resume_since(old_window) == T0 - 7  # earlier versions: the window's end
    assert resume_since({"at": {"pstart": None, "done": ["[1]"]}, "max": 5}) is None


def test_source_start_follows_the_sources_clock() -> None:
    assert source_start(T0, T0 + 10.0, None) == T0
    assert source_start(T0, T0 + 10.0, T0 - 86_400 + 10.5) == T0 - 86_400
    assert source_start(T0, T0 + 10.0, T0 + 70.0) == T0 + 60


def test_incremental_keeps_records_from_the_floor() -> None:
    assert is_new("incremental", T0 - 300, T0, lookback=300)
    assert not is_new("incremental", T0 - 301, T0, lookback=300)
    assert is_new("incremental", None, T0)
    assert is_new("full", 0, T0)


def test_next_watermark_is_the_max_committed_cursor_capped_at_run_start() -> None:
    assert next_watermark(None, [T0 - 10, T0 - 5, None], run_started_at=T0) == T0 - 5
    assert next_watermark(None, [T0 + 50], run_started_at=T0) == T0
    assert next_watermark(T0, [T0 - 100], run_started_at=T0 + 10) == T0  # never backwards
    assert next_watermark(T0, [], run_started_at=T0 + 10) == T0
    assert next_watermark(None, [None], run_started_at=T0) is None


# --- store ------------------------------------------------------------------------


@pytest.fixture
def engine(db_url: str) -> Iterator[sa.Engine]:
    upgrade(db_url)
    eng = sa.create_engine(db_url)
    yield eng
    eng.dispose()


def test_state_round_trips_in_the_callers_transaction(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        assert load_state(conn, "Campaigns").watermark is None
        saved = save_state(
            conn,
            "Campaigns",
            watermark=T0,
            resume={"start": "abc", "parent": 7},
            run_id="r1",
            now=T0 + 5,
            rows_added=10,
        )
    assert saved.resume == {"parent": 7, "start": "abc"}
    with engine.connect() as conn:
        got = load_state(conn, "Campaigns")
    assert (got.watermark, got.rows_total, got.last_run_id) == (T0, 10, "r1")
    assert got.updated_at == from_unix(T0 + 5)

    class Boom(Exception):
        pass

    with pytest.raises(Boom), engine.begin() as conn:
        save_state(conn, "Campaigns", watermark=T0 + 99, resume=None, run_id="r2", now=T0 + 9)
        raise Boom
    with engine.connect() as conn:
        assert load_state(conn, "Campaigns").watermark == T0  # rolled back with the data


def test_watermark_never_moves_backwards_and_reset_forgets_it(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        save_state(conn, "Messages", watermark=T0, resume=None, run_id="r1", now=T0)
        later = save_state(conn, "Messages", watermark=T0 - 50, resume=[1], run_id="r2", now=T0)
        assert later.watermark == T0
        assert later.resume == [1]
        kept = save_state(
            conn, "Messages", watermark=None, resume=None, run_id="r3", now=T0, rows_total=3
        )
        assert (kept.watermark, kept.resume, kept.rows_total) == (T0, None, 3)
        reset_state(conn, "Messages")
        assert load_state(conn, "Messages").watermark is None


def test_runs_and_per_object_stats(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        first = start_run(conn, command="replicate", objects=["Campaigns", "Segments"], now=T0)
        start_object(conn, first, "Campaigns", now=T0)
        finish_object(
            conn,
            first,
            "Campaigns",
            ObjectStats(status="failed", inserted=2, api_calls=3, errors=1, message="HTTP 500"),
            now=T0 + 1,
        )
        finish_object(
            conn,
            first,
            "Segments",
            ObjectStats(status="success", inserted=5, updated=1, api_calls=2),
            now=T0 + 1,
        )
        finish_run(conn, first, status="partial", now=T0 + 2, api_calls=5, error="1 failed")
    with engine.begin() as conn:
        second = start_run(conn, command="replicate", objects=["Campaigns"], now=T0 + 60)
        start_object(conn, second, "Campaigns", now=T0 + 60)
        finish_object(
            conn, second, "Campaigns", ObjectStats(status="success", updated=4), now=T0 + 61
        )
        finish_run(conn, second, status="success", now=T0 + 62)
    with engine.connect() as conn:
        latest = last_object_runs(conn)
        errors = last_object_errors(conn)
        run = conn.execute(
            sa.text("SELECT status, api_calls, error FROM _cio_runs WHERE run_id = :r"),
            {"r": first},
        ).one()
    assert tuple(run) == ("partial", 5, "1 failed")
    assert latest["Campaigns"].run_id == second
    assert (latest["Campaigns"].status, latest["Campaigns"].rows_updated) == ("success", 4)
    assert latest["Segments"].run_id == first
    assert latest["Segments"].rows_inserted == 5
    assert errors["Campaigns"].run_id == first
    assert errors["Campaigns"].message == "HTTP 500"
    assert "Segments" not in errors


def test_a_run_that_ends_early_leaves_no_object_running(engine: sa.Engine) -> None:
    # Ctrl-C (or any exception) in the middle of an object: the run is finished as
    # failed, and the object it was working on must not stay "running" for ever.
    with engine.begin() as conn:
        run = start_run(conn, command="replicate", objects=["Campaigns", "Segments"], now=T0)
        start_object(conn, run, "Campaigns", now=T0)
        finish_object(conn, run, "Campaigns", ObjectStats(status="success", inserted=1), now=T0 + 1)
        start_object(conn, run, "Segments", now=T0 + 1)
        finish_run(conn, run, status="failed", now=T0 + 2, error="KeyboardInterrupt")
    with engine.connect() as conn:
        latest = last_object_runs(conn)
        errors = last_object_errors(conn)
    assert latest["Campaigns"].status == "success"
    segments = latest["Segments"]
    assert segments.status == "failed" and segments.finished_at == from_unix(T0 + 2)
    assert segments.message == "the run ended before this object finished: KeyboardInterrupt"
    assert errors["Segments"].run_id == run


# --- locks ------------------------------------------------------------------------

Value = TypeVar("Value")


def _eventually(attempt: Callable[[], Value | None], limit: float = 60.0) -> Value:
    """Retry until the server has noticed a dropped connection (not a timing test)."""
    deadline = time.monotonic() + limit
    while True:
        value = attempt()
        if value is not None:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("condition never became true")
        time.sleep(0.05)


def test_a_second_locker_is_refused_until_release(engine: sa.Engine) -> None:
    first = try_lock(engine, "Campaigns", "run-1")
    assert first is not None
    assert try_lock(engine, "Campaigns", "run-2") is None
    other = try_lock(engine, "Segments", "run-2")
    assert other is not None
    with engine.connect() as conn:
        holders = {h.object_name: h for h in lock_holders(conn)}
        assert holders["Campaigns"].run_id == "run-1"
        assert holders["Campaigns"].pid == os.getpid()
        assert holder_is_live(conn, holders["Campaigns"], now=time.time())
    first.release()
    first.release()  # idempotent
    second = try_lock(engine, "Campaigns", "run-2")
    assert second is not None
    with engine.connect() as conn:
        assert {h.run_id for h in lock_holders(conn)} == {"run-2"}
    second.release()
    other.release()
    with engine.connect() as conn:
        assert lock_holders(conn) == []


def test_heartbeat_refreshes_the_holder_row(engine: sa.Engine) -> None:
    now = [float(T0)]
    lock = try_lock(engine, "Exports", "run-1", clock=lambda: now[0])
    assert lock is not None
    now[0] += 120
    assert lock.heartbeat()
    with engine.connect() as conn:
        beat = conn.execute(sa.select(locks.c.heartbeat_at)).scalar_one()
    assert to_unix(beat) == T0 + 120
    lock.release()
    assert not lock.heartbeat()


def test_row_of_a_lost_holder_elsewhere(engine: sa.Engine) -> None:
    """A holder row from another host: SQLite waits for the heartbeat to go stale;
    PostgreSQL and MySQL know from the server that nobody holds the lock."""
    with engine.begin() as conn:
        conn.execute(
            locks.insert().values(
                object_name="Snippets",
                run_id="ghost",
                pid=1,
                host="elsewhere.invalid",
                acquired_at=from_unix(T0),
                heartbeat_at=from_unix(T0),
            )
        )
    soon = try_lock(engine, "Snippets", "run-1", clock=lambda: T0 + 60.0, stale_after=900)
    if engine.dialect.name == "sqlite":
        assert soon is None
        late = try_lock(engine, "Snippets", "run-1", clock=lambda: T0 + 901.0, stale_after=900)
    else:
        late = soon
    assert late is not None
    with engine.connect() as conn:
        assert [h.run_id for h in lock_holders(conn)] == ["run-1"]
    late.release()


HOLDER = """
import sys
import sqlalchemy as sa
from cio_replicate.state import try_lock
lock = try_lock(sa.create_engine(sys.argv[1]), "Messages", "child-run")
print("locked" if lock else "refused", flush=True)
sys.stdin.read()
"""


def test_lock_of_a_killed_process_can_be_taken(engine: sa.Engine, db_url: str) -> None:
    with subprocess.Popen(
        [sys.executable, "-c", HOLDER, db_url],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    ) as child:
        try:
            assert child.stdout is not None
            assert child.stdout.readline().strip() == "locked"
            assert try_lock(engine, "Messages", "parent-run") is None
            with engine.connect() as conn:
                (holder,) = lock_holders(conn)
            assert (holder.run_id, holder.pid) == ("child-run", child.pid)
        finally:
            child.send_signal(signal.SIGKILL)
            child.wait()

    def live() -> bool | None:
        with engine.connect() as conn:
            return None if holder_is_live(conn, holder, now=time.time()) else True

    _eventually(live)
    lock: ObjectLock = _eventually(lambda: try_lock(engine, "Messages", "parent-run"))
    with engine.connect() as conn:
        assert [h.run_id for h in lock_holders(conn)] == ["parent-run"]
    lock.release()
