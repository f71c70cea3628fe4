"""customers is the wide, typed people table: the App API's attribute strings become
integer, float, boolean and timestamp columns where every value fits, widened without loss
when a later value does not; customers_attributes keeps the name/value rows as text."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa

from cio_replicate.extract.people import customer_record
from cio_replicate.load import Target, column_map
from cio_replicate.load.names import SYNCED_AT
from cio_replicate.migrate import upgrade
from cio_replicate.sandbox.people import Person

from .conftest import Harness
from .expected import check_tables

PEOPLE = ("Customers", "CustomersAttributes")
A = {
    "visits": 26,
    "balance": 26.5,
    "beta": True,
    "trial_ends": "2024-05-01T10:00:00Z",
    "last_seen_at": 1700000000,
    "nickname": "Ace",
}
B = {
    "visits": 7,
    "balance": 3.25,
    "beta": False,
    "trial_ends": "2024-06-01 12:00:00",
    "last_seen_at": 1710000000,
    "nickname": "42",
}


def typed_people(harness: Harness) -> tuple[Person, Person, Person]:
    """Two people with typed attributes, five without, then a third: with batches of five
    the third is written in a later batch than the first two."""
    ws = harness.sandbox.workspace
    a = ws.create_person("42", "a@example.com", A)
    b = ws.create_person("43", "b@example.com", B)
    for n in range(5):
        ws.create_person(f"filler-{n}", None, {})
    c = ws.create_person("44", "c@example.com", {**B, "visits": 8, "nickname": "Cy"})
    return a, b, c


def sql_types(url: str) -> dict[str, Any]:
    """API field -> reflected SQL type of its customers column (raw siblings: 'name__raw')."""
    target = Target(url)
    try:
        with target.connect() as conn:
            live = {c["name"]: c["type"] for c in sa.inspect(conn).get_columns("customers")}
        return {
            c.api_name + ("__raw" if c.type == "raw" else ""): live[c.name]
            for c in column_map(target.engine, "customers")
        }
    finally:
        target.dispose()


def rows(url: str) -> dict[str, dict[str, Any]]:
    """customers by person id: API field -> stored value (raw siblings: 'name__raw')."""
    target = Target(url)
    try:
        writer = target.table("customers", ("cio_id",))
        names = {c.name: c.api_name + ("__raw" if c.type == "raw" else "") for c in writer.columns}
        names[SYNCED_AT] = SYNCED_AT
        with target.connect() as conn:
            found = conn.execute(sa.select(writer.sa_table())).mappings().all()
        out: dict[str, dict[str, Any]] = {}
        for row in found:
            record = {names[k]: v for k, v in row.items() if k in names}
            out[str(record["id"])] = record
        return out
    finally:
        target.dispose()


def is_bool(t: Any, url: str) -> bool:
    if url.startswith("mysql"):
        return isinstance(t, sa.Integer) and getattr(t, "display_width", None) == 1
    return isinstance(t, sa.Boolean)


def test_attributes_get_typed_columns_and_typed_values(harness: Harness) -> None:
    typed_people(harness)
    report = harness.run(PEOPLE)
    assert report.status == "success"
    types = sql_types(harness.url)
    assert isinstance(types["visits"], sa.BigInteger)
    assert isinstance(types["balance"], sa.Float)
    assert is_bool(types["beta"], harness.url)
    assert isinstance(types["trial_ends"], sa.DateTime)
    assert isinstance(types["last_seen_at"], sa.DateTime)
    for text in ("nickname", "id", "email", "cio_id"):  # "42" among nicknames, ids "42"...
        assert isinstance(types[text], sa.String), text
    assert isinstance(types["age"], sa.BigInteger)  # the sandbox's own people: "age": "57"
    assert "trial_ends__raw" not in types
    got = rows(harness.url)
    a, b = got["42"], got["43"]
    assert (a["visits"], a["balance"], bool(a["beta"])) == (26, 26.5, True)
    assert (b["visits"], b["balance"], bool(b["beta"])) == (7, 3.25, False)
    assert a["trial_ends"] == datetime(2024, 5, 1, 10, tzinfo=UTC)
    assert b["trial_ends"] == datetime(2024, 6, 1, 12, tzinfo=UTC)  # naive ISO: UTC
    assert a["last_seen_at"] == datetime.fromtimestamp(1700000000, UTC)
    assert (a["nickname"], b["nickname"], a["id"]) == ("Ace", "42", "42")
    assert got["filler-0"]["visits"] is None
    # equal to the API's strings, and the name/value table stays text
    assert check_tables(harness.url, harness.sandbox.workspace, ["customers"]) == {}
    assert check_tables(harness.url, harness.sandbox.workspace, ["customers_attributes"]) == {}


def test_a_value_that_no_longer_fits_widens_and_nothing_is_lost(harness: Harness) -> None:
    harness.batch_size = 5
    _, _, c = typed_people(harness)
    assert harness.run(PEOPLE).status == "success"
    before = rows(harness.url)
    harness.sandbox.clock.advance(60)
    harness.sandbox.workspace.update_person(
        c, {"visits": "n/a", "beta": "maybe", "trial_ends": "soon", "balance": "lots"}
    )
    report = harness.run(PEOPLE)
    assert report.status == "success"
    written = {r.name: (r.inserted, r.updated) for r in report.results}
    assert written["Customers"][1] >= 1
    types = sql_types(harness.url)
    for field in ("visits", "beta", "balance"):
        assert isinstance(types[field], sa.String), field
    assert isinstance(types["trial_ends"], sa.DateTime)  # a time column stays one
    assert isinstance(types["trial_ends__raw"], sa.String)
    got = rows(harness.url)
    a, b, c_row = got["42"], got["43"], got["44"]
    # a's and b's rows were not rewritten (an earlier batch): their values were widened
    # in place by the database (ALTER ... USING CAST, MODIFY COLUMN, SQLite's rebuild)
    for person in ("42", "43"):
        assert got[person][SYNCED_AT] == before[person][SYNCED_AT]
    assert c_row[SYNCED_AT] > before["44"][SYNCED_AT]
    assert (a["visits"], a["beta"], a["balance"]) == ("26", "true", "26.5")
    assert (b["visits"], b["beta"], b["balance"]) == ("7", "false", "3.25")
    assert (c_row["visits"], c_row["beta"], c_row["balance"]) == ("n/a", "maybe", "lots")
    assert a["trial_ends"] == datetime(2024, 5, 1, 10, tzinfo=UTC) and a["trial_ends__raw"] is None
    assert c_row["trial_ends"] is None and c_row["trial_ends__raw"] == "soon"
    assert check_tables(harness.url, harness.sandbox.workspace, ["customers"]) == {}
    attributes = check_tables(harness.url, harness.sandbox.workspace, ["customers_attributes"])
    assert attributes == {}
    # the widened values equal the API's strings: the next run rewrites nothing
    again = harness.run(PEOPLE)
    assert {r.name: (r.inserted, r.updated) for r in again.results}["Customers"] == (0, 0)


def test_a_text_column_is_never_typed_again(harness: Harness) -> None:
    ws = harness.sandbox.workspace
    person = ws.create_person("42", "a@example.com", {"code": "n/a"})
    assert harness.run(PEOPLE).status == "success"
    ws.update_person(person, {"code": "7"})
    assert harness.run(PEOPLE).status == "success"
    assert isinstance(sql_types(harness.url)["code"], sa.String)
    assert rows(harness.url)["42"]["code"] == "7"


@pytest.mark.parametrize("field", ["visits", "balance"])
def test_int_and_float_meet_as_float(harness: Harness, field: str) -> None:
    harness.batch_size = 5
    _, _, c = typed_people(harness)
    assert harness.run(PEOPLE).status == "success"
    harness.sandbox.workspace.update_person(c, {field: 8.75})
    assert harness.run(PEOPLE).status == "success"
    assert isinstance(sql_types(harness.url)[field], sa.Float)
    assert rows(harness.url)["44"][field] == 8.75
    assert check_tables(harness.url, harness.sandbox.workspace, ["customers"]) == {}


def test_a_table_replicated_as_text_is_retyped_once_dropped_with_its_map(
    harness: Harness,
) -> None:
    """A target written before customers was typed keeps its text columns (a text column
    never types again, a full refresh keeps the recorded types) until the table and its
    rows of _cio_columns are dropped, as the README says; then a full refresh types it."""
    typed_people(harness)
    upgrade(harness.url)
    ws = harness.sandbox.workspace
    before = harness.target.table("customers", ("cio_id",), ("created_at",))  # untyped
    records = [customer_record(ws.customer(p)) for p in ws.iter_people()]
    with harness.target.begin() as conn:
        before.upsert(conn, before.prepare(records))
    assert harness.run(PEOPLE, full_refresh=True).status == "success"
    assert isinstance(sql_types(harness.url)["visits"], sa.String)
    with harness.target.begin() as conn:
        conn.execute(sa.text("DROP TABLE customers"))
        conn.execute(sa.text("DELETE FROM _cio_columns WHERE table_name = 'customers'"))
    assert harness.run(PEOPLE, full_refresh=True).status == "success"
    assert isinstance(sql_types(harness.url)["visits"], sa.BigInteger)
    assert rows(harness.url)["42"]["visits"] == 26
    assert check_tables(harness.url, ws, ["customers"]) == {}
