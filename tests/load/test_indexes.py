"""Join indexes on id columns, and bounded id columns on MySQL/MariaDB (issue 15)."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa

from cio_replicate.load import Target
from cio_replicate.load.dberrors import describe
from cio_replicate.load.indexes import index_name

from .conftest import by_key, load, read


def indexes(target: Target, table: str) -> dict[str, list[str]]:
    """Index name -> its columns, as the database has them (the key's own left out)."""
    with target.connect() as conn:
        found = sa.inspect(conn).get_indexes(table)
    return {str(i["name"]): [str(c) for c in i["column_names"]] for i in found}


def column_sql(target: Target, table: str, column: str) -> str:
    with target.connect() as conn:
        for c in sa.inspect(conn).get_columns(table):
            if c["name"] == column:
                return str(c["type"].compile(dialect=target.engine.dialect))
    raise AssertionError(f"no column {column}")


def messages(ids: range, **extra: Any) -> list[dict[str, Any]]:
    return [
        {
            "id": f"m{i}",
            "customer_id": f"c{i % 3}",
            "campaign_id": i % 2,
            "metrics": {"sent": i},
            "subject": "hello",
            **extra,
        }
        for i in ids
    ]


def test_a_new_table_gets_join_indexes_on_its_id_columns_only(target: Target) -> None:
    table = target.table("messages")
    load(target, table, messages(range(4)))
    assert indexes(target, "messages") == {
        "ix_messages_customer_id": ["customer_id"],
        "ix_messages_campaign_id": ["campaign_id"],
    }
    # An id column seen later gets its index when it is added.
    load(target, table, messages(range(4, 6), action_id=7, delivery_id="d"))
    assert set(indexes(target, "messages")) == {
        "ix_messages_customer_id",
        "ix_messages_campaign_id",
        "ix_messages_action_id",
        "ix_messages_delivery_id",
    }


def test_no_index_on_json_nor_on_the_keys_leading_column(target: Target) -> None:
    table = target.table("members", key=("customer_id", "segment_id"))
    load(target, table, [{"customer_id": "a", "segment_id": 1, "campaign_id": {"x": 1}}])
    # customer_id leads the primary key; campaign_id holds JSON here.
    assert indexes(target, "members") == {"ix_members_segment_id": ["segment_id"]}


def test_a_missing_index_is_created_once_per_writer(target: Target) -> None:
    load(target, target.table("messages"), messages(range(2)))
    name = index_name("messages", "customer_id", target.dialect)
    with target.begin() as conn:
        t = sa.Table("messages", sa.MetaData(), sa.Column("customer_id"))
        sa.Index(name, t.c.customer_id).drop(conn)
    assert name not in indexes(target, "messages")
    table = target.table("messages")  # the next run's writer
    assert load(target, table, messages(range(2))) == (0, 0)
    assert indexes(target, "messages")[name] == ["customer_id"]


def test_full_refresh_swaps_in_a_table_with_its_indexes(target: Target) -> None:
    table = target.table("messages")
    load(target, table, messages(range(3)))
    for version in (1, 2):  # twice: the second swap replaces an indexed table
        with target.begin() as conn:
            result = table.replace(conn, [table.prepare(messages(range(5), subject=version))])
        assert result.updated == (3 if version == 1 else 5)
        assert indexes(target, "messages") == {
            "ix_messages_customer_id": ["customer_id"],
            "ix_messages_campaign_id": ["campaign_id"],
        }
    staged = target.table("staged")
    staged.replace_staged([staged.prepare(messages(range(3)))], lambda conn, result: None)
    assert set(indexes(target, "staged")) == {"ix_staged_customer_id", "ix_staged_campaign_id"}
    assert len(by_key(read(target, staged))) == 3


def test_a_widened_id_column_keeps_its_index(target: Target) -> None:
    table = target.table("messages")
    load(target, table, messages(range(2)))
    load(target, table, messages(range(2, 3), campaign_id="c-2"))  # int -> text
    # SQLite rebuilds the table (its indexes go with the old one): made again.
    assert indexes(target, "messages")["ix_messages_campaign_id"] == ["campaign_id"]
    assert by_key(read(target, table))["m2"]["campaign_id"] == "c-2"


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_index_names_fit_the_identifier_limit(target: Target) -> None:
    name = "t" * 70
    table = target.table(name)
    load(target, table, messages(range(1)))
    found = indexes(target, target.table_name(name))
    assert len(found) == 2 and all(len(n) <= 63 for n in found)


@pytest.mark.parametrize("db_url", ["mysql"], indirect=True)
def test_mysql_id_columns_are_bounded_and_other_text_is_longtext(target: Target) -> None:
    table = target.table("messages")
    load(target, table, messages(range(2), cio_id="x", journey="j", status_id=5))
    assert column_sql(target, "messages", "customer_id").startswith("VARCHAR(255)")
    assert column_sql(target, "messages", "cio_id").startswith("VARCHAR(255)")
    assert column_sql(target, "messages", "subject") == "LONGTEXT"
    # An int id column that turns into text becomes VARCHAR(255) too, and keeps its index.
    load(target, table, messages(range(2, 3), status_id="s5"))
    assert column_sql(target, "messages", "status_id").startswith("VARCHAR(255)")
    load(target, table, messages(range(3, 4), campaign_id="c-1"))
    assert column_sql(target, "messages", "campaign_id").startswith("VARCHAR(255)")
    assert indexes(target, "messages")["ix_messages_campaign_id"] == ["campaign_id"]
    assert by_key(read(target, table))["m3"]["campaign_id"] == "c-1"


@pytest.mark.parametrize("db_url", ["mysql"], indirect=True)
def test_mysql_longtext_id_columns_of_older_tables_keep_working(target: Target) -> None:
    load(target, target.table("messages"), messages(range(2)))
    name = index_name("messages", "customer_id", target.dialect)
    with target.begin() as conn:  # as an older version created it: LONGTEXT, no index
        target.sql.execute(conn, f"DROP INDEX {name} ON messages")
        target.sql.execute(conn, "ALTER TABLE messages MODIFY customer_id LONGTEXT")
    table = target.table("messages")  # not "altered by hand": both are text
    assert load(target, table, messages(range(1, 4))) == (2, 0)
    assert column_sql(target, "messages", "customer_id") == "LONGTEXT"
    assert indexes(target, "messages")[name] == ["customer_id"]  # a prefix index
    with target.connect() as conn:
        sub = conn.execute(
            sa.text(
                "SELECT sub_part FROM information_schema.statistics "
                "WHERE table_schema = DATABASE() AND index_name = :name"
            ),
            {"name": name},
        ).scalar_one()
    assert sub == target.dialect.text_index_prefix


@pytest.mark.parametrize("db_url", ["mysql"], indirect=True)
def test_mysql_an_id_longer_than_255_is_a_clear_one_line_error(target: Target) -> None:
    table = target.table("messages")
    load(target, table, messages(range(1)))
    long_id = "c" * 256
    with pytest.raises(sa.exc.DBAPIError) as caught:
        load(target, table, messages(range(1, 2), customer_id=long_id))
    message = describe(caught.value)
    assert "table messages: a value is longer than its column allows" in message
    assert "255 characters" in message and "\n" not in message and long_id not in message
    assert sorted(by_key(read(target, table))) == ["m0"]  # nothing was cut and stored
