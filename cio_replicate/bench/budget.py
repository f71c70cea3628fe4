"""Budget use over loopback (child task ``budget``).

The sandbox is served by its own process with a 10 requests/s limit (429 +
Retry-After above it) and 250 ms latency per request; the engine replicates
it with the client's default limiter (10/s). Reported: the rate at which
requests were sent, (n - 1) / (last start - first start), which is what the
server's budget counts; the same over the whole span including the last
answer; per object; and the 429s received.
"""

from __future__ import annotations

from typing import Any

from ..clock import system_clock
from ..config import load_settings
from ..connect import open_client
from ..engine import RunOptions, replicate
from ..load import Target
from .e2e import services
from .proc import Params, measure
from .served import client_env, served_sandbox


def _achieved(entries: list[Any]) -> tuple[float, float, float]:
    """(send rate, rate over the whole span, that span in seconds)."""
    if len(entries) < 2:
        return 0.0, 0.0, 0.0
    starts = sorted(e.started for e in entries)
    last = max(e.started + e.duration_s for e in entries)
    span = max(last - starts[0], 1e-9)
    sending = max(starts[-1] - starts[0], 1e-9)
    return (len(starts) - 1) / sending, len(starts) / span, span


def run_task(params: Params) -> Params:
    scale, seed, url = str(params["scale"]), int(params.get("seed", 1)), str(params["url"])
    rate, latency = float(params.get("rate", 10.0)), float(params.get("latency", 0.25))
    with served_sandbox(scale, seed, rate_limit=rate, latency=latency) as base:
        env = client_env(base, url)
        settings = load_settings(None, env=env, flags={"rate_limit": rate})
        with open_client(settings) as client:
            target = Target(url)
            try:
                svc = services(client, target, system_clock, settings)
                with measure() as m:
                    report = replicate(svc, RunOptions())
                entries = client.log.entries
                stats = client.log.snapshot()
            finally:
                target.dispose()
    achieved, overall, span = _achieved([e for e in entries if e.api == "app"])
    return {
        "status": report.status,
        "measure": m.as_dict(),
        "calls": stats.calls,
        "throttled": stats.throttled,
        "retries": stats.retries,
        "limiter_wait_s": round(stats.wait_seconds, 2),
        "retry_wait_s": round(stats.retry_wait_seconds, 2),
        "achieved_rps": round(achieved, 3),
        "overall_rps": round(overall, 3),
        "span_s": round(span, 2),
        "concurrency": settings.concurrency,
        "objects": [
            {
                "name": r.name,
                "status": r.status,
                "api_calls": r.api_calls,
                "seconds": round(r.seconds, 3),
                "throttled": r.throttled,
            }
            for r in report.results
        ],
    }
