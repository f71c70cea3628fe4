"""Two overlapping runs on one target: both end correct, the second says what it skipped.

Run A stops after its 3rd commit (holding that object's lock; objects run
side by side, so which object that is depends on timing) until the test lets
it go; run B starts meanwhile, skips the objects A holds with a message
naming run A's process, replicates everything else, and exits. Then A
finishes. The database equals the sandbox.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from cio_replicate.sandbox import Sandbox

from .conftest import EMBEDDED, Harness, replicate_subprocess, subprocess_env
from .expected import DEFAULT_TABLES, check_tables


def _overlap(url: str, tmp_path: Path) -> None:
    base_url = EMBEDDED  # each run serves itself the same tiny workspace
    go = tmp_path / "go"
    env = subprocess_env(base_url, url, None)
    env["CIO_REPLICATE_PAUSE"] = f"commit:3:{go}"
    first = subprocess.Popen(
        [sys.executable, "-m", "cio_replicate", "replicate"],
        env=env,
        stderr=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert first.stderr is not None
        for line in first.stderr:
            if line.startswith("paused at commit:3"):
                break
        else:
            pytest.fail("the first run never paused")
        second = replicate_subprocess(base_url, url)
        assert second.returncode == 0, second.stderr[-2000:]
        holder = re.compile(rf"^\s*(\w+): skipped: run \S+ \(pid {first.pid} on .*is working on it")
        skipped = [m.group(1) for ln in second.stdout.splitlines() if (m := holder.match(ln))]
        assert skipped, second.stdout[-3000:]
        table = [ln.split() for ln in second.stdout.splitlines()]
        statuses = {row[0]: row[2] for row in table if len(row) > 2 and row[0] in skipped}
        assert set(statuses.values()) == {"skipped"}, statuses
    finally:
        go.touch()
        out, err = first.communicate(timeout=300)
    assert first.returncode == 0, err[-2000:]
    assert "skipped" not in out
    assert check_tables(url, Sandbox("tiny", seed=1).workspace, DEFAULT_TABLES) == {}


def test_overlapping_runs_end_correct(db_url: str, tmp_path: Path) -> None:
    _overlap(db_url, tmp_path)


def test_lock_wait_then_skip_in_process(harness: Harness) -> None:
    """The lock itself: a run finding an object locked skips it and names the holder."""
    from cio_replicate import state

    harness.run(["Campaigns"])
    held = state.try_lock(harness.target.engine, "Campaigns", "other-run")
    assert held is not None
    try:
        report = harness.run(["Campaigns", "Segments"], lock_wait=0.2)
    finally:
        held.release()
    by_name = {r.name: r for r in report.results}
    assert by_name["Campaigns"].status == "skipped"
    assert "other-run" in (by_name["Campaigns"].message or "")
    assert by_name["Segments"].status == "success"
    assert report.status == "success"
