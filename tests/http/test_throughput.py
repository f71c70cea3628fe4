"""Budget use: 100 requests against a rate-limited, slow loopback sandbox, no 429 received."""

from __future__ import annotations

import pytest

from cio_replicate.config import load_settings
from cio_replicate.http import open_client
from cio_replicate.sandbox import APP_API_KEY, Faults, Sandbox
from cio_replicate.sandbox.server import serve

REQUESTS = 100


@pytest.mark.slow
def test_the_app_budget_is_used_without_causing_a_429() -> None:
    # The sandbox admits at most 10 App requests in any 1-second window (else 429)
    # and takes 250 ms per request, like the real service on a good day.
    sandbox = Sandbox(scale="tiny", seed=1, faults=Faults(latency=0.25), rate_limit=10)
    with serve(sandbox) as server:
        env = {"CIO_APP_API_KEY": APP_API_KEY, "CIO_APP_API_URL": server.base_url}
        settings = load_settings(None, env=env)
        assert (settings.rate_limit, settings.concurrency) == (10.0, 4)  # the defaults
        with open_client(settings) as client:
            lists = ["/v1/campaigns", "/v1/workspaces", "/v1/segments"]
            paths = [lists[i % 3] for i in range(REQUESTS)]
            results = list(client.fan_out(lambda p: client.app("GET", p), paths))
    assert len(results) == REQUESTS
    stats = client.log.snapshot()
    assert (stats.calls, stats.retries, stats.throttled) == (REQUESTS, 0, 0)
    seen = [r for r in sandbox.requests if r.api == "app"]
    assert len(seen) == REQUESTS and {r.status for r in seen} == {200}
    starts = sorted(entry.started for entry in client.log.entries)
    rate = (len(starts) - 1) / (starts[-1] - starts[0])
    print(f"achieved {rate:.2f} requests/s, limiter waits {stats.wait_seconds:.1f}s")
    assert rate >= 9.0, f"achieved {rate:.2f} requests/s"
