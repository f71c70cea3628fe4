"""A replicated table altered by hand, end to end: the incremental run names the fix,
``--full-refresh`` applies it (the table equals the workspace again)."""

from __future__ import annotations

import io

import pytest
import sqlalchemy as sa

from cio_replicate import state
from cio_replicate.engine import Progress, RunOptions, Services, replicate

from .conftest import Harness
from .expected import check_tables


def test_full_refresh_repairs_a_table_altered_by_hand(harness: Harness) -> None:
    assert harness.run(["Campaigns", "Segments"]).status == "success"
    target = harness.target
    q = target.sql.quote
    with target.begin() as conn:
        target.sql.execute(conn, f"ALTER TABLE {q('campaigns')} DROP COLUMN {q('name')}")
    with target.connect() as conn:
        before = state.load_state(conn, "Campaigns").watermark

    report = harness.run(["Campaigns", "Segments"])
    by_name = {r.name: r for r in report.results}
    assert by_name["Segments"].status == "success" and report.status == "partial"
    assert by_name["Campaigns"].status == "failed"
    assert by_name["Campaigns"].message == (
        "table campaigns was altered outside cio-replicate: column name is missing; "
        "run `cio-replicate replicate Campaigns --full-refresh` to rebuild it"
    )
    with target.connect() as conn:
        assert state.load_state(conn, "Campaigns").watermark == before

    repaired = harness.run(["Campaigns"], full_refresh=True)
    assert repaired.status == "success", repaired.results
    assert check_tables(harness.url, harness.sandbox.workspace, ["campaigns"]) == {}
    with target.connect() as conn:
        assert "name" in {c["name"] for c in sa.inspect(conn).get_columns("campaigns")}
    assert harness.run(["Campaigns"]).status == "success"


def test_a_full_refresh_behind_a_long_reader_fails_the_object_cleanly(harness: Harness) -> None:
    """The swap gives up (swap_lock_timeout per try): the object fails with the reason, the
    old table and its watermark stay, no stage is left; the other object commits."""
    target = harness.target
    if target.dialect.name == "sqlite":
        pytest.skip("SQLite: WAL readers never block the swap")
    assert harness.run(["Campaigns"]).status == "success"
    with target.begin() as conn:  # a row gone: the refresh has something to swap in
        conn.execute(sa.text("DELETE FROM campaigns WHERE id = (SELECT MIN(id) FROM campaigns)"))
    with target.connect() as conn:
        watermark = state.load_state(conn, "Campaigns").watermark
        rows = conn.execute(sa.text("SELECT COUNT(*) FROM campaigns")).scalar_one()
    assert watermark is not None
    reader = target.engine.connect()  # a report's transaction, left open
    reader.begin()
    reader.execute(sa.text("SELECT COUNT(*) FROM campaigns"))
    try:
        svc = Services(
            client=harness.client,
            requests=harness.client.log,
            target=target,
            clock=harness.sandbox.clock,
            progress=Progress(io.StringIO(), live=False),
            sleep=lambda seconds: None,
            swap_lock_timeout=1.0,
        )
        report = replicate(svc, RunOptions(objects=["Campaigns", "Segments"], full_refresh=True))
    finally:
        reader.rollback()
        reader.close()
    by_name = {r.name: r for r in report.results}
    assert report.status == "partial" and by_name["Segments"].status == "success"
    assert by_name["Campaigns"].status == "failed"
    assert (by_name["Campaigns"].message or "").startswith(
        "could not swap in the rebuilt table campaigns: other sessions kept using it"
    )
    with target.connect() as conn:
        assert state.load_state(conn, "Campaigns").watermark == watermark
        assert conn.execute(sa.text("SELECT COUNT(*) FROM campaigns")).scalar_one() == rows
    assert [n for n in sa.inspect(target.engine).get_table_names() if "__cio_new" in n] == []
