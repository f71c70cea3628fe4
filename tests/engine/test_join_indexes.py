"""A replicate of the sandbox leaves the join indexes on every database (issue 15)."""

from __future__ import annotations

import sqlalchemy as sa

from cio_replicate.load import column_map
from cio_replicate.load.indexes import JOIN_FIELDS

from .conftest import Harness

KNOWN = {
    ("messages", "customer_id"),
    ("messages", "campaign_id"),
    ("messages", "newsletter_id"),
    ("messages", "action_id"),
    ("activities", "customer_id"),
    ("campaign_actions", "campaign_id"),
}
"""Indexes an analyst relies on, named here so a change of the field list shows."""


def join_indexes(h: Harness) -> dict[tuple[str, str], list[str]]:
    """(table, column) -> the columns of the index ix_<table>_<column>, where there is one."""
    found = {}
    with h.target.engine.connect() as conn:
        inspector = sa.inspect(conn)
        for table in inspector.get_table_names():
            for index in inspector.get_indexes(table):
                for column in index["column_names"]:
                    if index["name"] == h.target.table_name(f"ix_{table}_{column}"):
                        found[(table, str(column))] = [str(c) for c in index["column_names"]]
    return found


def test_a_replicate_indexes_the_join_columns_and_a_full_refresh_keeps_them(
    harness: Harness,
) -> None:
    h = harness
    assert h.run().status == "success"
    indexed = join_indexes(h)
    assert KNOWN <= set(indexed)
    assert all(columns == [column] for (_, column), columns in indexed.items())
    with h.target.engine.connect() as conn:
        tables = sa.inspect(conn).get_table_names()
        keys = {t: sa.inspect(conn).get_pk_constraint(t)["constrained_columns"] for t in tables}
    for table in tables:
        for col in column_map(h.target.engine, table):
            wanted = col.api_name in JOIN_FIELDS and col.type not in ("json", "raw")
            leads_key = bool(keys[table]) and keys[table][0] == col.name
            assert ((table, col.name) in indexed) == (wanted and not leads_key), (table, col)

    # A full refresh: messages change (the stage is swapped in), activities do not (the
    # live table stays), and its index, dropped by hand, is made again.
    h.sandbox.clock.advance(60)
    message = h.sandbox.workspace.messages.get(3)
    h.sandbox.workspace.set_message_metric(message["id"], "converted")
    name = h.target.table_name("ix_activities_customer_id")
    with h.target.begin() as conn:
        t = sa.Table("activities", sa.MetaData(), sa.Column("customer_id"))
        sa.Index(name, t.c.customer_id).drop(conn)
    assert ("activities", "customer_id") not in join_indexes(h)
    report = h.run(["Messages", "Activities"], full_refresh=True)
    assert report.status == "success", [(r.name, r.message) for r in report.results]
    changed = {r.name: r.updated for r in report.results}
    assert changed == {"Messages": 1, "Activities": 0}
    assert join_indexes(h) == indexed
