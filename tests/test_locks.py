"""A lost object lock is noticed: by heartbeat(), and inside the write transaction.

How a lock is lost, per dialect: PostgreSQL and MySQL/MariaDB hold it in a
server session, which a DBA (or a network cut) ends (``pg_terminate_backend``,
``KILL``); SQLite's lock is the ``_cio_locks`` row, taken over once its
heartbeat is older than ``stale_after`` (a stalled holder).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import TypeVar

import pytest
import sqlalchemy as sa

from cio_replicate.locks import LockLost, ObjectLock, advisory_key, mysql_lock_name
from cio_replicate.migrate import upgrade
from cio_replicate.state import lock_holders, try_lock

Value = TypeVar("Value")
LATE = 10 * 86400.0  # seconds: far past any heartbeat's staleness


def eventually(attempt: Callable[[], Value | None], limit: float = 60.0) -> Value:
    """Retry until the server has noticed a dropped connection (not a timing test)."""
    deadline = time.monotonic() + limit
    while True:
        value = attempt()
        if value is not None:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("condition never became true")
        time.sleep(0.05)


def cut_lock_session(engine: sa.Engine, object_name: str) -> bool:
    """End the server session holding ``object_name``'s lock, if any (False on SQLite:
    no session holds it)."""
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            key = advisory_key(conn, object_name) & 0xFFFFFFFFFFFFFFFF
            pid = conn.execute(
                sa.text(
                    "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted"
                    " AND objsubid = 1 AND classid::bigint = :hi AND objid::bigint = :lo"
                ),
                {"hi": key >> 32, "lo": key & 0xFFFFFFFF},
            ).scalar()
            if pid is not None:
                conn.execute(sa.text("SELECT pg_terminate_backend(:p)"), {"p": pid})
            return True
        if engine.dialect.name in ("mysql", "mariadb"):
            name = mysql_lock_name(conn, object_name)
            owner = conn.execute(sa.text("SELECT IS_USED_LOCK(:n)"), {"n": name}).scalar()
            if owner is not None:
                conn.execute(sa.text(f"KILL {int(owner)}"))
            return True
    return False


def take_over(engine: sa.Engine, object_name: str, run_id: str) -> ObjectLock:
    """Another run takes ``object_name``'s lock from its holder: the holder's session
    is ended (PostgreSQL, MySQL), or its row has gone stale (SQLite)."""
    cut_lock_session(engine, object_name)
    late = time.time() + LATE
    return eventually(lambda: try_lock(engine, object_name, run_id, clock=lambda: late))


@pytest.fixture
def engine(db_url: str) -> Iterator[sa.Engine]:
    upgrade(db_url)
    eng = sa.create_engine(db_url)
    yield eng
    eng.dispose()


def test_a_lost_lock_is_noticed_and_no_transaction_commits_under_it(engine: sa.Engine) -> None:
    mine = try_lock(engine, "Campaigns", "run-a")
    assert mine is not None
    with engine.begin() as conn:
        mine.confirm(conn)  # held: no error
    assert mine.heartbeat()

    cut = cut_lock_session(engine, "Campaigns")
    if cut:
        # The lock's connection is gone: a heartbeat must not be fooled by the
        # pool's silent reconnect (a new session that holds nothing), not even
        # before another run takes the lock.
        assert not mine.heartbeat()
        assert not mine.heartbeat()
    theirs = take_over(engine, "Campaigns", "run-b")
    assert not mine.heartbeat()
    # Inside a write transaction: it raises before anything commits.
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE written (n INTEGER)"))
    with pytest.raises(LockLost, match=r"Campaigns lost its lock \(another run may hold it now\)"):
        with engine.begin() as conn:
            conn.execute(sa.text("INSERT INTO written (n) VALUES (1)"))
            mine.confirm(conn)
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT COUNT(*) FROM written")).scalar_one() == 0
    mine.release()  # gives up nothing of the new holder's
    with engine.connect() as conn:
        assert [h.run_id for h in lock_holders(conn)] == ["run-b"]
    with engine.begin() as conn:
        theirs.confirm(conn)
    assert theirs.heartbeat()
    theirs.release()
