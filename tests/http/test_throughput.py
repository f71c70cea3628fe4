"""Budget use: 100 requests against a rate-limited, slow loopback sandbox.

The limiter is what bounds the pace (its exact spacing is proven on a fake clock in
test_ratelimit.py); this test shows, over real sockets and real time, that concurrent
requests keep that budget busy while each one takes 250 ms, and that the strict
sandbox (at most 10 App requests in any sliding second, else 429) is not overrun.
"""

from __future__ import annotations

import pytest

from cio_replicate.config import load_settings
from cio_replicate.http import open_client
from cio_replicate.sandbox import APP_API_KEY, Faults, Sandbox
from cio_replicate.sandbox.server import serve

REQUESTS = 100
STRAY_429 = 5
"""429s tolerated. The client spaces request starts, but a pause of the whole test
process (a full garbage collection, a starved CPU) can hold queued requests and then
let two go out together, which a strict sliding window counts as 11 in one second.
The client then holds its budget for Retry-After and retries, so nothing is lost.
On a quiet machine there are none; with the limiter off there are dozens."""


def _most_in_flight(spans: list[tuple[float, float]]) -> int:
    events = sorted([(start, 1) for start, _ in spans] + [(end, -1) for _, end in spans])
    most = current = 0
    for _, step in events:
        current += step
        most = max(most, current)
    return most


@pytest.mark.slow
def test_the_app_budget_is_kept_busy_without_overrunning_it() -> None:
    sandbox = Sandbox(scale="tiny", seed=1, faults=Faults(latency=0.25), rate_limit=10)
    with serve(sandbox) as server:
        env = {"CIO_APP_API_KEY": APP_API_KEY, "CIO_APP_API_URL": server.base_url}
        settings = load_settings(None, env=env)
        assert (settings.rate_limit, settings.concurrency) == (10.0, 4)  # the defaults
        with open_client(settings) as client:
            lists = ["/v1/campaigns", "/v1/workspaces", "/v1/segments"]
            paths = [lists[i % 3] for i in range(REQUESTS)]
            results = list(client.fan_out(lambda p: client.app("GET", p), paths))
    assert len(results) == REQUESTS and all(isinstance(r, dict) for r in results)
    stats = client.log.snapshot()
    seen = [r for r in sandbox.requests if r.api == "app"]
    assert sum(1 for r in seen if r.status == 200) == REQUESTS
    assert {r.status for r in seen} <= {200, 429}
    # Every 429 was answered by exactly one more attempt; none was given up on.
    assert stats.calls == len(seen) == REQUESTS + stats.throttled
    assert stats.retries == stats.throttled <= STRAY_429
    # Requests overlapped (latency hidden by concurrency) and the pace was set by the
    # limiter, not by the 250 ms each request takes.
    entries = client.log.entries
    assert _most_in_flight([(e.started, e.started + e.duration_s) for e in entries]) >= 2
    assert stats.wait_seconds > 0
    starts = sorted(entry.started for entry in entries)
    rate = (len(starts) - 1) / (starts[-1] - starts[0])
    print(
        f"achieved {rate:.2f} requests/s, {stats.throttled} 429s, waits {stats.wait_seconds:.1f}s"
    )
