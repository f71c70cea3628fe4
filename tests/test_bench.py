"""The benchmark command: a smoke run on the tiny workspace into SQLite.

No assertion here is about time: only that the command runs, measures what
it says and writes a BENCHMARKS.md-formatted report. The API yardstick and
the path classifier are checked against hand-computed values.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from cio_replicate.bench.apimin import OTHER, Counts, classify, minimum, minimum_unchanged
from cio_replicate.bench.proc import run_child
from cio_replicate.bench.report import NOTES_HEADING
from cio_replicate.sandbox import Sandbox

ROOT = Path(__file__).resolve().parent.parent


def _row(text: str, first_cell: str) -> list[str]:
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.startswith("|") and cells[0] == first_cell:
            return cells
    raise AssertionError(f"no table row starting with {first_cell!r}")


def test_tiny_run_writes_a_benchmarks_report(tmp_path: Path) -> None:
    (tmp_path / "BENCHMARKS.md").write_text(
        f"# old\n\n{NOTES_HEADING}\n\n- hand-written note kept across runs\n"
    )
    done = subprocess.run(
        [sys.executable, "-m", "cio_replicate.bench", "--scale", "tiny", "--databases", "sqlite"]
        + ["--only", "load,e2e,api,incremental,memory", "--load-rows", "200", "--repeat", "1"]
        + ["--window-scale", "tiny"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    text = (tmp_path / "BENCHMARKS.md").read_text()
    assert text == done.stdout.rstrip("\n") + "\n"  # the printed table is the file
    assert text.startswith("# Benchmarks\n")
    for heading in ("## Machine", "### Goals", "### 1. End to end (tiny)", "### 2. Load path"):
        assert heading in text
    assert "python -m cio_replicate.bench --scale tiny" in text
    assert re.search(r"^- CPU: .+, \d+ cores; RAM [\d.]+ GiB", text, re.M)
    assert "- hand-written note kept across runs" in text  # the notes section survives
    assert "FAILED" not in text

    ws = Sandbox("tiny").workspace
    assert _row(text, "Messages")[1] == f"{ws.messages.total:,}"
    assert _row(text, "Customers")[1] == f"{ws.people.count():,}"
    load = _row(text, "SQLite")
    assert load[1].startswith("messages") and load[2] == "200"
    total = _row(text, "**Total**")  # API efficiency: calls made next to the minimum
    assert int(total[4].strip("*").replace(",", "")) > 0
    no_change = _row(text, "SQLite")
    assert no_change
    incremental = [line for line in text.splitlines() if line.startswith("| SQLite | no change")]
    assert incremental and incremental[0].split("|")[5].strip() == "0"  # rows written
    # The metrics window's cost, next to the no-change figures (tiny: window off and on).
    assert re.search(r"^Metrics window, tiny workspace .+: off [\d,]+ calls; 1 day ", text, re.M)
    goals = text.split("### Goals", 1)[1].split("###", 1)[0]
    assert goals.count("| met |") + goals.count("| NOT met |") >= 4


def test_minimum_calls_follow_the_documented_page_maxima() -> None:
    counts = Counts(
        people=2_500,
        messages=1_001,
        activities=100,
        segment_members=(0, 30_001),
        campaign_actions=(12, 0),
        actions_page=10,
        broadcast_messages=(0, 250),
        newsletters=101,
        newsletter_messages=(5,),
        transactional_deliveries=(100, 101),
        senders=3,
        objects_per_type=(150, 2),
    )
    least = minimum(counts)
    assert least["people"] == 3 + 25  # ceil(2500/1000) searches + ceil(2500/100) batches
    assert least["messages"] == 2
    assert least["activities"] == 1
    assert least["segment membership"] == 1 + 2
    assert least["campaign actions"] == 2 + 1
    assert least["broadcast messages"] == 1 + 3
    assert least["broadcast actions"] == least["broadcast triggers"] == 2
    assert least["newsletters"] == 2
    assert least["transactional deliveries"] == 1 + 2
    assert least["objects"] == (2 + 1) + 152  # search pages per type + one call per object
    again = minimum_unchanged(counts)
    assert again["messages"] == 1 and again["broadcast messages"] == 2
    assert again["people"] == least["people"]


def test_calls_are_classified_by_path() -> None:
    assert classify("GET", "/v1/objects/1/company ünï/çødé #2/attributes") == "objects"
    assert classify("POST", "/v1/customers/attributes") == "people"
    assert classify("GET", "/v1/campaigns/7/actions") == "campaign actions"
    assert classify("GET", "/v1/campaigns/7/messages") == OTHER
    assert classify("POST", "/v1/messages") == OTHER


def test_a_child_reports_its_own_peak_memory() -> None:
    small = run_child("noop", {"mib": 0})
    big = run_child("noop", {"mib": 96})
    assert big.peak_rss_mib - small.peak_rss_mib > 80
    assert big.data["phase"]["peak_rss_mib"] - big.data["phase"]["base_rss_mib"] > 80
