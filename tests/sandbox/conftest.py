"""Fixtures: a tiny sandbox and httpx clients for both APIs (in-process transport)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from cio_replicate.sandbox import APP_API_KEY, SITE_ID, TRACK_API_KEY, Sandbox


@pytest.fixture
def sb() -> Sandbox:
    return Sandbox("tiny", seed=1)


@pytest.fixture
def app(sb: Sandbox) -> Iterator[httpx.Client]:
    with httpx.Client(
        transport=sb.transport(),
        base_url="https://api.customer.io",
        headers={"Authorization": f"Bearer {APP_API_KEY}"},
    ) as client:
        yield client


@pytest.fixture
def track(sb: Sandbox) -> Iterator[httpx.Client]:
    with httpx.Client(
        transport=sb.transport(),
        base_url="https://track.customer.io",
        auth=(SITE_ID, TRACK_API_KEY),
    ) as client:
        yield client
