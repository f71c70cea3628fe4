"""Records go in, the same values come back out, on every dialect."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from cio_replicate.load import Target, column_map

from .conftest import FixedClock, by_key, load, read

LONG = "é" * 4000 + "x" * 5999 + "😀"  # 10,000 characters, multi-byte, non-BMP


def test_values_round_trip(target: Target, clock: FixedClock) -> None:
    table = target.table("people", key=("id",), timestamps=("created_at", "updated"))
    records = [
        {
            "id": "a",
            "name": "Zoë 😀",
            "created_at": 1_700_000_000,
            "updated": 1_700_000_123.5,
            "score": 3,
            "ratio": 0.30000000000000004,
            "active": True,
            "attributes": {"plan": "pro", "tags": ["x", "y"], "nested": {"n": None, "e": "🎉"}},
            "tags": ["one", 2, None],
            "bio": LONG,
            "empty": "",
            "nothing": None,
            "big": 2**62,
        },
        {"id": "b", "name": None, "created_at": None, "score": -1, "active": False, "empty": ""},
    ]
    assert load(target, table, records) == (2, 0)

    rows = by_key(read(target, table))
    a, b = rows["a"], rows["b"]
    assert a["name"] == "Zoë 😀"
    assert a["created_at"] == datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC)
    assert a["created_at"].utcoffset().total_seconds() == 0
    assert a["updated"] == datetime(2023, 11, 14, 22, 15, 23, 500000, tzinfo=UTC)
    assert a["score"] == 3 and b["score"] == -1
    assert a["ratio"] == 0.30000000000000004
    assert a["active"] is True and b["active"] is False
    assert a["attributes"] == records[0]["attributes"]
    assert a["tags"] == ["one", 2, None]
    assert a["bio"] == LONG and len(a["bio"]) == 10_000
    empty = table.column("empty").name  # type: ignore[union-attr]  # empty_ (reserved in MySQL)
    assert a[empty] == "" and b[empty] == ""
    assert a["big"] == 2**62
    assert b["name"] is None and b["created_at"] is None and b["bio"] is None
    assert "nothing" not in a  # a field with only nulls gets no column (yet)
    synced = datetime.fromtimestamp(clock.now, tz=UTC)
    assert a["_cio_synced_at"] == synced and b["_cio_synced_at"] == synced

    types = {c.api_name: c.type for c in column_map(target.engine, "people")}
    assert types == {
        "id": "text",
        "name": "text",
        "created_at": "timestamp",
        "updated": "timestamp",
        "score": "int",
        "ratio": "float",
        "active": "bool",
        "attributes": "json",
        "tags": "json",
        "bio": "text",
        "empty": "text",
        "big": "int",
    }


def test_json_is_jsonb_on_postgres_and_native_types_elsewhere(target: Target) -> None:
    table = target.table("things")
    load(target, table, [{"id": 1, "doc": {"a": [1, 2]}, "at": 5}])
    with target.connect() as conn:
        cols = {c["name"]: c["type"] for c in sa.inspect(conn).get_columns("things")}
    doc_type = type(cols["doc"]).__name__.upper()
    if target.dialect.name == "mysql":
        assert type(cols["id"]).__name__ == "BIGINT"
        with target.connect() as conn:
            created = conn.exec_driver_sql("SHOW CREATE TABLE things").one()[1]
        assert "utf8mb4" in created
        # MariaDB's JSON is LONGTEXT with a json_valid() check; MySQL's is JSON.
        assert doc_type == "JSON" or "json_valid(`doc`)" in created
    else:
        assert doc_type == {"postgresql": "JSONB", "sqlite": "TEXT"}[target.dialect.name]


def test_timestamps_zero_and_garbage_lose_nothing(target: Target) -> None:
    table = target.table("events", timestamps=("at",))
    records = [
        {"id": 1, "at": 0},
        {"id": 2, "at": "soon"},
        {"id": 3, "at": 10**15},  # milliseconds by mistake, or any out-of-range number
        {"id": 4, "at": "1700000000"},
        {"id": 5, "at": None},
        {"id": 6, "at": True},
        {"id": 7, "at": -86400},
    ]
    load(target, table, records)
    raw = table.column("at")
    assert raw is not None
    rows = by_key(read(target, table))
    raw_col = next(c.name for c in table.columns if c.type == "raw")
    assert rows[1]["at"] == datetime(1970, 1, 1, tzinfo=UTC) and rows[1][raw_col] is None
    assert rows[2]["at"] is None and rows[2][raw_col] == "soon"
    assert rows[3]["at"] is None and rows[3][raw_col] == str(10**15)
    assert rows[4]["at"] == datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC)
    assert rows[5]["at"] is None and rows[5][raw_col] is None
    assert rows[6]["at"] is None and rows[6][raw_col] == "true"
    assert rows[7]["at"] == datetime(1969, 12, 31, tzinfo=UTC)

    # A good value later clears the raw text of that row.
    load(target, table, [{"id": 2, "at": 1_700_000_000}])
    again = by_key(read(target, table))
    assert again[2]["at"] == datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC)
    assert again[2][raw_col] is None
    recorded = {(c.api_name, c.type): c.name for c in column_map(target.engine, "events")}
    assert recorded[("at", "timestamp")] == "at" and recorded[("at", "raw")] == raw_col


def test_absent_fields_are_left_alone_on_update(target: Target) -> None:
    table = target.table("people")
    load(target, table, [{"id": 1, "a": "x", "b": "y"}])
    load(target, table, [{"id": 1, "a": "z"}])
    (row,) = read(target, table)
    assert row["a"] == "z" and row["b"] == "y"


def test_target_accepts_an_engine_and_sets_sqlite_pragmas(db_url: str) -> None:
    engine = sa.create_engine(db_url)
    target = Target(engine)
    assert target.engine is engine
    if target.dialect.name == "sqlite":
        with target.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 1  # NORMAL
            assert int(conn.exec_driver_sql("PRAGMA busy_timeout").scalar() or 0) >= 1000
    target.dispose()  # does not dispose an engine it was given
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT 1").scalar() == 1
    engine.dispose()


def test_sqlite_write_transactions_take_the_write_lock_up_front(sqlite_url: str) -> None:
    target = Target(sqlite_url)
    other = sa.create_engine(sqlite_url, connect_args={"timeout": 0})
    with target.begin():
        with other.connect() as conn:
            assert conn.exec_driver_sql("SELECT 1").scalar() == 1  # readers are not blocked
            with pytest.raises(sa.exc.OperationalError, match="locked"):
                conn.exec_driver_sql("BEGIN IMMEDIATE")
    with other.connect() as conn:  # released at commit
        conn.exec_driver_sql("BEGIN IMMEDIATE")
        conn.exec_driver_sql("ROLLBACK")
    other.dispose()
    target.dispose()


def test_a_recorded_timestamp_column_stays_one(target: Target) -> None:
    load(target, target.table("events", timestamps=("at",)), [{"id": 1, "at": 100}])
    undeclared = target.table("events")  # e.g. a later catalog without the declaration
    load(target, undeclared, [{"id": 2, "at": 200}])
    rows = by_key(read(target, undeclared))
    assert rows[2]["at"] == datetime(1970, 1, 1, 0, 3, 20, tzinfo=UTC)
    assert {c.api_name: c.type for c in column_map(target.engine, "events")}["at"] == "timestamp"


def test_a_time_beyond_the_calendar_in_utc_goes_to_the_raw_column(target: Target) -> None:
    """Year 1 at +01:00 (or 9999-12-31 at -01:00) is no time in UTC: kept as text, the
    object does not fail (Python's astimezone raised OverflowError, not ValueError)."""
    table = target.table("events", timestamps=("at",))
    edge = ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00"]
    load(target, table, [{"id": 1, "at": edge[0]}, {"id": 2, "at": edge[1]}, {"id": 3, "at": 0}])
    rows = by_key(read(target, table))
    raw_col = next(c.name for c in table.columns if c.type == "raw")
    assert [(rows[i]["at"], rows[i][raw_col]) for i in (1, 2)] == [(None, edge[0]), (None, edge[1])]
    assert rows[3]["at"] == datetime(1970, 1, 1, tzinfo=UTC)
