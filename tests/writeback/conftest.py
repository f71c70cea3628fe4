"""The sandbox (in-process, through httpx.MockTransport) and a client wired to it."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from cio_replicate.cli import main
from cio_replicate.config import load_settings
from cio_replicate.connect import open_client
from cio_replicate.http import CioClient
from cio_replicate.sandbox import (
    APP_API_KEY,
    SITE_ID,
    TRACK_API_KEY,
    RecordedRequest,
    Sandbox,
)
from cio_replicate.sandbox.server import serve


@pytest.fixture
def sandbox() -> Sandbox:
    return Sandbox("tiny", seed=1)


@pytest.fixture
def client(sandbox: Sandbox) -> Iterator[CioClient]:
    settings = load_settings(None, env={})
    with open_client(settings, transport=sandbox.transport(), sleep=lambda _s: None) as cio:
        yield cio


def writes(sandbox: Sandbox) -> list[RecordedRequest]:
    """The requests that would change the workspace (anything but reads and lookups)."""
    return [
        r
        for r in sandbox.requests
        if r.method != "GET" and not (r.method == "POST" and r.path == "/v1/customers")
    ]


@dataclass
class Cli:
    """Runs ``cio-replicate`` against the sandbox served on loopback."""

    sandbox: Sandbox
    capsys: pytest.CaptureFixture[str]
    out: str = ""
    err: str = ""

    def __call__(self, *args: str) -> int:
        self.capsys.readouterr()
        code = main(list(args))
        captured = self.capsys.readouterr()
        self.out, self.err = captured.out, captured.err
        return code


def _point_at(monkeypatch: pytest.MonkeyPatch, base_url: str) -> None:
    for name, value in {
        "CIO_APP_API_KEY": APP_API_KEY,
        "CIO_TRACK_API_KEY": TRACK_API_KEY,
        "CIO_SITE_ID": SITE_ID,
        "CIO_APP_API_URL": base_url,
        "CIO_TRACK_API_URL": base_url,
        "CIO_MAX_RETRY_WAIT": "0",
        # the sandbox has no rate limit here: do not wait for the documented one
        "CIO_ALLOW_UNSAFE_RATE_LIMIT": "true",
        "CIO_RATE_LIMIT": "10000",
        "CIO_TRACK_RATE_LIMIT": "10000",
        "CIO_TRANSACTIONAL_RATE_LIMIT": "10000",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("CIO_CONFIG", raising=False)


@pytest.fixture
def cli(
    sandbox: Sandbox, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> Iterator[Cli]:
    """The CLI against a fresh sandbox of its own (served on loopback)."""
    with serve(sandbox) as server:
        _point_at(monkeypatch, server.base_url)
        yield Cli(sandbox, capsys)


@pytest.fixture(scope="module")
def shared_server() -> Iterator[tuple[Sandbox, str]]:
    sandbox = Sandbox("tiny", seed=1)
    with serve(sandbox) as server:
        yield sandbox, server.base_url


@pytest.fixture
def reading_cli(
    shared_server: tuple[Sandbox, str],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> Cli:
    """The CLI against a sandbox shared by a module's tests: for commands that only read."""
    sandbox, base_url = shared_server
    _point_at(monkeypatch, base_url)
    return Cli(sandbox, capsys)


def write_csv(path: Path, header: list[str], rows: list[list[Any]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))
