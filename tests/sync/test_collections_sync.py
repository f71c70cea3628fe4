"""``sync Collections`` against the sandbox, on SQLite, PostgreSQL and MariaDB: each
arrow (table -> Customer.io, Customer.io -> table), conflicts, the dry run, partial
failures, and a run with nothing to do that sends no write."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from cio_replicate.errors import UsageError
from cio_replicate.load import Target
from cio_replicate.sandbox import Sandbox
from cio_replicate.sync import sync_collections

from ..engine.conftest import Harness, client_for
from .conftest import Synced

ZURICH = [{"city": "Zürich", "note": "Grüße — “quoted” ✨", "n": 1}, {"city": "東京", "n": 2}]


def test_a_sync_with_no_change_on_either_side_sends_no_write(synced: Synced) -> None:
    mark = len(synced.sb.requests)
    report = synced.sync()
    assert report.counts() == {} and report.failures == [] and report.conflicts == []
    assert synced.writes_since(mark) == []
    # and it fetched no collection's data (nothing's updated_at moved)
    assert [r.path for r in synced.sb.requests[mark:]] == ["/v1/collections"]


def test_a_row_inserted_in_the_table_is_created_and_gets_its_id(synced: Synced) -> None:
    before = set(synced.remote())
    synced.sql("INSERT INTO collections (name, data) VALUES ('stores', :d)", d=json.dumps(ZURICH))
    mark = len(synced.sb.requests)
    report = synced.sync()
    assert report.counts() == {"create_to_cio": 1}, report.failures
    posts = synced.writes_since(mark)
    assert [(r.method, r.path) for r in posts] == [("POST", "/v1/collections")]
    (new_id,) = set(synced.remote()) - before
    assert synced.remote()[new_id] == ("stores", ZURICH)
    rows = synced.rows()
    assert None not in rows and rows[new_id] == ("stores", ZURICH)
    # the row is completed as replication writes it (rows, updated_at); the API's "rows"
    # is the column rows_ (a reserved word in MySQL, see column_names in the README)
    with synced.target.connect() as conn:
        query = sa.select(sa.column("rows_")).select_from(sa.table("collections"))
        got = conn.execute(query.where(sa.column("id") == new_id)).scalar()
    assert got == 2
    mark = len(synced.sb.requests)
    assert synced.sync().counts() == {}
    assert synced.writes_since(mark) == []


def test_a_row_changed_in_the_table_is_updated_in_customerio(synced: Synced) -> None:
    synced.sql(
        "UPDATE collections SET name = 'products_2026', data = :d WHERE id = 1",
        d=json.dumps({"currency": "€", "rate": 1.5}),
    )
    mark = len(synced.sb.requests)
    assert synced.sync().counts() == {"update_to_cio": 1}
    assert [(r.method, r.path) for r in synced.writes_since(mark)] == [("PUT", "/v1/collections/1")]
    assert synced.remote()[1] == ("products_2026", {"currency": "€", "rate": 1.5})
    mark = len(synced.sb.requests)
    assert synced.sync().counts() == {}
    assert synced.writes_since(mark) == []


def test_a_row_deleted_from_the_table_is_deleted_in_customerio(synced: Synced) -> None:
    synced.sql("DELETE FROM collections WHERE id = 3")
    mark = len(synced.sb.requests)
    assert synced.sync().counts() == {"delete_to_cio": 1}
    assert [(r.method, r.path) for r in synced.writes_since(mark)] == [
        ("DELETE", "/v1/collections/3")
    ]
    assert 3 not in synced.remote() and 1 in synced.remote()
    assert synced.sync().counts() == {}


def test_customerio_creates_changes_and_deletes_reach_the_table(synced: Synced) -> None:
    ws = synced.sb.workspace
    synced.sb.clock.advance(60)
    made = ws.create_collection("coupons", [{"code": "ÉTÉ-2026", "off": 10}])
    ws.update_collection(1, data=[{"sku": "Ω-1"}])
    ws.delete_collection(3)
    mark = len(synced.sb.requests)
    report = synced.sync()
    assert report.counts() == {"create_to_table": 1, "update_to_table": 1, "delete_to_table": 1}
    assert synced.writes_since(mark) == []  # nothing written to Customer.io
    contents = sorted(r.path for r in synced.sb.requests[mark:] if r.path.endswith("/content"))
    wanted = [f"/v1/collections/{made['id']}/content", "/v1/collections/1/content"]
    assert contents == sorted(wanted)
    assert synced.rows() == synced.remote()
    assert synced.sync().counts() == {}


def test_a_conflict_with_prefer_source_keeps_customerio(synced: Synced) -> None:
    synced.sql("UPDATE collections SET data = :d WHERE id = 1", d=json.dumps([{"from": "db"}]))
    synced.sb.workspace.update_collection(1, data=[{"from": "cio"}])
    mark = len(synced.sb.requests)
    report = synced.sync(prefer="source")
    assert [(c.id, c.winner) for c in report.conflicts] == [(1, "source")]
    assert synced.writes_since(mark) == []
    assert synced.rows()[1][1] == [{"from": "cio"}] == synced.remote()[1][1]
    assert synced.sync().counts() == {}


def test_a_conflict_with_prefer_target_keeps_the_table(synced: Synced) -> None:
    synced.sql("UPDATE collections SET data = :d WHERE id = 1", d=json.dumps([{"from": "db"}]))
    synced.sb.workspace.update_collection(1, data=[{"from": "cio"}])
    report = synced.sync(prefer="target")
    assert [(c.id, c.winner) for c in report.conflicts] == [(1, "target")]
    assert synced.rows()[1][1] == [{"from": "db"}] == synced.remote()[1][1]
    assert synced.sync().counts() == {}


def test_a_conflict_by_default_goes_to_the_newer_change(synced: Synced) -> None:
    clock = synced.sb.clock
    # Customer.io changed first, the table later (a sync sees it now): the table wins.
    synced.sb.workspace.update_collection(1, data=[{"v": "cio, older"}])
    clock.advance(100)
    synced.sql("UPDATE collections SET data = :d WHERE id = 1", d=json.dumps([{"v": "db"}]))
    report = synced.sync()
    assert [(c.id, c.winner) for c in report.conflicts] == [(1, "target")]
    assert synced.remote()[1][1] == [{"v": "db"}]
    # The table changed, a sync saw it but could not send it (refused: a row over
    # 10 KB), then Customer.io changed: Customer.io's change is the newer one.
    big = [{"blob": "x" * 11_000}]
    synced.sql("UPDATE collections SET data = :d WHERE id = 3", d=json.dumps(big))
    failed = synced.sync()
    assert len(failed.failures) == 1 and "10 KB" in failed.failures[0]
    clock.advance(100)
    synced.sb.workspace.update_collection(3, data=[{"v": "cio, newer"}])
    report = synced.sync()
    assert [(c.id, c.winner) for c in report.conflicts] == [(3, "source")]
    assert synced.rows()[3][1] == [{"v": "cio, newer"}] == synced.remote()[3][1]
    assert report.failures == []


def test_the_dry_run_prints_the_plan_and_changes_nothing(synced: Synced) -> None:
    synced.sql("INSERT INTO collections (name, data) VALUES ('new', '[{\"a\": 1}]')")
    synced.sql("UPDATE collections SET name = 'renamed' WHERE id = 1")
    synced.sb.workspace.delete_collection(3)
    rows, remote = synced.rows(), synced.remote()
    mark = len(synced.sb.requests)
    report = synced.sync(dry_run=True)
    assert report.counts() == {"create_to_cio": 1, "update_to_cio": 1, "delete_to_table": 1}
    assert synced.writes_since(mark) == []
    assert synced.rows() == rows and synced.remote() == remote
    # the real run does what the plan said
    assert synced.sync().counts() == report.counts()
    assert synced.rows() == synced.remote()


def test_one_refused_collection_leaves_the_others_synced_and_is_retried(synced: Synced) -> None:
    synced.sql(
        "UPDATE collections SET data = :d WHERE id = 1", d=json.dumps([{"blob": "x" * 11_000}])
    )
    synced.sql("UPDATE collections SET name = 'stores_eu' WHERE id = 3")
    report = synced.sync()
    assert report.counts() == {"update_to_cio": 1}
    assert len(report.failures) == 1 and "#1" in report.failures[0]
    assert synced.remote()[3][0] == "stores_eu"
    # still pending: the next run sends it again (refused again), then the fix goes
    mark = len(synced.sb.requests)
    assert len(synced.sync().failures) == 1
    assert [(r.method, r.path, r.status) for r in synced.writes_since(mark)] == [
        ("PUT", "/v1/collections/1", 400)
    ]
    synced.sql("UPDATE collections SET data = :d WHERE id = 1", d=json.dumps([{"ok": True}]))
    assert synced.sync().counts() == {"update_to_cio": 1}
    assert synced.remote()[1][1] == [{"ok": True}]


def test_ten_thousand_rows_of_non_ascii_data_both_ways(synced: Synced) -> None:
    rows = [
        {"sku": f"Ω-{i}", "name": f"Grüße №{i} 東京 ✨", "price": i + 0.5} for i in range(10_000)
    ]
    synced.sql("INSERT INTO collections (name, data) VALUES ('big', :d)", d=json.dumps(rows))
    assert synced.sync().counts() == {"create_to_cio": 1}
    (cid,) = [c for c, (name, _) in synced.remote().items() if name == "big"]
    assert synced.remote()[cid][1] == rows
    back = [{**r, "price": r["price"] + 1} for r in reversed(rows)]
    synced.sb.workspace.update_collection(cid, data=back)
    assert synced.sync().counts() == {"update_to_table": 1}
    assert synced.rows()[cid] == ("big", back)
    mark = len(synced.sb.requests)
    assert synced.sync().counts() == {}
    assert synced.writes_since(mark) == []


def test_replicate_leaves_a_synced_table_to_sync_so_table_edits_are_not_lost(
    synced: Synced,
) -> None:
    synced.sb.workspace.update_collection(1, data=[{"v": "cio"}])  # updated_at: now
    assert synced.sync().counts() == {"update_to_table": 1}
    synced.sql("UPDATE collections SET data = :d WHERE id = 1", d=json.dumps([{"v": "db"}]))
    report = synced.harness.run(["Collections"])  # within the lookback of collection 1
    (result,) = report.results
    assert result.status == "skipped" and "sync Collections" in (result.message or "")
    assert synced.rows()[1][1] == [{"v": "db"}]
    assert synced.sync().counts() == {"update_to_cio": 1}
    assert synced.remote()[1][1] == [{"v": "db"}]


def test_a_table_made_with_a_primary_key_is_refused_until_rebuilt(db_url: str) -> None:
    sb = Sandbox("tiny", seed=1)
    client = client_for(sb)
    with Target(db_url, clock=sb.clock) as target:
        harness = Harness(sb, db_url, client, target)
        harness.run(["Segments"])  # the tool's tables
        old = target.table("collections", ("id",), ("created_at", "updated_at"))
        with target.begin() as conn:  # as an older version made it: id NOT NULL
            old.upsert(conn, old.prepare(sb.workspace.records("collections")))
        with pytest.raises(UsageError, match="--full-refresh"):
            sync_collections(client, target, sb.clock)
        harness.run(["Collections"], full_refresh=True)
        sync_collections(client, target, sb.clock)
        with target.begin() as conn:
            conn.execute(sa.text("INSERT INTO collections (name, data) VALUES ('n', '{}')"))
        report = sync_collections(client, target, sb.clock)
        assert report.counts() == {"create_to_cio": 1}
    client.close()


def test_a_first_sync_takes_the_replicated_table_as_the_common_past(db_url: str) -> None:
    """Edits and deletes made after a replication, before any sync, are the table's
    changes (no conflict); a collection created in Customer.io after it comes in."""
    sb = Sandbox("tiny", seed=1)
    client = client_for(sb)
    with Target(db_url, clock=sb.clock) as target:
        Harness(sb, db_url, client, target).run(["Collections"])
        with target.begin() as conn:
            conn.execute(sa.text("UPDATE collections SET name = 'renamed' WHERE id = 1"))
            conn.execute(sa.text("DELETE FROM collections WHERE id = 3"))
        sb.clock.advance(60)
        made = sb.workspace.create_collection("later", [{"a": 1}])
        report = sync_collections(client, target, sb.clock)
        assert report.conflicts == []
        assert report.counts() == {"update_to_cio": 1, "delete_to_cio": 1, "create_to_table": 1}
        names = {c["id"]: c["name"] for c in sb.workspace.records("collections")}
        assert names == {1: "renamed", made["id"]: "later"}
    client.close()
