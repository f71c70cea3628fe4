"""Resuming a killed object where it stopped, the JSON summary line, and --full-refresh."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

from cio_replicate.sandbox import Sandbox

from .conftest import Harness, replicate_subprocess, subprocess_env
from .expected import DEFAULT_TABLES, check_tables


def test_killed_messages_resume_from_the_saved_page(
    served: tuple[Sandbox, str], sqlite_url: str
) -> None:
    sb, base_url = served
    first = len(sb.requests)
    whole = replicate_subprocess(base_url, sqlite_url, None, ["Messages"])
    assert whole.returncode == 0
    pages = [r for r in sb.requests[first:] if r.path == "/v1/messages"]
    assert len(pages) >= 20  # batch size 5: many pages

    fresh = sqlite_url.replace("target.db", "resume.db")
    mark = len(sb.requests)
    killed = replicate_subprocess(base_url, fresh, "commit:10", ["Messages"])
    assert killed.returncode == -signal.SIGKILL
    before_kill = [r for r in sb.requests[mark:] if r.path == "/v1/messages"]
    mark = len(sb.requests)
    rerun = replicate_subprocess(base_url, fresh, None, ["Messages"])
    assert rerun.returncode == 0, rerun.stderr[-2000:]
    after_kill = [r for r in sb.requests[mark:] if r.path == "/v1/messages"]
    # The rerun starts at the page after the last committed one, in the same window...
    assert len(before_kill) == 10
    assert after_kill[0].query["start"] == pages[10].query["start"]
    assert after_kill[0].query["end_ts"] == before_kill[0].query["end_ts"]
    # ...so the two runs together spend no more calls than one whole run.
    assert len(before_kill) + len(after_kill) == len(pages)
    assert check_tables(fresh, sb.workspace, ["messages"]) == {}


def test_json_summary_line(served: tuple[Sandbox, str], sqlite_url: str) -> None:
    sb, base_url = served
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "cio_replicate",
            "--log-format",
            "json",
            "replicate",
            "Campaigns",
            "Snippets",
        ],  # fmt: skip
        env=subprocess_env(base_url, sqlite_url, None),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    lines = run.stdout.strip().splitlines()
    assert len(lines) == 1
    summary = json.loads(lines[0])
    assert summary["event"] == "replicate.summary" and summary["status"] == "success"
    objects = {o["name"]: o for o in summary["objects"]}
    assert set(objects) == {"Campaigns", "Snippets"}
    assert objects["Campaigns"]["inserted"] == len(sb.workspace.records("campaigns"))
    assert objects["Campaigns"]["api_calls"] == 1


def test_full_refresh_rebuilds(harness: Harness) -> None:
    h = harness
    ws = h.sandbox.workspace
    h.run()
    h.sandbox.clock.advance(60)
    gone = ws.records("snippets")[0]["name"]
    ws.delete_snippet(gone)
    message = ws.messages.get(3)
    ws.set_message_metric(message["id"], "converted")
    # incremental: the deleted snippet is marked (a complete listing), old messages stay
    incremental = h.run(["Snippets", "Messages"])
    assert {r.name: r.deleted for r in incremental.results}["Snippets"] == 1
    assert check_tables(h.url, ws, ["messages"]) != {}
    report = h.run(["Snippets", "Messages"], full_refresh=True)
    by_name = {r.name: r for r in report.results}
    assert by_name["Snippets"].deleted == 0  # marked already: the rebuild keeps it marked
    assert by_name["Messages"].updated == 1
    assert check_tables(h.url, ws, DEFAULT_TABLES) == {}
    assert h.run(["Snippets", "Messages"]).status == "success"  # incremental again after


def test_no_configuration_replicates_the_sandbox_into_a_local_sqlite_file(tmp_path: Path) -> None:
    """The README's main job: no credentials, no servers, no config -> cio-replicate.db here.

    (tiny scale and no rate limit to keep the test short; the README runs the demo scale.)
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith("CIO_")}
    env.update(CIO_SANDBOX_SCALE="tiny", CIO_RATE_LIMIT="1000", CIO_ALLOW_UNSAFE_RATE_LIMIT="true")
    run = subprocess.run(
        [sys.executable, "-m", "cio_replicate", "replicate"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    assert f"success, {len(DEFAULT_TABLES)} objects" in run.stdout
    url = f"sqlite:///{tmp_path / 'cio-replicate.db'}"
    assert check_tables(url, Sandbox("tiny", seed=1).workspace, DEFAULT_TABLES) == {}
