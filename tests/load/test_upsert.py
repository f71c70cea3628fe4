"""Upsert and insert_missing: counts, no-change reruns, composite keys, both PG paths."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from cio_replicate.load import BulkPath, TableWriter, Target

from .conftest import FixedClock, by_key, load, read


def people(n: int, version: int = 0) -> list[dict[str, Any]]:
    return [
        {
            "id": f"p{i}",
            "email": f"P{i}@example.com",
            "score": i * 10 + version,
            "attributes": {"plan": "pro", "n": i},
            "created": 1_600_000_000 + i,
        }
        for i in range(n)
    ]


PATHS = pytest.mark.parametrize("path", ["copy", "executemany"])


def write(target: Target, table: TableWriter, records: list[dict[str, Any]], path: str) -> Any:
    """One batch through one bulk path: (inserted, updated) or, for insert_missing, inserted."""
    if path not in target.dialect.bulk_paths:
        pytest.skip(f"{target.dialect.name} has no {path} path")
    bulk: BulkPath = "copy" if path == "copy" else "executemany"
    rows = table.prepare(records)
    with target.begin() as conn:
        table.evolve(conn)
        return tuple(table.upsert(conn, rows, path=bulk))


@PATHS
def test_upsert_counts_and_a_second_identical_upsert_changes_nothing(
    target: Target, clock: FixedClock, path: str
) -> None:
    table = target.table("people", timestamps=("created",))
    assert write(target, table, people(50), path) == (50, 0)
    first = by_key(read(target, table))
    clock.now += 3600
    assert write(target, table, people(50), path) == (0, 0)  # same content: nothing written
    assert by_key(read(target, table)) == first  # _cio_synced_at untouched too

    changed = people(60)
    changed[3]["score"] = -1
    changed[4]["attributes"] = {"plan": "free"}
    changed[5]["email"] = "p5@example.com"  # only the case differs (MySQL's trap)
    changed[6]["created"] = None
    assert write(target, table, changed, path) == (10, 4)
    rows = by_key(read(target, table))
    assert rows["p3"]["score"] == -1 and rows["p4"]["attributes"] == {"plan": "free"}
    assert rows["p5"]["email"] == "p5@example.com" and rows["p6"]["created"] is None
    later = datetime.fromtimestamp(clock.now, tz=UTC)
    assert rows["p3"]["_cio_synced_at"] == later
    assert rows["p7"]["_cio_synced_at"] == first["p7"]["_cio_synced_at"]
    assert rows["p55"]["_cio_synced_at"] == later


def test_duplicate_keys_in_one_batch_keep_the_last(target: Target) -> None:
    table = target.table("people")
    assert load(target, table, [{"id": 1, "v": "a"}, {"id": 1, "v": "b"}, {"id": 2, "v": "c"}]) == (
        2,
        0,
    )
    assert by_key(read(target, table))[1]["v"] == "b"


def test_zero_and_negative_integer_keys_are_kept(target: Target) -> None:
    table = target.table("k")
    load(target, table, [{"id": 0, "v": "zero"}, {"id": -5, "v": "neg"}, {"id": 1, "v": "one"}])
    assert {r["id"]: r["v"] for r in read(target, table)} == {0: "zero", -5: "neg", 1: "one"}


def test_string_keys_are_case_and_space_sensitive(target: Target) -> None:
    table = target.table("k")
    load(target, table, [{"id": "abc", "v": 1}, {"id": "ABC", "v": 2}, {"id": "abc ", "v": 3}])
    assert len(read(target, table)) == 3


@PATHS
def test_insert_missing_never_rewrites_an_existing_row(
    target: Target, clock: FixedClock, path: str
) -> None:
    if path not in target.dialect.bulk_paths:
        pytest.skip(f"{target.dialect.name} has no {path} path")
    table = target.table("deliveries", timestamps=("created",))
    bulk: BulkPath = "copy" if path == "copy" else "executemany"

    def insert(records: list[dict[str, Any]]) -> int:
        rows = table.prepare(records)
        with target.begin() as conn:
            table.evolve(conn)
            return table.insert_missing(conn, rows, path=bulk)

    assert insert([{"id": 1, "state": "sent", "created": 5}, {"id": 2, "state": "sent"}]) == 2
    before = by_key(read(target, table))
    clock.now += 60
    assert insert([{"id": 1, "state": "opened", "created": 6}, {"id": 3, "state": "sent"}]) == 1
    assert insert([{"id": 1, "state": "clicked"}, {"id": 3, "state": "x"}]) == 0
    rows = by_key(read(target, table))
    assert rows[1] == before[1]  # every column, _cio_synced_at included
    assert rows[3]["state"] == "sent"


def test_insert_missing_does_not_swallow_other_errors(target: Target) -> None:
    table = target.table("deliveries")
    load(target, table, [{"id": 1, "state": "sent"}])
    rows = table.prepare([{"id": 2, "state": "sent"}])
    with target.begin() as conn:  # break the table under the writer's feet
        target.sql.execute(conn, f"DROP TABLE {target.sql.quote(table.name)}")
    with pytest.raises(Exception, match="(?i)deliveries|exist"), target.begin() as conn:
        table.insert_missing(conn, rows)


@pytest.mark.parametrize(
    "key",
    [("cio_id", "name"), ("segment_id", "cio_id"), ("object_type_id", "object_id")],
)
def test_composite_keys(target: Target, key: tuple[str, str]) -> None:
    table = target.table("pairs", key=key)
    a, b = key
    records = [
        {a: 1, b: "x", "v": 1},
        {a: 1, b: "y", "v": 2},
        {a: 2, b: "x", "v": 3},
    ]
    assert load(target, table, records) == (3, 0)
    assert load(target, table, records) == (0, 0)
    assert load(target, table, [{a: 1, b: "y", "v": 20}, {a: 3, b: "z", "v": 4}]) == (1, 1)
    rows = {(r[a], r[b]): r["v"] for r in read(target, table)}
    assert rows == {(1, "x"): 1, (1, "y"): 20, (2, "x"): 3, (3, "z"): 4}
    with target.begin() as conn:
        inserted = table.insert_missing(
            conn, table.prepare([{a: 1, b: "x", "v": 9}, {a: 4, b: "q"}])
        )
    assert inserted == 1 and len(read(target, table)) == 5


def test_composite_string_keys_fit_mysql_index_limit(target: Target) -> None:
    table = target.table("triple", key=("a", "b", "c", "d"))
    long = "k" * 150 + "😀"
    records = [{"a": long, "b": long, "c": long, "d": str(i), "v": i} for i in range(3)]
    assert load(target, table, records) == (3, 0)
    assert {r["d"] for r in read(target, table)} == {"0", "1", "2"}
