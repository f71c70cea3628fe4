"""The ``snake`` naming (a new target's default): columns an analyst queries without quotes."""

from __future__ import annotations

import re
from itertools import permutations

import pytest
import sqlalchemy as sa

from cio_replicate import systables
from cio_replicate.errors import ConfigError
from cio_replicate.load import LoadError, Target, column_map
from cio_replicate.load.dialects import POSTGRESQL
from cio_replicate.load.names import RESERVED, assign, digest, fold, size, snake
from cio_replicate.load.naming import resolve

from .conftest import FixedClock, load, read

HOSTILE = {
    "favoriteColor": None,  # these two collide: see below
    "Favorite Color": None,
    "address.city": "address_city",
    "first name": "first_name",
    "HTTPResponseCode": "http_response_code",
    "from": "from_",
    "order": "order_",
    "timestamp": "timestamp",  # a keyword, but reserved on none of the three
    "select": "select_",
    "1st place": "_1st_place",
    "plan+tier": "planxtier",
    "a@b": "aab",
    "trailing_": "trailingx",
    "ünïcödé": "_n_c_dx",
    'nick"name': "nick_name",
    "x" * 120: None,  # shortened, see below
}


def test_snake_follows_dlt() -> None:
    assert snake("favoriteColor") == "favorite_color"
    assert snake("LifetimeValue") == snake("lifetimeValue") == snake("lifetime_value")
    assert snake("HTTPResponseCode") == "http_response_code"
    assert snake("first name") == "first_name" and snake("a.b.c") == "a_b_c"
    assert snake("a+b-c*d@e|f") == "axb_cxdaelf"
    assert snake("1st") == "_1st" and snake("x__") == "xxx" and snake("a__b") == "a_b"
    assert snake("  padded  ") == "padded"
    assert snake("ünïcödé") == "_n_c_dx"  # non-ASCII letters become "_"
    assert snake("名前") == "_" + digest("名前")  # nothing left: the name's digest
    assert snake("na\x00me") == snake("na\ufffdme") == "na_me"  # NUL as PostgreSQL stores it
    assert snake("from") == "from_" and snake("order") == "order_" and snake("key") == "key_"
    assert snake("timestamp") == "timestamp" and snake("id") == "id"
    assert snake("from_") == "fromx"  # so never the same as a reserved word's column
    for name in ["Ä b", "😀", "?", "select", "Rows", "x" * 300, "_", "9"]:
        assert re.fullmatch(r"[a-z_][a-z0-9_]*", snake(name)), name
        assert snake(name) not in RESERVED


def test_reserved_words_are_those_of_every_target() -> None:
    assert {"from", "order", "select", "key", "rows", "plan", "deferred", "user"} <= RESERVED
    assert "timestamp" not in RESERVED and "email" not in RESERVED


def test_collisions_and_long_names_in_snake() -> None:
    taken: list[str] = []
    first = assign("lifetime_value", taken, POSTGRESQL, naming="snake")
    taken.append(first)
    second = assign("LifetimeValue", taken, POSTGRESQL, naming="snake")
    assert first == "lifetime_value"
    assert second == "lifetime_value_" + digest("LifetimeValue")
    long = assign("x" * 120, [], POSTGRESQL, naming="snake")
    assert size(long, POSTGRESQL) <= 63 and long.startswith("x" * 40)
    assert long == assign("x" * 120, [], POSTGRESQL, naming="snake")
    raw = assign("created_at", ["created_at"], POSTGRESQL, tag="__raw", naming="snake")
    assert raw == "created_at__raw"


def test_hostile_names_load_as_snake_columns_queried_without_quotes(target: Target) -> None:
    table = target.table("customers", timestamps=("created_at",))
    record = {"id": 1, "created_at": "not a time"} | {n: f"v {n}" for n in HOSTILE}
    assert load(target, table, [record]) == (1, 0)
    assert target.naming() == "snake"

    mapping = {c.name: c.api_name for c in column_map(target.engine, "customers")}
    columns = {
        c.api_name: c.name for c in column_map(target.engine, "customers") if c.type != "raw"
    }
    for api_name, expected in HOSTILE.items():
        if expected is not None:
            assert columns[api_name] == expected, api_name
    # "Favorite Color" and "favoriteColor" both want favorite_color: sorted first wins.
    assert columns["Favorite Color"] == "favorite_color"
    assert columns["favoriteColor"] == "favorite_color_" + digest("favoriteColor")
    assert columns["created_at"] == "created_at"
    assert "created_at__raw" in mapping  # the raw sibling of a value that was no time
    for name in mapping:
        assert re.fullmatch(r"[a-z_][a-z0-9_]*", name), name
        assert size(name, target.dialect) <= target.dialect.max_identifier
    assert len({fold(n) for n in mapping}) == len(mapping)

    (row,) = read(target, table)
    for api_name, column in columns.items():
        assert row[column] == record[api_name] or api_name == "created_at", api_name
    assert row["created_at__raw"] == "not a time"
    with target.connect() as conn:  # no quotes anywhere
        got = conn.execute(
            sa.text(
                "SELECT favorite_color, address_city, from_, order_, timestamp, "
                "http_response_code, _1st_place FROM customers WHERE id = 1"
            )
        ).one()
    assert tuple(got) == (
        "v Favorite Color",
        "v address.city",
        "v from",
        "v order",
        "v timestamp",
        "v HTTPResponseCode",
        "v 1st place",
    )


