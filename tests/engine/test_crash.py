"""SIGKILL at many points of a replication, then a rerun: the database ends equal to the sandbox.

The replication runs as a subprocess (``cio-replicate replicate``) on its own
in-process tiny sandbox (the same data as the test's ``Sandbox("tiny", seed=1)``); ``CIO_REPLICATE_CRASH=<event>:<n>`` makes it kill
itself with SIGKILL at the n-th ``batch`` (extracted, nothing written),
``write`` (rows and state written, transaction open) or ``commit``. The kill
points are spread over every batch of the default objects (batch size 5, so
people, messages and memberships commit many times).
"""

from __future__ import annotations

import io
import signal
from pathlib import Path

import pytest
import sqlalchemy as sa

from cio_replicate.engine import CrashPoints, Progress, RunOptions, Services, replicate
from cio_replicate.load import Target
from cio_replicate.sandbox import Sandbox

from .conftest import BATCH, EMBEDDED, client_for, replicate_subprocess
from .expected import DEFAULT_TABLES, check_tables


def _events(sb: Sandbox, url: str) -> dict[str, int]:
    """How often a whole run reaches each event (run in-process on a scratch target)."""

    client = client_for(sb)
    target = Target(url, clock=sb.clock)
    crash = CrashPoints()
    svc = Services(client=client, requests=client.log, target=target, clock=sb.clock,
                   progress=Progress(io.StringIO(), live=False), batch_size=BATCH, crash=crash)  # fmt: skip
    try:
        assert replicate(svc, RunOptions()).status == "success"
    finally:
        client.close()
        target.dispose()
    return dict(crash.seen)


def kill_points(counts: dict[str, int], how_many: int) -> list[str]:
    """``how_many`` points spread over the run, cycling through the three events."""
    points = []
    events = ["commit", "write", "batch"]
    for i in range(how_many):
        event = events[i % 3]
        total = counts[event]
        points.append(f"{event}:{1 + (i * total) // how_many}")
    return points


def _kill_and_rerun(url: str, point: str) -> None:
    killed = replicate_subprocess(EMBEDDED, url, point)
    assert killed.returncode == -signal.SIGKILL, (point, killed.returncode, killed.stderr[-2000:])
    rerun = replicate_subprocess(EMBEDDED, url)
    assert rerun.returncode == 0, (point, rerun.stderr[-2000:])
    assert check_tables(url, Sandbox("tiny", seed=1).workspace, DEFAULT_TABLES) == {}, point


def test_kill_points_cover_every_object(tmp_path: Path) -> None:
    counts = _events(Sandbox("tiny", seed=1), f"sqlite:///{tmp_path}/count.db")
    assert counts["commit"] >= 40  # enough batches to spread 24 kill points over
    assert len(kill_points(counts, 24)) == len(set(kill_points(counts, 24)))


@pytest.mark.slow
def test_sigkill_at_24_points_then_rerun_is_exact_sqlite(tmp_path: Path) -> None:
    counts = _events(Sandbox("tiny", seed=1), f"sqlite:///{tmp_path}/count.db")
    for i, point in enumerate(kill_points(counts, 24)):
        _kill_and_rerun(f"sqlite:///{tmp_path}/kill{i}.db", point)


@pytest.mark.slow
@pytest.mark.parametrize("db", [pytest.param("postgres", marks=pytest.mark.postgres),
                                pytest.param("mysql", marks=pytest.mark.mysql)])  # fmt: skip
def test_sigkill_then_rerun_is_exact_server_databases(
    tmp_path: Path, db: str, request: pytest.FixtureRequest
) -> None:
    counts = _events(Sandbox("tiny", seed=1), f"sqlite:///{tmp_path}/count.db")
    url = str(request.getfixturevalue(f"{db}_url"))
    for point in kill_points(counts, 3):
        _wipe(url)
        _kill_and_rerun(url, point)


def _wipe(url: str) -> None:
    """Drop every table: the next point starts from an empty database."""
    engine = sa.create_engine(url)
    try:
        meta = sa.MetaData()
        meta.reflect(engine)
        meta.drop_all(engine)
    finally:
        engine.dispose()
