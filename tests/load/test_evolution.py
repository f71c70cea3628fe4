"""Runtime schema evolution: new fields become columns, changed types widen losslessly."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from cio_replicate.load import LoadError, Target, column_map

from .conftest import by_key, load, read


def types(target: Target, table: str) -> dict[str, str]:
    return {c.api_name: c.type for c in column_map(target.engine, table) if c.type != "raw"}


def test_new_field_mid_life_becomes_a_column_with_older_rows_null(target: Target) -> None:
    table = target.table("people")
    load(target, table, [{"id": 1, "name": "a"}, {"id": 2, "name": "b"}])
    assert load(target, table, [{"id": 3, "name": "c", "plan": "pro", "seats": 4}]) == (1, 0)
    rows = by_key(read(target, table))
    plan = table.column("plan").name  # type: ignore[union-attr]  # plan_ (reserved in SQLite)
    assert rows[1][plan] is None and rows[1]["seats"] is None
    assert rows[2][plan] is None
    assert rows[3][plan] == "pro" and rows[3]["seats"] == 4
    assert types(target, "people") == {"id": "int", "name": "text", "plan": "text", "seats": "int"}


def test_int_turning_into_text_is_widened_and_old_values_kept(target: Target) -> None:
    table = target.table("people")
    load(target, table, [{"id": 1, "code": 7}, {"id": 2, "code": 12345678901234}])
    load(target, table, [{"id": 3, "code": "007"}])
    rows = by_key(read(target, table))
    assert rows[1]["code"] == "7"
    assert rows[2]["code"] == "12345678901234"
    assert rows[3]["code"] == "007"  # no leading zero lost (SQLite affinity would drop it)
    assert types(target, "people")["code"] == "text"
    # Ints keep arriving: they load as text too.
    load(target, table, [{"id": 4, "code": 8}])
    assert by_key(read(target, table))[4]["code"] == "8"


def test_int_to_float_and_everything_to_text(target: Target) -> None:
    table = target.table("m")
    load(target, table, [{"id": 1, "n": 1, "flag": True, "doc": {"a": 1}, "f": 0.1}])
    load(target, table, [{"id": 2, "n": 2.5, "flag": "maybe", "doc": "plain", "f": "x"}])
    rows = by_key(read(target, table))
    assert types(target, "m") == {
        "id": "int",
        "n": "float",
        "flag": "text",
        "doc": "text",
        "f": "text",
    }
    assert rows[1]["n"] == 1.0 and rows[2]["n"] == 2.5
    assert rows[1]["flag"] == "true" and rows[2]["flag"] == "maybe"
    assert rows[1]["doc"].replace(" ", "") == '{"a":1}' and rows[2]["doc"] == "plain"
    assert float(rows[1]["f"]) == 0.1 and rows[2]["f"] == "x"


def test_float_to_text_keeps_every_digit(target: Target) -> None:
    table = target.table("m")
    values = [0.30000000000000004, 1e20, -2.5e-300, 123456789.123456789]
    load(target, table, [{"id": i, "f": v} for i, v in enumerate(values)])
    load(target, table, [{"id": 99, "f": "text now"}])
    rows = by_key(read(target, table))
    assert [float(rows[i]["f"]) for i in range(len(values))] == values


def test_big_ints_never_go_through_a_double(target: Target) -> None:
    table = target.table("m")
    big = 2**60 + 1
    load(target, table, [{"id": 1, "n": big}])
    load(target, table, [{"id": 2, "n": 0.5}])  # would round `big` as a double
    rows = by_key(read(target, table))
    assert types(target, "m")["n"] == "text"
    assert rows[1]["n"] == str(big) and float(rows[2]["n"]) == 0.5
    # In one batch too, and above int64.
    table2 = target.table("m2")
    load(target, table2, [{"id": 1, "n": big}, {"id": 2, "n": 1.5}, {"id": 3, "n": 2**70}])
    rows2 = by_key(read(target, table2))
    assert rows2[1]["n"] == str(big) and rows2[3]["n"] == str(2**70)


def test_int_key_turning_into_string_key(target: Target) -> None:
    table = target.table("k")
    load(target, table, [{"id": 1, "v": "a"}, {"id": 2, "v": "b"}])
    assert load(target, table, [{"id": "x-1", "v": "c"}, {"id": 2, "v": "B"}]) == (1, 1)
    rows = by_key(read(target, table))
    assert set(rows) == {"1", "2", "x-1"}
    assert rows["2"]["v"] == "B"


def test_records_without_a_key_are_refused(target: Target) -> None:
    table = target.table("k", key=("id",))
    with pytest.raises(LoadError, match="key"):
        table.prepare([{"id": None, "v": 1}])
    with pytest.raises(LoadError, match="key"):
        table.prepare([{"v": 1}])


def test_a_rolled_back_evolution_is_redone(target: Target) -> None:
    table = target.table("people")
    load(target, table, [{"id": 1, "a": 1}])
    rows = table.prepare([{"id": 2, "a": "text", "b": True}])
    with pytest.raises(RuntimeError), target.begin() as conn:
        table.evolve(conn)
        raise RuntimeError("crash after the DDL, before the commit")
    # The same writer, next batch: evolve again and load.
    with target.begin() as conn:
        table.evolve(conn)
        assert table.upsert(conn, rows) == (1, 0)
    got = by_key(read(target, table))
    assert got[2]["b"] is True and got[2]["a"] == "text" and got[1]["a"] == "1"
    assert types(target, "people") == {"id": "int", "a": "text", "b": "bool"}


def test_a_column_without_its_map_row_is_adopted(target: Target) -> None:
    """As after a crash on MySQL between the ALTER (committed) and the map write."""
    table = target.table("people")
    load(target, table, [{"id": 1, "a": 1, "b": "x"}])
    with target.begin() as conn:
        conn.execute(sa.text("DELETE FROM _cio_columns WHERE column_name = 'b'"))
    fresh = target.table("people")
    assert load(target, fresh, [{"id": 2, "a": 2, "b": "y"}]) == (1, 0)
    assert [r["b"] for r in read(target, fresh)] == ["x", "y"]
    assert types(target, "people") == {"id": "int", "a": "int", "b": "text"}