@pytest.mark.parametrize("order", list(permutations(range(3))))
def test_a_rename_collision_is_settled_the_same_whatever_the_order(
    target: Target, order: tuple[int, ...]
) -> None:
    names = ["LifetimeValue", "lifetime_value", "lifetimeValue"]
    record = {"id": 1} | {names[i]: i for i in order}
    table = target.table("people")
    load(target, table, [record])
    columns = {c.api_name: c.name for c in column_map(target.engine, "people")}
    assert columns == {
        "id": "id",
        "LifetimeValue": "lifetime_value",
        "lifetimeValue": "lifetime_value_" + digest("lifetimeValue"),
        "lifetime_value": "lifetime_value_" + digest("lifetime_value"),
    }
    # Positions follow the records' order (the first field seen comes first).
    placed = [c.api_name for c in column_map(target.engine, "people")]
    assert placed == ["id", *(names[i] for i in order)]


def test_recorded_names_never_change(target: Target, db_url: str) -> None:
    table = target.table("people")
    load(target, table, [{"id": 1, "lifetime_value": 5}])
    again = Target(db_url, clock=FixedClock())
    table2 = again.table("people")
    load(again, table2, [{"id": 2, "LifetimeValue": 7, "lifetime_value": 6}])
    columns = {c.api_name: c.name for c in column_map(again.engine, "people")}
    assert columns["lifetime_value"] == "lifetime_value"  # named first, in an earlier batch
    assert columns["LifetimeValue"] == "lifetime_value_" + digest("LifetimeValue")
    again.dispose()


def test_a_target_keeps_its_recorded_naming(target: Target, db_url: str) -> None:
    api = Target(db_url, clock=FixedClock(), column_names="api")
    load(api, api.table("people"), [{"id": 1, "Favorite Color": "red"}])
    assert api.naming() == "api"
    unset = Target(db_url, clock=FixedClock())
    assert unset.naming() == "api"
    assert unset.table("people").column("Favorite Color").name == "Favorite Color"  # type: ignore[union-attr]
    snake_asked = Target(db_url, clock=FixedClock(), column_names="snake")
    with pytest.raises(ConfigError) as caught:
        snake_asked.naming()
    assert caught.value.key == "column_names"
    message = str(caught.value)
    assert "'api'" in message and "Remove column_names" in message and "target_schema" in message
    for t in (api, unset, snake_asked):
        t.dispose()


def test_a_target_with_data_tables_and_no_record_is_api(target: Target, db_url: str) -> None:
    """Made before the setting existed (no _cio_target row, _cio_columns rows): api."""
    api = Target(db_url, clock=FixedClock(), column_names="api")
    load(api, api.table("people"), [{"id": 1, "Favorite Color": "red"}])
    with api.begin() as conn:
        conn.execute(systables.target.delete())  # as if written before 0005
    snake_asked = Target(db_url, clock=FixedClock(), column_names="snake")
    with pytest.raises(ConfigError, match="'api'"):
        snake_asked.naming()
    snake_asked.dispose()
    with api.begin() as conn:
        conn.execute(systables.target.delete())
    unset = Target(db_url, clock=FixedClock())
    assert unset.naming() == "api"
    assert resolve(unset.begin, None) == "api"  # recorded now
    with unset.connect() as conn:
        assert conn.execute(sa.select(systables.target.c.column_names)).scalar() == "api"
    for t in (api, unset):
        t.dispose()


def test_two_first_writers_agree(target: Target, db_url: str) -> None:
    """Another process records its naming between this one's read and insert: this one's
    insert fails on the duplicate key, and it reads the other's record instead."""
    if target.dialect.single_writer:
        pytest.skip("SQLite: BEGIN IMMEDIATE holds the write lock from the read on")

    other = sa.create_engine(db_url)
    raced: list[bool] = []

    def before(conn: sa.Connection, cursor: object, statement: str, *_: object) -> None:
        if statement.lstrip().upper().startswith("INSERT INTO _CIO_TARGET") and not raced:
            raced.append(True)
            with other.begin() as theirs:
                theirs.execute(
                    systables.target.insert().values(
                        id=1, column_names="api", recorded_at=sa.func.now()
                    )
                )

    sa.event.listen(target.engine, "before_cursor_execute", before)
    try:
        assert resolve(target.begin, None) == "api"  # theirs, not the default snake
    finally:
        sa.event.remove(target.engine, "before_cursor_execute", before)
        other.dispose()
    assert raced == [True]
    with pytest.raises(ConfigError):
        resolve(target.begin, "snake")


def test_a_target_without_the_naming_table_says_to_upgrade(tmp_path: object) -> None:
    """A target at revision 0004 (no _cio_target) written by this version: db upgrade first."""
    url = f"sqlite:///{tmp_path}/old.db"
    old = Target(url, clock=FixedClock())
    with old.begin() as conn:
        systables.columns.create(conn)
    with pytest.raises(LoadError, match="_cio_target.*db upgrade"):
        old.table("people")
    old.dispose()
