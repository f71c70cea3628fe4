"""`cio-replicate check` against the loopback sandbox: exit codes, messages, no keys shown."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from cio_replicate.cli import main
from cio_replicate.sandbox import APP_API_KEY, SITE_ID, TRACK_API_KEY, Sandbox
from cio_replicate.sandbox.server import SandboxServer, serve


@pytest.fixture
def sandbox() -> Sandbox:
    return Sandbox(scale="tiny", seed=1)


@pytest.fixture
def server(sandbox: Sandbox) -> Iterator[SandboxServer]:
    with serve(sandbox) as running:
        yield running


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in list(os.environ):
        if name.startswith("CIO_"):
            monkeypatch.delenv(name)
    return monkeypatch


@pytest.fixture
def loopback_env(clean_env: pytest.MonkeyPatch, server: SandboxServer) -> pytest.MonkeyPatch:
    for name, value in {
        "CIO_APP_API_URL": server.base_url,
        "CIO_TRACK_API_URL": server.base_url,
        "CIO_APP_API_KEY": APP_API_KEY,
        "CIO_TRACK_API_KEY": TRACK_API_KEY,
        "CIO_SITE_ID": SITE_ID,
    }.items():
        clean_env.setenv(name, value)
    return clean_env


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    for key in (APP_API_KEY, TRACK_API_KEY, "wrong-app-key-123"):
        assert key not in out + err
    return code, out, err


def test_check_passes_with_the_right_keys(
    loopback_env: pytest.MonkeyPatch,
    server: SandboxServer,
    sandbox: Sandbox,
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, _ = run(capsys, "check")
    assert code == 0
    assert f"App API:   {server.base_url}  ok" in out
    assert f"Track API: {server.base_url}  ok" in out
    assert "region: us" in out and "workspace: " in out and "(id " in out
    seen = [(r.api, r.method, r.path, r.status) for r in sandbox.requests]
    assert seen == [
        ("app", "GET", "/v1/workspaces", 200),
        ("track", "GET", "/api/v1/accounts/region", 200),
    ]


def test_a_wrong_app_key_exits_3_naming_the_key_and_region(
    loopback_env: pytest.MonkeyPatch, sandbox: Sandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    loopback_env.setenv("CIO_APP_API_KEY", "wrong-app-key-123")
    code, out, err = run(capsys, "check")
    assert code == 3
    assert "App API" in out and "FAILED" in out
    assert "App API key" in err and "region 'us'" in err
    assert [r.status for r in sandbox.requests if r.api == "app"] == [401]  # not retried


def test_a_wrong_tracking_key_exits_3_naming_site_id_and_tracking_key(
    loopback_env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    loopback_env.setenv("CIO_TRACK_API_KEY", "wrong-track-key-456")
    code, out, err = run(capsys, "check")
    assert code == 3
    assert "App API" in out and "ok" in out
    assert "site id" in err and "tracking API key" in err
    assert "wrong-track-key-456" not in out + err


def test_a_malformed_config_exits_2(
    clean_env: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "bad.toml"
    path.write_text('region = "mars"\n')
    code, _, err = run(capsys, "-c", str(path), "check")
    assert code == 2
    assert f"region (from file {path})" in err


def test_an_unreachable_host_exits_1_with_a_clear_message(
    loopback_env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with socket.socket() as probe:  # a port that was free a moment ago: nothing listens
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    loopback_env.setenv("CIO_APP_API_URL", url)
    code, out, err = run(capsys, "check")
    assert code == 1
    assert f"cannot reach the App API at {url}" in err
    assert "CIO_APP_API_URL" in err
    assert "Track API" in out and "ok" in out


def test_with_nothing_configured_check_runs_against_the_built_in_sandbox(
    clean_env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, "check", "--sandbox-scale", "tiny")
    assert code == 0
    assert err.splitlines()[0].startswith("using source: sandbox, simulated")
    # it says where it really talks to: no Customer.io host it never called (issue 10)
    assert "App API:   sandbox (simulated, in-process)  ok" in out
    assert "customer.io" not in out
