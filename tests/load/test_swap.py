"""The full-refresh swap behind a long reader: bounded waits, retries, a clean give-up.

A session that read the table in a transaction still open holds a lock the
swap needs (PostgreSQL: ACCESS SHARE against DROP's ACCESS EXCLUSIVE; MySQL:
a shared metadata lock against RENAME's exclusive one), and while the swap
waits, new readers queue behind it. The swap waits at most its lock timeout
per try, so new readers get through between tries; after the last try the
object fails: old table kept, stage dropped, the caller's ``finish`` (its
watermark) never run.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import sqlalchemy as sa

from cio_replicate import systables
from cio_replicate.load import Target
from cio_replicate.load.replace import SwapPolicy, SwapTimeout

from .conftest import by_key, load, read


@pytest.fixture(
    params=[
        pytest.param("postgres_url", marks=pytest.mark.postgres),
        pytest.param("mysql_url", marks=pytest.mark.mysql),
    ]
)
def server_target(request: pytest.FixtureRequest) -> Iterator[Target]:
    tgt = Target(str(request.getfixturevalue(request.param)))
    systables.metadata.create_all(tgt.engine)
    yield tgt
    tgt.dispose()


def segments(ids: range, version: int = 0) -> list[dict[str, Any]]:
    return [{"id": i, "name": f"segment {i}", "size": i + version} for i in ids]


def swap_is_waiting(target: Target) -> bool:
    """The swap's DDL is queued for the table's lock right now."""
    with target.connect() as conn:
        if target.dialect.name == "postgresql":
            sql = (
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
                " AND datname = current_database() AND query LIKE 'DROP TABLE \"segments\"%%'"
            )
        else:
            sql = (
                "SELECT count(*) FROM information_schema.PROCESSLIST WHERE DB = DATABASE()"
                " AND STATE LIKE 'Waiting for table metadata lock' AND INFO LIKE 'RENAME TABLE%%'"
            )
        return bool(target.sql.execute(conn, sql).scalar())


def eventually(check: Callable[[], bool], limit: float = 60.0) -> None:
    deadline = time.monotonic() + limit
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("condition never became true")
        time.sleep(0.02)


def test_the_swap_gives_up_behind_a_reader_and_lets_new_readers_in(
    server_target: Target,
) -> None:
    target = server_target
    table = target.table("segments")
    load(target, table, segments(range(5)))
    q = target.sql.quote
    count_sql = f"SELECT COUNT(*) FROM {q('segments')}"  # noqa: S608

    long_reader = target.engine.connect()  # a report's transaction, left open
    long_reader.begin()
    assert target.sql.execute(long_reader, count_sql).scalar_one() == 5

    outcome: list[BaseException | int] = []
    finished: list[int] = []
    policy = SwapPolicy(timeout=1.0, attempts=3, backoff=0.5)

    def refresh() -> None:
        try:
            result = target.table("segments").replace_staged(
                [table.prepare(segments(range(10), version=1))],
                lambda conn, done: finished.append(done.rows),
                run_id="run-1",
                swap=policy,
            )
            outcome.append(result.rows)
        except BaseException as exc:
            outcome.append(exc)

    seen_by_new_reader: list[int] = []

    def new_reader() -> None:
        with target.connect() as conn:
            seen_by_new_reader.append(int(target.sql.execute(conn, count_sql).scalar_one()))

    swapper = threading.Thread(target=refresh)
    swapper.start()
    try:
        eventually(lambda: swap_is_waiting(target))
        reader = threading.Thread(target=new_reader)
        reader.start()
        reader.join(120)  # a bound for a broken build, not a speed check
        # A reader arriving while the swap waits gets the old table; the long
        # reader's transaction is still open.
        assert seen_by_new_reader == [5]
        swapper.join(120)
        assert not swapper.is_alive()
    finally:
        long_reader.rollback()
        long_reader.close()
        swapper.join(120)
    (failure,) = outcome
    assert isinstance(failure, SwapTimeout)
    assert str(failure).startswith("could not swap in the rebuilt table segments")
    assert finished == []  # the caller's state (its watermark) was never written
    assert sorted(by_key(read(target, table))) == list(range(5))
    assert [n for n in sa.inspect(target.engine).get_table_names() if "__cio_new" in n] == []

    # With the reader gone, the next refresh swaps at once.
    again = target.table("segments")
    result = again.replace_staged(
        [again.prepare(segments(range(10), version=1))],
        lambda conn, done: finished.append(done.rows),
        swap=policy,
    )
    assert result.rows == 10 and finished == [10]
    assert sorted(by_key(read(target, again))) == list(range(10))


def test_the_swap_retries_and_succeeds_when_the_reader_leaves(server_target: Target) -> None:
    target = server_target
    table = target.table("segments")
    load(target, table, segments(range(3)))
    long_reader = target.engine.connect()
    long_reader.begin()
    target.sql.execute(long_reader, f"SELECT COUNT(*) FROM {target.sql.quote('segments')}")  # noqa: S608
    tries: list[float] = []

    def sleep(seconds: float) -> None:  # the reader commits during the first backoff
        tries.append(seconds)
        if long_reader.in_transaction():
            long_reader.rollback()

    policy = SwapPolicy(timeout=1.0, attempts=3, backoff=0.5, sleep=sleep)
    try:
        result = target.table("segments").replace_staged(
            [table.prepare(segments(range(4)))], lambda conn, done: None, swap=policy
        )
    finally:
        long_reader.close()
    assert tries == [0.5] and result.rows == 4
    assert sorted(by_key(read(target, table))) == list(range(4))
