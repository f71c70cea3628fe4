"""A NUL in a person's attribute (value and name) and inside a campaign's JSON does not
fail the object on any database, on the first run or on any later one."""

from __future__ import annotations

import sqlalchemy as sa

from .conftest import Harness


def test_nul_from_the_api_loads_and_reloads(harness: Harness) -> None:
    h = harness
    ws = h.sandbox.workspace
    ws.create_person(id="nul-1", email="nul@example.com",
                     attributes={"bio": "line\x00end", "we\x00ird": "v"})  # fmt: skip
    campaign = ws.records("campaigns")[0]
    ws.update_record("campaigns", campaign["id"], {"tags": ["a\x00b"], "meta": {"k\x00": "\x00"}})
    first = h.run(["Customers", "Campaigns"])
    assert first.status == "success", [r.message for r in first.failed]

    nul = "\ufffd" if h.target.dialect.name == "postgresql" else "\x00"
    engine = sa.create_engine(h.url)
    try:
        with engine.connect() as conn:
            names = dict(conn.execute(sa.text(
                "SELECT api_name, column_name FROM _cio_columns WHERE table_name = 'customers'"
            )).all())  # fmt: skip
            weird = names[f"we{nul}ird"]
            people = sa.table("customers", sa.column("id"), sa.column("bio"), sa.column(weird))
            row = conn.execute(sa.select(people).where(people.c.id == "nul-1")).one()
            assert row.bio == f"line{nul}end" and row[2] == "v"
    finally:
        engine.dispose()
    table = h.target.table("campaigns", ("id",))
    with h.target.connect() as conn:
        t = table.sa_table()
        stored = conn.execute(sa.select(t.c.tags, t.c.meta).where(t.c.id == campaign["id"])).one()
    assert stored.tags == [f"a{nul}b"] and stored.meta == {f"k{nul}": nul}

    h.sandbox.clock.advance(60)
    again = h.run(["Customers", "Campaigns"])
    assert again.status == "success", [r.message for r in again.failed]
    assert sum(r.updated for r in again.results) == 0
