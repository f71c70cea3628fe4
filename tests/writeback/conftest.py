"""The sandbox (in-process, through httpx.MockTransport) and a client wired to it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from cio_replicate.config import load_settings
from cio_replicate.http import CioClient, open_client
from cio_replicate.sandbox import RecordedRequest, Sandbox


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
