"""A table whose strings are typed (the catalog's ``typed_strings``, people), on the three
databases: identifiers stay text, types widen through the usual machinery, NULLs stay NULL."""

from __future__ import annotations

from datetime import UTC, datetime

from cio_replicate.catalog import get_object
from cio_replicate.load import Target

from .conftest import by_key, load, read
from .test_evolution import types

PEOPLE = get_object("Customers")


def test_identifiers_stay_text_even_when_they_look_like_numbers(target: Target) -> None:
    assert PEOPLE.typed_strings
    table = target.table("people", key=PEOPLE.key, typed=PEOPLE.typed)
    load(target, table, [{"cio_id": "1", "id": "42", "email": "7", "age": "26", "ok": "true"}])
    assert types(target, "people") == {
        "cio_id": "text",
        "id": "text",
        "email": "text",
        "age": "int",
        "ok": "bool",
    }
    row = by_key(read(target, table), "cio_id")["1"]
    assert (row["id"], row["email"], row["age"], bool(row["ok"])) == ("42", "7", 26, True)


def test_strings_stay_text_where_the_table_does_not_type_them(target: Target) -> None:
    table = target.table("plain", key=("cio_id",))
    load(target, table, [{"cio_id": "1", "age": "26"}])
    assert types(target, "plain")["age"] == "text"


def test_typed_columns_widen_to_text_keeping_values_and_nulls(target: Target) -> None:
    table = target.table("people", key=PEOPLE.key, typed=PEOPLE.typed)
    load(
        target,
        table,
        [
            {"cio_id": "1", "n": "26", "f": "2.5", "b": "false", "w": "3"},
            {"cio_id": "2", "n": None, "f": None, "b": None, "w": "0.1"},
        ],
    )
    assert types(target, "people") == {
        "cio_id": "text",
        "n": "int",
        "f": "float",
        "b": "bool",
        "w": "float",
    }
    load(target, table, [{"cio_id": "3", "n": "x", "f": "y", "b": "z", "w": "w"}])
    assert {k: v for k, v in types(target, "people").items() if k != "cio_id"} == dict.fromkeys(
        ("n", "f", "b", "w"), "text"
    )
    rows = by_key(read(target, table), "cio_id")
    assert (rows["1"]["n"], rows["1"]["f"], rows["1"]["b"]) == ("26", "2.5", "false")
    assert (rows["2"]["n"], rows["2"]["f"], rows["2"]["b"]) == (None, None, None)
    assert rows["2"]["w"] == "0.1"
    assert rows["1"]["w"] in ("3", "3.0")  # an integral double as text: SQLite says 3.0
    assert (rows["3"]["n"], rows["3"]["f"], rows["3"]["b"]) == ("x", "y", "z")


def test_big_integers_meeting_decimals_stay_text_as_written(target: Target) -> None:
    table = target.table("people", key=PEOPLE.key, typed=PEOPLE.typed)
    big = str(2**53 + 1)  # a double would round it
    load(target, table, [{"cio_id": "1", "n": big}, {"cio_id": "2", "n": "1.5"}])
    assert types(target, "people")["n"] == "text"
    rows = by_key(read(target, table), "cio_id")
    assert (rows["1"]["n"], rows["2"]["n"]) == (big, "1.5")


def test_a_time_column_keeps_what_is_no_time_in_its_raw_sibling(target: Target) -> None:
    table = target.table("people", key=PEOPLE.key, typed=PEOPLE.typed)
    load(target, table, [{"cio_id": "1", "seen_at": "1700000000", "ends": "2024-05-01T10:00Z"}])
    assert types(target, "people") == {
        "cio_id": "text",
        "seen_at": "timestamp",
        "ends": "timestamp",
    }
    load(target, table, [{"cio_id": "2", "seen_at": "soon", "ends": "42"}])
    assert types(target, "people")["ends"] == "timestamp"
    rows = by_key(read(target, table), "cio_id")
    assert rows["1"]["seen_at"] == datetime.fromtimestamp(1700000000, UTC)
    assert rows["1"]["ends"] == datetime(2024, 5, 1, 10, tzinfo=UTC)
    assert rows["2"]["seen_at"] is None and rows["2"]["seen_at__raw"] == "soon"
    assert rows["2"]["ends"] == datetime.fromtimestamp(42, UTC)  # a number: Unix seconds
