"""Full refresh: streamed into a stage, swapped in atomically, with change counts."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import sqlalchemy as sa

from cio_replicate import systables
from cio_replicate.load import TableWriter, Target, column_map
from cio_replicate.load.mapper import Row
from cio_replicate.load.replace import stage_name

from .conftest import by_key, load, read


def segments(ids: range, version: int = 0) -> list[dict[str, Any]]:
    return [{"id": i, "name": f"segment {i}", "size": i + version} for i in ids]


def count_rows(target: Target, table: str) -> int:
    with target.connect() as conn:
        return int(
            target.sql.execute(conn, f"SELECT COUNT(*) FROM {target.sql.quote(table)}").scalar_one()  # noqa: S608
        )


def test_replace_counts_changes_and_a_rerun_changes_nothing(target: Target) -> None:
    table = target.table("segments")
    load(target, table, segments(range(10)))
    fresh = segments(range(3, 13))
    fresh[0]["size"] = -1  # id 3 changed
    with target.begin() as conn:
        result = table.replace(conn, [table.prepare(fresh[:4]), table.prepare(fresh[4:])])
    assert (result.rows, result.inserted, result.updated, result.deleted) == (10, 3, 1, 3)
    rows = by_key(read(target, table))
    assert sorted(rows) == list(range(3, 13)) and rows[3]["size"] == -1
    with target.begin() as conn:
        again = table.replace(conn, [table.prepare(fresh)])
    assert (again.rows, again.inserted, again.updated, again.deleted) == (10, 0, 0, 0)


def test_a_replace_without_change_keeps_the_table_and_its_sync_times(
    target: Target, clock: Any
) -> None:
    table = target.table("segments")
    with target.begin() as conn:
        table.replace(conn, [table.prepare(segments(range(5)))])
    synced = {r["id"]: r["_cio_synced_at"] for r in read(target, table)}
    clock.now += 3600
    with target.begin() as conn:
        again = table.replace(conn, [table.prepare(segments(range(5)))])
    assert (again.rows, again.inserted, again.updated, again.deleted) == (5, 0, 0, 0)
    assert {r["id"]: r["_cio_synced_at"] for r in read(target, table)} == synced
    assert not any("__cio_new" in name for name in sa.inspect(target.engine).get_table_names())
    with target.begin() as conn:
        changed = table.replace(conn, [table.prepare(segments(range(5), version=1))])
    assert changed.updated == 5
    assert all(r["_cio_synced_at"] != synced[r["id"]] for r in read(target, table))


def test_replace_streams_and_readers_see_old_or_new_never_half(target: Target) -> None:
    table = target.table("segments")
    old = segments(range(500))
    load(target, table, old)
    new = segments(range(1000, 3000), version=1)
    batch = 200
    stage = stage_name(target.table_name("segments"), "run-1", target.dialect)
    seen_mid_stream: list[int] = []
    staged_before_last: list[int] = []

    def stream(conn: sa.Connection) -> Iterator[list[Row]]:
        for start in range(0, len(new), batch):
            if start == len(new) - batch:
                # The writer has already written earlier batches to the stage...
                staged_before_last.append(
                    int(
                        target.sql.execute(
                            conn,
                            f"SELECT COUNT(*) FROM {target.sql.quote(stage)}",  # noqa: S608
                        ).scalar_one()
                    )
                )
                # ...while another connection still sees the whole old table.
                seen_mid_stream.append(count_rows(target, "segments"))
            yield table.prepare(new[start : start + batch])

    samples: list[int] = []
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            samples.append(count_rows(target, "segments"))

    reader = threading.Thread(target=sample)
    reader.start()
    try:
        with target.begin() as conn:
            result = table.replace(conn, stream(conn), run_id="run-1")
    finally:
        stop.set()
        reader.join()
    assert result.rows == 2000 and result.inserted == 2000 and result.deleted == 500
    assert staged_before_last == [len(new) - batch]  # streamed, batch by batch
    assert seen_mid_stream == [500]
    assert set(samples) <= {500, 2000}
    rows = read(target, table)
    assert [r["id"] for r in rows] == list(range(1000, 3000))
    with target.connect() as conn:
        assert not sa.inspect(conn).has_table(stage)


def test_replace_with_new_fields_and_wider_types_mid_stream(target: Target) -> None:
    table = target.table("segments", timestamps=("updated",))
    load(target, table, [{"id": 1, "size": 5, "updated": 10}])

    def batches() -> Iterator[list[Row]]:
        yield table.prepare([{"id": 1, "size": 5, "updated": 10}])
        yield table.prepare([{"id": 2, "size": "big", "tag": {"a": 1}, "updated": "never"}])

    with target.begin() as conn:
        result = table.replace(conn, batches())
    assert (result.rows, result.inserted, result.deleted) == (2, 1, 0)
    rows = by_key(read(target, table))
    assert rows[1]["size"] == "5" and rows[2]["size"] == "big" and rows[2]["tag"] == {"a": 1}
    types = {(c.api_name, c.type) for c in column_map(target.engine, "segments")}
    assert {("size", "text"), ("tag", "json"), ("updated", "raw")} <= types
    # Later incremental writes go to the swapped-in table normally.
    assert load(target, table, [{"id": 3, "size": 7}]) == (1, 0)


def test_replace_accepts_loose_rows_and_creates_the_table(target: Target) -> None:
    table = target.table("fresh")
    rows = table.prepare(segments(range(7)))
    with target.begin() as conn:
        result = table.replace(conn, iter(rows), batch_size=3)
    assert (result.rows, result.inserted) == (7, 7)
    assert len(read(target, table)) == 7


def test_replace_with_nothing_empties_the_table(target: Target) -> None:
    table = target.table("segments")
    load(target, table, segments(range(4)))
    with target.begin() as conn:
        result = table.replace(conn, [])
    assert (result.rows, result.deleted) == (0, 4)
    assert read(target, table) == []


def test_a_failed_replace_leaves_the_old_table(target: Target) -> None:
    table: TableWriter = target.table("segments")
    load(target, table, segments(range(4)))

    def broken() -> Iterator[list[Row]]:
        yield table.prepare(segments(range(100, 110)))
        raise RuntimeError("the API went away")

    try:
        with target.begin() as conn:
            table.replace(conn, broken())
    except RuntimeError:
        pass
    assert [r["id"] for r in read(target, table)] == [0, 1, 2, 3]
    assert load(target, table, segments(range(4, 5))) == (1, 0)


def test_staged_replace_holds_no_write_lock_between_batches(sqlite_url: str) -> None:
    """While the next batch is being fetched (API calls), other writers get in:
    on SQLite a single long transaction would lock the whole database."""
    import sqlite3

    target = Target(sqlite_url)
    systables.metadata.create_all(target.engine)
    table = target.table("segments")
    path = sqlite_url.removeprefix("sqlite:///")
    seen: list[str] = []

    def batches() -> Iterator[list[Row]]:
        for start in (0, 5, 10):
            other = sqlite3.connect(path, timeout=0.2)
            try:
                other.execute("CREATE TABLE IF NOT EXISTS other_writer (n INTEGER)")
                other.execute("INSERT INTO other_writer VALUES (?)", (start,))
                other.commit()
                seen.append("wrote")
            finally:
                other.close()
            yield table.prepare(segments(range(start, start + 5)))

    finished: list[int] = []
    result = table.replace_staged(batches(), lambda conn, outcome: finished.append(outcome.rows))
    assert seen == ["wrote"] * 3 and finished == [15] and result.rows == 15
    assert sorted(by_key(read(target, table))) == list(range(15))
    target.dispose()


def test_staged_replace_interrupted_keeps_the_old_table(target: Target) -> None:
    table = target.table("segments")
    load(target, table, segments(range(4)))

    def failing() -> Iterator[list[Row]]:
        yield table.prepare(segments(range(100, 105)))
        raise RuntimeError("the API went away")

    try:
        table.replace_staged(failing(), lambda conn, outcome: None)
    except RuntimeError:
        pass
    assert sorted(by_key(read(target, table))) == list(range(4))
    result = table.replace_staged([table.prepare(segments(range(2)))], lambda c, o: None)
    assert (result.rows, result.deleted) == (2, 2)
    assert not any("__cio_new" in n for n in sa.inspect(target.engine).get_table_names())
