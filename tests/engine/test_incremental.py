"""Incremental runs: updated rows updated, new rows in, append-only rows untouched,
message requests starting from the watermark, and nothing written when nothing changed."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from cio_replicate.catalog import CATALOG

from .conftest import Harness
from .expected import TABLES, actual, check_tables, differences, expected


def _mutate(h: Harness) -> dict[str, Any]:
    """Changes of every kind; returns what the append-only tables must keep."""
    ws = h.sandbox.workspace
    h.sandbox.clock.advance(120)
    campaign = ws.records("campaigns")[0]
    action = ws.campaign_actions(campaign["id"])[0]
    newsletter = ws.records("newsletters")[0]
    collection = ws.records("collections")[0]
    ws.update_record("campaigns", campaign["id"], {"name": "Renamed ✓"})
    ws.update_record("campaign_actions", action["id"], {"subject": "New subject"})
    ws.update_record("newsletters", newsletter["id"], {"name": "Renamed newsletter"})
    ws.update_collection(collection["id"], name="renamed_collection")
    ws.put_snippet("Legal Text", "changed value")
    ws.put_snippet("brand new snippet", "hello")
    person = ws.create_person(id="new-person-1", email="new1@example.com",
                              attributes={"plan": "pro", "brand_new_attr": "x"})  # fmt: skip
    old = ws.messages.get(0)
    ws.set_message_metric(old["id"], "clicked")
    sources = {s.kind: s for s in ws.messages.sources}
    ws.add_message(sources["campaign"], person)
    ws.add_message(sources["newsletter"], person)
    return {"old_message": old}


def _watermark(url: str, name: str) -> int | None:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            value = conn.execute(
                sa.text("SELECT watermark FROM _cio_state WHERE object_name = :n"), {"n": name}
            ).scalar()
    finally:
        engine.dispose()
    return None if value is None else int(value)


def test_incremental_run_after_mutations(harness: Harness) -> None:
    h = harness
    ws = h.sandbox.workspace
    first = h.run(["all"])
    assert first.status == "success"
    watermark = _watermark(h.url, "Messages")
    assert watermark is not None
    kept = _mutate(h)
    seen = len(h.sandbox.requests)

    second = h.run(["all"])
    assert second.status == "success"
    by_name = {r.name: r for r in second.results}
    assert by_name["Campaigns"].updated == 1 and by_name["Campaigns"].inserted == 0
    assert by_name["CampaignActions"].updated == 1
    assert by_name["Newsletters"].updated == 1
    assert by_name["Collections"].updated == 1
    assert (by_name["Snippets"].inserted, by_name["Snippets"].updated) == (1, 1)
    assert by_name["Customers"].inserted == 1
    assert by_name["Messages"].inserted == 2 and by_name["Messages"].updated == 0

    # Messages asked only from the watermark on, less the lookback (late-listed records),
    # or from the start of the metrics window (later opens and clicks) when that is older.
    message_calls = [r for r in h.sandbox.requests[seen:] if r.path == "/v1/messages"]
    floor = min(watermark - h.lookback, h.sandbox.clock.now() - h.metrics_lookback)
    assert message_calls and all(int(r.query["start_ts"]) == floor for r in message_calls)
    # People were read once: the CustomersAttributes pass fed Customers its new person.
    customers_attr_calls = [
        r for r in h.sandbox.requests[seen:] if r.path == "/v1/customers/attributes"
    ]
    people = len(list(ws.iter_people()))
    assert len(customers_attr_calls) == -(-people // 100)
    assert by_name["Customers"].api_calls == 0

    # Every incremental and full table is exactly the sandbox now.
    append_tables = {spec.table for spec in CATALOG if spec.mode == "append"}
    assert check_tables(h.url, ws, set(TABLES) - append_tables) == {}
    # Append-only: new rows in, the old message keeps the metrics it was loaded with.
    want = expected(ws, "messages")
    old = kept["old_message"]
    want[(old["id"],)] = old
    assert differences(want, actual(h.url, "messages")) == []
    assert "clicked" in ws.messages.get(0)["metrics"] and "clicked" not in old["metrics"]
    for table in append_tables - {"messages", "customers"}:
        got = actual(h.url, table)
        assert set(expected(ws, table)) == set(got), table

    # Customers alone: only the new person costs an attribute call.
    h.sandbox.clock.advance(60)
    ws.create_person(id="new-person-2", email="new2@example.com", attributes={"plan": "x"})
    seen = len(h.sandbox.requests)
    alone = h.run(["Customers"])
    assert alone.status == "success" and alone.results[0].inserted == 1
    attr_calls = [r for r in h.sandbox.requests[seen:] if r.path == "/v1/customers/attributes"]
    assert [r.body for r in attr_calls] == [{"ids": ["a" + f"{ws.people.total:07x}"]}]


def _snapshot(url: str) -> dict[str, list[tuple[Any, ...]]]:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            tables = [t for t in sa.inspect(conn).get_table_names() if not t.startswith("_cio")]
            tables.append("_cio_columns")
            meta = sa.MetaData()
            return {
                t: sorted(
                    tuple(map(repr, row))
                    for row in conn.execute(sa.select(sa.Table(t, meta, autoload_with=conn)))
                )
                for t in tables
            }
    finally:
        engine.dispose()


def test_second_run_without_changes_writes_nothing(harness: Harness) -> None:
    h = harness
    h.run(["all"])
    before = _snapshot(h.url)
    h.sandbox.clock.advance(600)  # a rewritten row would get a new _cio_synced_at
    again = h.run(["all"])
    assert again.status == "success"
    written = {r.name: (r.inserted, r.updated, r.deleted) for r in again.results}
    assert all(counts == (0, 0, 0) for counts in written.values()), written
    after = _snapshot(h.url)
    for table in before:  # full-refresh tables included: no swap without a change
        assert after[table] == before[table], table
    # Each object's row count (what `status` shows) is still the table's.
    engine = sa.create_engine(h.url)
    try:
        with engine.connect() as conn:
            totals = dict(
                conn.execute(sa.text("SELECT object_name, rows_total FROM _cio_state")).all()
            )
    finally:
        engine.dispose()
    for spec in CATALOG:
        # (no deleted people in the sandbox: DeletedPeopleActivities has no rows, no table)
        assert totals[spec.name] == len(after.get(spec.table, [])), spec.name


def test_watermark_never_passes_the_run_start(harness: Harness) -> None:
    """A record stamped ahead of our clock does not drag the watermark into the future."""
    h = harness
    ws = h.sandbox.workspace
    campaign = ws.records("campaigns")[0]
    campaign["updated"] = ws.now() + 86_400  # the source's clock is a day ahead
    assert h.run(["Campaigns"]).status == "success"
    assert _watermark(h.url, "Campaigns") == ws.now()
    assert check_tables(h.url, ws, ["campaigns"]) == {}
