"""SIGKILL mid-run after deletes upstream: the rerun marks nothing deleted that still
exists (a resumed read has not seen the keys read before the kill); the run after it,
a complete read, marks exactly what is gone (issue 12, item 2).

``cio-replicate replicate`` runs as a subprocess (batch size 5, many commits) against
a sandbox of this test's own served on loopback, killed with SIGKILL
(``CIO_REPLICATE_CRASH``) at points spread over the run.
"""

from __future__ import annotations

import signal
from collections.abc import Iterator

import pytest

from cio_replicate.catalog import CATALOG
from cio_replicate.engine.deletes import tracks
from cio_replicate.sandbox import Sandbox
from cio_replicate.sandbox.rounds import deletes_round
from cio_replicate.sandbox.server import serve

from .conftest import replicate_subprocess
from .expected import actual, check_tables, expected

TRACKED = sorted({s.table for s in CATALOG if tracks(s) and s.default})  # deletes follow them
POINTS = ["commit:3", "write:9", "batch:20"]


@pytest.fixture
def served_alone() -> Iterator[tuple[Sandbox, str]]:
    sb = Sandbox("tiny", seed=1)
    server = serve(sb)
    yield sb, server.base_url
    server.shutdown()


def _wrongly_marked(url: str, sb: Sandbox) -> dict[str, set[tuple[str, ...]]]:
    """Rows marked deleted whose key the workspace still has."""
    wrong = {}
    for table in TRACKED:
        bad = set(actual(url, table, deleted=True)) & set(expected(sb.workspace, table))
        if bad:
            wrong[table] = bad
    return wrong


@pytest.mark.slow
@pytest.mark.parametrize("point", POINTS)
def test_kill_after_deletes_marks_nothing_that_exists(
    served_alone: tuple[Sandbox, str], db_url: str, point: str
) -> None:
    sb, base = served_alone
    first = replicate_subprocess(base, db_url)
    assert first.returncode == 0, first.stderr[-2000:]
    sb.clock.advance(60)
    gone = deletes_round(sb.workspace)
    killed = replicate_subprocess(base, db_url, point)
    assert killed.returncode == -signal.SIGKILL, (killed.returncode, killed.stderr[-2000:])
    assert _wrongly_marked(db_url, sb) == {}
    rerun = replicate_subprocess(base, db_url)
    assert rerun.returncode == 0, rerun.stderr[-2000:]
    assert _wrongly_marked(db_url, sb) == {}
    complete = replicate_subprocess(base, db_url)
    assert complete.returncode == 0, complete.stderr[-2000:]
    assert _wrongly_marked(db_url, sb) == {}
    assert check_tables(db_url, sb.workspace, TRACKED) == {}
    assert set(actual(db_url, "customers", deleted=True)) == {(gone.person_deleted,)}
    assert set(actual(db_url, "campaigns", deleted=True)) == {(str(gone.campaign_deleted),)}
    assert set(actual(db_url, "snippets", deleted=True)) == {(gone.snippet_deleted,)}
