"""The client against the in-process sandbox with injected faults (fake clock: no real waits)."""

from __future__ import annotations

from typing import Any

from cio_replicate.config import load_settings
from cio_replicate.connect import open_client
from cio_replicate.http import CioClient
from cio_replicate.sandbox import Faults, Sandbox

from .conftest import FakeClock


def client_for(sandbox: Sandbox, clock: FakeClock) -> CioClient:
    settings = load_settings(None, env={}, flags={"source": "sandbox"})
    return open_client(settings, transport=sandbox.transport(), clock=clock, sleep=clock.sleep)


def message_ids(client: CioClient) -> list[Any]:
    pages = client.paginate("GET", "/v1/messages", envelope="messages", page_size=10)
    return [record["id"] for page in pages for record in page.records]


def test_pages_come_through_a_storm_of_5xx_truncated_bodies_and_429_bursts(
    clock: FakeClock,
) -> None:
    with client_for(Sandbox("tiny", seed=4), clock) as calm:
        expected = message_ids(calm)
    logical = calm.log.calls + 1  # the pages, then one Track call
    assert len(expected) > 50 and calm.log.retries == 0  # several pages

    faults = Faults(error_rate=0.25, truncate_rate=0.25, burst_429_every=5, seed=9)
    stormy = Sandbox("tiny", seed=4, faults=faults)
    with client_for(stormy, clock) as client:
        assert message_ids(client) == expected
        region = client.track("GET", "/api/v1/accounts/region")
    assert region["region"] == "us"
    statuses = [r.status for r in stormy.requests]
    assert {429, 200} <= set(statuses) and {500, 502, 503} & set(statuses)
    stats = client.log.snapshot()
    assert stats.calls == len(stormy.requests)
    assert stats.throttled == statuses.count(429)
    truncated = [e for e in client.log.entries if e.error == "truncated or invalid JSON body"]
    assert truncated and stats.retries == stats.calls - logical
