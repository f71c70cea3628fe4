"""Hostile attribute names, fields appearing mid-life and fields changing type load with
nothing lost, on every database."""

from __future__ import annotations

import sqlalchemy as sa

from cio_replicate.sandbox.people import LONG_NAME

from .conftest import Harness
from .expected import check_tables

HOSTILE = ['nick"name', "Favorite Color", "address.city", "LifetimeValue", "lifetimevalue",
           "名前 (ユニコード)", "select", LONG_NAME, "loyalty_tier"]  # fmt: skip
LIMIT = {"sqlite": 10_000, "postgresql": 63, "mysql": 64, "mariadb": 64}


def _columns(url: str, table: str) -> dict[str, str]:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                sa.text("SELECT api_name, column_name FROM _cio_columns WHERE table_name = :t"),
                {"t": table},
            ).all()
            dialect = conn.dialect.name
    finally:
        engine.dispose()
    mapping = {str(a): str(c) for a, c in rows}
    longest = max(len(c.encode()) if dialect == "postgresql" else len(c) for c in mapping.values())
    assert longest <= LIMIT[dialect]
    return mapping


def test_hostile_names_and_changing_fields(harness: Harness) -> None:
    h = harness
    h.batch_size = 5  # new fields arrive in later batches of the same run
    ws = h.sandbox.workspace
    assert h.run(["Customers", "Campaigns", "Objects"]).status == "success"
    columns = _columns(h.url, "customers")
    assert set(HOSTILE) <= set(columns)
    assert len({c.lower() for c in columns.values()}) == len(columns)  # no collision

    h.sandbox.clock.advance(60)
    first, second = ws.records("campaigns")[:2]
    ws.update_record("campaigns", first["id"], {
        "active": "sometimes",  # bool -> text
        "first_started": "soon",  # a timestamp field that is no time
        "appears now": {"nested": [1, "two", None]},  # a new field, JSON
    })  # fmt: skip
    ws.update_record("campaigns", second["id"], {"actions": "none"})  # JSON -> text
    ws.put_object("1", "company-1", {"seats": 12.5, "Brand-new (ü)": True})
    ws.create_person(id="late", email="late@example.com", attributes={"late.attr": "v"})
    assert h.run(["Customers", "Campaigns", "Objects"]).status == "success"

    assert "appears now" in _columns(h.url, "campaigns")
    assert "Brand-new (ü)" in _columns(h.url, "objects")
    assert "late.attr" in _columns(h.url, "customers")
    assert check_tables(h.url, ws, ["customers", "campaigns", "objects"]) == {}
