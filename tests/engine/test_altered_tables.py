"""A replicated table altered by hand, end to end: the incremental run names the fix,
``--full-refresh`` applies it (the table equals the workspace again)."""

from __future__ import annotations

import sqlalchemy as sa

from cio_replicate import state

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
