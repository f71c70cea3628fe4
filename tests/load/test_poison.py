"""Values no database stores as they are (NUL, lone UTF-16 surrogates, NaN inside JSON)
load on every database, as the README says, and the same batch reloads as 'unchanged'."""

from __future__ import annotations

import json
import math
from typing import Any

from cio_replicate.load import Target, column_map

from .conftest import by_key, load, read

NUL, LONE, FFFD = "\x00", "\ud800", "\ufffd"
PAIR = "\ud83d\ude00"  # a surrogate pair as two code points: the emoji U+1F600


def _nul(target: Target) -> str:
    """What NUL becomes: kept on SQLite and MySQL, U+FFFD on PostgreSQL."""
    return FFFD if target.dialect.name == "postgresql" else NUL


def test_nul_in_text_json_and_field_names(target: Target, db_url: str) -> None:
    target = Target(db_url, clock=target.clock, column_names="api")  # names kept as they are
    table = target.table("people", key=("id",))
    records = [
        {
            "id": "a",
            "bio": f"x{NUL}y",
            "prefs": {f"k{NUL}": f"v{NUL}", "literal": "\\u0000", "list": [f"{NUL}", 1]},
            f"na{NUL}me": "named",
        },
        {"id": f"b{NUL}", "bio": "plain"},
    ]
    assert load(target, table, records) == (2, 0)
    n = _nul(target)
    rows = by_key(read(target, table))
    assert set(rows) == {"a", f"b{n}"}
    a = rows["a"]
    assert a["bio"] == f"x{n}y"
    # An escaped backslash followed by 'u0000' is text, not a NUL: kept as it is.
    assert a["prefs"] == {f"k{n}": f"v{n}", "literal": "\\u0000", "list": [n, 1]}
    mapping = {c.api_name: c.name for c in column_map(target.engine, "people")}
    column = "na_me" if n == NUL else f"na{FFFD}me"  # no database takes NUL in a name
    assert mapping[f"na{n}me"] == column
    assert a[column] == "named"
    # Loading the same records again changes nothing: the object does not fail, and
    # the stored (replaced) value counts as equal.
    assert load(target, table, records) == (0, 0)
    target.dispose()


def test_lone_surrogates_become_the_replacement_character(target: Target, db_url: str) -> None:
    target = Target(db_url, clock=target.clock, column_names="api")  # names kept as they are
    table = target.table("people", key=("id",))
    records = [
        {
            "id": f"k{LONE}",
            "bio": f"x{LONE}y{PAIR}",
            "prefs": {f"key{LONE}": [f"\udc00{LONE}", PAIR]},
            f"attr{LONE}": "v",
        }
    ]
    assert load(target, table, records) == (1, 0)
    rows = read(target, table)
    assert len(rows) == 1
    row = rows[0]
    assert row["id"] == f"k{FFFD}"
    assert row["bio"] == f"x{FFFD}y😀"  # a split pair is joined, a lone one replaced
    assert row["prefs"] == {f"key{FFFD}": [FFFD + FFFD, "😀"]}
    mapping = {c.api_name: c.name for c in column_map(target.engine, "people")}
    assert mapping[f"attr{FFFD}"] == f"attr{FFFD}"
    assert row[f"attr{FFFD}"] == "v"
    assert load(target, table, records) == (0, 0)
    target.dispose()


def test_non_finite_numbers_inside_json_become_strings(target: Target) -> None:
    table = target.table("events", key=("id",))
    records = [{"id": 1, "data": {"nan": math.nan, "inf": [math.inf, -math.inf], "ok": 1.5}}]
    assert load(target, table, records) == (1, 0)
    (row,) = read(target, table)
    assert row["data"] == {"nan": "NaN", "inf": ["Infinity", "-Infinity"], "ok": 1.5}
    assert load(target, table, records) == (0, 0)


def _deep(levels: int) -> Any:
    value: Any = "bottom"
    for i in range(levels):
        value = [value] if i % 2 else {"k": value}
    return value


def test_json_nested_deeper_than_the_database_allows(target: Target) -> None:
    """MariaDB refuses JSON nested 32 levels deep (MySQL: over 100): deeper parts are
    stored as their JSON text; elsewhere the value is kept as it is."""
    table = target.table("events", key=("id",))
    value = _deep(120)
    records = [{"id": 1, "data": value}, {"id": 2, "data": _deep(31)}]
    assert load(target, table, records) == (2, 0)
    rows = by_key(read(target, table))
    assert rows[2]["data"] == _deep(31)
    stored, depth = rows[1]["data"], target.dialect.json_depth
    if depth is None:
        assert stored == value
    else:
        for _ in range(depth):  # the first `depth` levels are JSON, the rest one string
            stored, value = (
                (stored["k"], value["k"]) if isinstance(value, dict) else (stored[0], value[0])
            )
        assert isinstance(stored, str) and json.loads(stored) == value
    assert load(target, table, records) == (0, 0)
