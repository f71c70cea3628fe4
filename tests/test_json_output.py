"""`--log-format json`: every line the tool writes is one JSON object, and every exit path
ends with one summary object holding the exit code (cron: `>> cio.log 2>&1`)."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from cio_replicate.cli import main
from cio_replicate.sandbox import Faults, Sandbox
from cio_replicate.sandbox.router import app_error_body
from cio_replicate.sandbox.server import serve

from .engine.conftest import subprocess_env


class ForbiddenExports(Sandbox):
    """The sandbox, with an App API key whose scope leaves out /v1/exports (403)."""

    def handle(self, request: httpx.Request) -> httpx.Response:
        if request.url.path.startswith("/v1/exports"):
            body: Any = app_error_body(403, "Forbidden: the key's scope does not allow this")
            return httpx.Response(403, json=body, request=request)
        return super().handle(request)


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    server = serve(ForbiddenExports("tiny", seed=1))
    yield server.base_url
    server.shutdown()


def cron(args: list[str], env: dict[str, str], log: Path) -> int:
    """One cron-style run: `cio-replicate --log-format json ARGS >> log 2>&1`."""
    with log.open("a") as out:
        run = subprocess.run(
            [sys.executable, "-m", "cio_replicate", "--log-format", "json", *args],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            timeout=300,
        )
    return run.returncode


def json_lines(log: Path) -> list[dict[str, Any]]:
    """Every line of the log parsed as one JSON object with the documented core keys."""
    lines = log.read_text().splitlines()
    assert lines
    parsed = []
    for line in lines:
        try:
            item = json.loads(line)
        except json.JSONDecodeError:
            pytest.fail(f"not a JSON line: {line!r}\n--- log ---\n{log.read_text()[-3000:]}")
        assert isinstance(item, dict), line
        assert {"ts", "level", "event", "message"} <= set(item), line
        parsed.append(item)
    return parsed


def summaries(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [i for i in items if "exit_code" in i and i["event"].endswith(".summary")]


def test_a_successful_run_is_json_lines_ending_with_the_summary(
    base_url: str, tmp_path: Path
) -> None:
    log = tmp_path / "cio.log"
    env = subprocess_env(base_url, f"sqlite:///{tmp_path / 't.db'}", None)
    assert cron(["replicate", "Campaigns", "CampaignActions", "Snippets"], env, log) == 0
    items = json_lines(log)
    last = items[-1]
    assert last["event"] == "replicate.summary" and last["exit_code"] == 0
    assert last["status"] == "success" and last["level"] == "info"
    assert {o["name"] for o in last["objects"]} == {"Campaigns", "CampaignActions", "Snippets"}
    assert summaries(items) == [last]
    finished = {i["object"]: i for i in items if i["event"] == "object.finish"}
    assert set(finished) == {"Campaigns", "CampaignActions", "Snippets"}
    assert finished["CampaignActions"]["inserted"] > 0 and finished["Snippets"]["api_calls"] >= 1
    assert {i["object"] for i in items if i["event"] == "object.start"} == set(finished)


def test_a_partial_failure_is_json_lines_ending_with_exit_code_4(
    base_url: str, tmp_path: Path
) -> None:
    log = tmp_path / "cio.log"
    env = subprocess_env(base_url, f"sqlite:///{tmp_path / 't.db'}", None)
    assert cron(["replicate", "Campaigns", "Exports"], env, log) == 4
    items = json_lines(log)
    failed = [i for i in items if i["event"] == "object.finish" and i["status"] == "failed"]
    assert [i["object"] for i in failed] == ["Exports"]
    assert failed[0]["level"] == "error" and "403" in failed[0]["error"]
    errors = [i for i in items if i["event"] == "error"]
    assert len(errors) == 1 and "Exports" in errors[0]["message"]
    last = items[-1]
    assert last["event"] == "replicate.summary" and last["exit_code"] == 4
    assert last["status"] == "partial" and summaries(items) == [last]


def test_three_cron_runs_in_one_log_are_all_json(base_url: str, tmp_path: Path) -> None:
    """Success, a configuration error (2) and a wrong key (3) appended to one file."""
    log = tmp_path / "cio.log"
    env = subprocess_env(base_url, f"sqlite:///{tmp_path / 't.db'}", None)
    assert cron(["replicate", "Segments"], env, log) == 0
    assert cron(["replicate", "Segments"], {**env, "CIO_RATE_LIMIT": "fast"}, log) == 2
    assert cron(["replicate", "Segments"], {**env, "CIO_APP_API_KEY": "wrong-key-1234"}, log) == 3
    items = json_lines(log)
    assert [s["exit_code"] for s in summaries(items)] == [0, 2, 3]
    assert items[-1]["exit_code"] == 3
    errors = [i for i in items if i["event"] == "error"]
    assert [e["exit_code"] for e in errors] == [2, 3]
    assert "rate_limit" in errors[0]["message"] and "CIO_RATE_LIMIT" in errors[0]["message"]
    assert "wrong-key-1234" not in log.read_text()


def test_check_is_json_lines_ending_with_the_summary(base_url: str, tmp_path: Path) -> None:
    log = tmp_path / "cio.log"
    env = subprocess_env(base_url, f"sqlite:///{tmp_path / 't.db'}", None)
    assert cron(["check"], env, log) == 0
    assert cron(["check"], {**env, "CIO_APP_API_KEY": "wrong-key-1234"}, log) == 3
    items = json_lines(log)
    assert [(s["event"], s["exit_code"]) for s in summaries(items)] == [
        ("check.summary", 0),
        ("check.summary", 3),
    ]
    app = [i for i in items if i["event"] == "check.app_api"]
    assert [a["ok"] for a in app] == [True, False]
    assert any(i["event"] == "check.workspace" for i in items)


def test_a_usage_error_is_json_too(tmp_path: Path) -> None:
    log = tmp_path / "cio.log"
    env = subprocess_env("embedded", f"sqlite:///{tmp_path / 't.db'}", None)
    assert cron(["replicate", "--no-such-flag"], env, log) == 2
    assert cron(["replicate", "NoSuchObject"], env, log) == 2
    items = json_lines(log)
    assert [s["exit_code"] for s in summaries(items)] == [2, 2]
    assert items[0]["event"] == "usage_error" and "--no-such-flag" in items[0]["message"]


def test_data_output_stays_data_and_the_summary_goes_to_stderr(tmp_path: Path) -> None:
    """`objects --json` prints its document on stdout untouched; the log lines go to stderr."""
    env = subprocess_env("embedded", f"sqlite:///{tmp_path / 't.db'}", None)
    run = subprocess.run(
        [sys.executable, "-m", "cio_replicate", "--log-format", "json", "objects", "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    assert len(json.loads(run.stdout)["objects"]) > 20  # one document, as without the flag
    [summary] = [json.loads(line) for line in run.stderr.splitlines()]
    assert summary["event"] == "objects.summary" and summary["exit_code"] == 0


def test_an_unreachable_target_exits_1_with_json_lines(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CIO_CONFIG", raising=False)
    url = "postgresql+psycopg://u:hunter2@127.0.0.1:1/x?connect_timeout=1"
    assert main(["--log-format", "json", "db", "upgrade", "--target-url", url]) == 1
    out, err = capsys.readouterr()
    assert "hunter2" not in out + err
    [error] = [json.loads(line) for line in err.splitlines()]
    assert error["event"] == "error" and error["exit_code"] == 1
    [summary] = [json.loads(line) for line in out.splitlines()]
    assert summary["event"] == "db.summary" and summary["exit_code"] == 1
    assert summary["level"] == "error"


def test_an_interrupted_run_ends_with_a_summary_holding_130(tmp_path: Path) -> None:
    server = serve(Sandbox("tiny", seed=1, faults=Faults(latency=0.2)))
    env = subprocess_env(server.base_url, f"sqlite:///{tmp_path / 't.db'}", None)
    try:
        proc = subprocess.Popen(
            [sys.executable, "-m", "cio_replicate", "--log-format", "json", "replicate"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        assert proc.stdout is not None
        first = proc.stdout.readline()  # the first object has started
        proc.send_signal(signal.SIGINT)
        rest, _ = proc.communicate(timeout=120)
    finally:
        server.shutdown()
    assert proc.returncode == 130, first + rest
    items = [json.loads(line) for line in (first + rest).splitlines()]
    assert items[-1]["exit_code"] == 130 and items[-1]["event"] == "replicate.summary"
    [error] = [i for i in items if i["event"] == "error"]
    assert error["message"] == "interrupted" and error["exit_code"] == 130
