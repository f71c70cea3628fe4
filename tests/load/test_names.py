"""Hostile API names load with nothing lost, and map to stable, distinct columns.

These are the ``api`` naming's rules (``column_names = "api"``): names kept as
the API has them, quoted. The ``snake`` naming (a new target's default) is in
test_snake_names.py."""

from __future__ import annotations

from cio_replicate.load import Target, column_map
from cio_replicate.load.dialects import MYSQL, POSTGRESQL
from cio_replicate.load.names import assign, fold, identifier, sanitize, size

from .conftest import FixedClock, load, read

HOSTILE = [
    "first name",
    "a.b.c",
    'say "hi"',
    "it's",
    "back`tick",
    "per%cent",
    "colon:name",
    "question?",
    "select",
    "order",
    "Email",
    "email",
    "EMAIL",
    "ünïcödé ключ 名前",
    "emoji 😀 key",
    "trailing space ",
    "tab\there",
    "",
    "_cio_synced_at",
    "x" * 120,
    "x" * 120 + "y",
    "é" * 40,  # 80 bytes: over PostgreSQL's 63-byte limit, within MySQL's 64 characters
]


def test_every_hostile_name_loads_and_reads_back(target: Target, db_url: str) -> None:
    target = Target(db_url, clock=FixedClock(), column_names="api")  # tables made by the fixture
    table = target.table("hostile")
    record = {"id": 1} | {name: f"value of {name!r}" for name in HOSTILE}
    assert load(target, table, [record]) == (1, 0)

    mapping = {c.api_name: c.name for c in column_map(target.engine, "hostile")}
    assert set(mapping) == {"id", *HOSTILE}
    names = list(mapping.values())
    assert len({fold(n) for n in names}) == len(names)  # distinct even ignoring case
    assert "_cio_synced_at" not in names  # our own column is never taken by a field
    for name in names:
        assert size(name, target.dialect) <= target.dialect.max_identifier
    (row,) = read(target, table)
    for api_name, column in mapping.items():
        assert row[column] == record[api_name], api_name
    assert mapping["select"] == "select" and mapping["first name"] == "first name"
    # New fields are named in sorted order: the first of a case family keeps its name.
    assert mapping["EMAIL"] == "EMAIL" and mapping["Email"] != "Email"

    # Reopened with the setting unset: the target's recorded naming (api) and the same
    # columns; a second batch (fields in another order) lands there.
    again = Target(db_url, clock=FixedClock())
    assert again.naming() == "api"
    table2 = again.table("hostile")
    second = {"id": 2} | {name: f"second {name}" for name in reversed(HOSTILE)}
    assert load(again, table2, [second]) == (1, 0)
    assert {c.api_name: c.name for c in column_map(again.engine, "hostile")} == mapping
    rows = read(again, table2)
    assert rows[1][mapping["email"]] == "second email"
    assert rows[1][mapping["EMAIL"]] == "second EMAIL"
    again.dispose()
    target.dispose()


def test_long_table_names_are_shortened_consistently(target: Target) -> None:
    long = "objects_of_a_very_long_kind_" * 4
    table = target.table(long)
    load(target, table, [{"id": 1, "v": 1}])
    assert table.name == target.table_name(long)
    assert size(table.name, target.dialect) <= target.dialect.max_identifier
    assert read(target, table)[0]["v"] == 1
    # A full refresh needs a stage name within the limit too.
    with target.begin() as conn:
        result = table.replace(conn, [table.prepare([{"id": 2, "v": 2}])])
    assert result.rows == 1 and [r["id"] for r in read(target, table)] == [2]


def test_names_pure() -> None:
    assert sanitize("a\x00b") == "a_b" and sanitize("ab  ") == "ab_" and sanitize("") == "_"
    assert sanitize("a😀") == "a_"
    pg = identifier("é" * 40, POSTGRESQL)
    my = identifier("é" * 40, MYSQL)
    assert len(pg.encode()) <= 63 and pg.endswith(pg[-8:]) and pg != my
    assert my == "é" * 40  # 40 characters are fine on MySQL
    # Stable: the same inputs give the same name, a different long name another one.
    assert assign("x" * 100, [], POSTGRESQL) == assign("x" * 100, [], POSTGRESQL)
    assert assign("x" * 100, [], POSTGRESQL) != assign("x" * 101, [], POSTGRESQL)
    # Collisions by case, accents and with our own column.
    assert assign("email", ["Email"], MYSQL) != "email"
    assert fold(assign("e", ["é"], MYSQL)) != fold("é")
    assert assign("_CIO_SYNCED_AT", [], MYSQL) != "_CIO_SYNCED_AT"
