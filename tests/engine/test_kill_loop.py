"""kill -9 loops interleaved with source changes end exact (issue 9, item 1).

``cio-replicate replicate`` runs as a subprocess against a sandbox served on
loopback (its clock at the sandbox's epoch, months behind ours, as with
``cio-replicate sandbox serve``), killed with SIGKILL at a different point
each time (``CIO_REPLICATE_CRASH``). Before and after every killed run the
source changes: new events, messages and newsletter messages for people and
newsletters early, midway and late in the listings, so some belong to parents
a killed run had already finished. Two clean runs later (the first finishes
the interrupted read, the second reads from its watermark) every table equals
the sandbox.
"""

from __future__ import annotations

import signal
from collections.abc import Iterator

import pytest

from cio_replicate.sandbox import Sandbox
from cio_replicate.sandbox.server import serve

from .conftest import replicate_subprocess
from .expected import check_tables

OBJECTS = ["CustomerActivities", "CustomerMessages", "NewsletterMessages"]
TABLES = ["customer_activities", "customer_messages", "newsletter_messages"]
POINTS = ["commit:4", "write:7", "batch:10", "commit:13"]
"""Batch size 5: every point is reached by each run (a fresh run commits 60+ batches)."""
GAP = 4000
"""Seconds between two changes: more than the lookback (3600), which alone would
re-read what a watermark that moved too far skipped."""


@pytest.fixture
def served_alone() -> Iterator[tuple[Sandbox, str]]:
    """A sandbox of this test's own: the test changes it."""
    sb = Sandbox("tiny", seed=1)
    server = serve(sb)
    yield sb, server.base_url
    server.shutdown()


def change_the_source(sb: Sandbox, step: int) -> None:
    """Events, messages and newsletter messages for early, middle and late parents,
    each later one a little newer (a resumed run reads the newest of them)."""
    ws = sb.workspace
    with ws.lock:
        people = list(ws.iter_people())
        campaign = next(s for s in ws.messages.sources if s.kind == "campaign")
        newsletters = [ws.sources_of("newsletter", n["id"])[0] for n in ws.records("newsletters")]
        for n, person in enumerate((people[0], people[len(people) // 2], people[-1])):
            sb.clock.advance(GAP)
            ws.add_activity(person, "event", "purchase", {"step": step, "n": n})
            ws.add_message(campaign, person)
            ws.add_message(newsletters[n % len(newsletters)], person)


@pytest.mark.slow
def test_kill_loop_with_source_changes_ends_exact(
    served_alone: tuple[Sandbox, str], db_url: str
) -> None:
    sb, base_url = served_alone
    for step, point in enumerate(POINTS):
        change_the_source(sb, 2 * step)
        killed = replicate_subprocess(base_url, db_url, point, OBJECTS)
        assert killed.returncode == -signal.SIGKILL, (point, killed.stderr[-2000:])
        change_the_source(sb, 2 * step + 1)
    for _ in range(2):
        clean = replicate_subprocess(base_url, db_url, None, OBJECTS)
        assert clean.returncode == 0, clean.stderr[-2000:]
    assert check_tables(db_url, sb.workspace, TABLES) == {}
    # One more run stays exact (nothing missing, nothing twice).
    again = replicate_subprocess(base_url, db_url, None, OBJECTS)
    assert again.returncode == 0, again.stderr[-2000:]
    assert check_tables(db_url, sb.workspace, TABLES) == {}
