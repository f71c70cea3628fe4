"""End-to-end and incremental runs (child task ``replicate``).

One child per database: it builds the sandbox in-process, counts what the
workspace holds (for the API yardstick), then runs the engine once per phase
with the rate limiter off:

- ``full``: the first replication into an empty database;
- ``again``: a rerun with no upstream change (the clock moves one minute);
- ``day``: a rerun after one day of mutations (:mod:`.mutate`).

Each phase reports its wall and CPU time, its own peak resident memory, the
engine's per-object results and the requests the sandbox saw. With
``replay``, the full phase's requests are then sent again to a fresh sandbox
through a bare httpx client: the time the simulator and HTTP layer take to
serve the same data, which the engine's time includes.
"""

from __future__ import annotations

import io
import os
import time
from dataclasses import asdict
from typing import Any

import httpx

from ..clock import Clock
from ..config import Settings, load_settings
from ..connect import open_client
from ..engine import Progress, RunOptions, Services, replicate
from ..http import CioClient
from ..load import Target
from ..sandbox import APP_API_KEY, RecordedRequest, Sandbox
from .apimin import tally
from .census import census
from .mutate import one_day
from .proc import Params, measure

OFF = 1e6  # requests/s: the rate limiter is effectively off


CONCURRENCY_ENV = "CIO_BENCH_CONCURRENCY"
"""Objects (and requests per object) at once in the replication runs; default: the tool's."""


def _settings(url: str, scale: str, seed: int, rate: float) -> Settings:
    flags: dict[str, object] = {
        "source": "sandbox",  # with a target set, the sandbox must be asked for
        "target_url": url,
        "rate_limit": rate,
        "allow_unsafe_rate_limit": rate > 10,
        "sandbox_scale": scale,
        "sandbox_seed": seed,
    }
    if os.environ.get(CONCURRENCY_ENV):  # e.g. 1: the run one object at a time, for comparison
        flags["concurrency"] = int(os.environ[CONCURRENCY_ENV])
    return load_settings(None, env={}, flags=flags)


def _object_rows(report: Any) -> list[Params]:
    return [
        {
            "name": r.name,
            "status": r.status,
            "inserted": r.inserted,
            "updated": r.updated,
            "deleted": r.deleted,
            "api_calls": r.api_calls,
            "seconds": round(r.seconds, 4),
            "message": r.message,
        }
        for r in report.results
    ]


def services(client: CioClient, target: Target, clock: Clock, settings: Settings) -> Services:
    """What ``replicate_with_settings`` builds, with our own client and a silent progress."""
    return Services(
        client=client,
        requests=client.log,
        target=target,
        clock=clock,
        progress=Progress(io.StringIO(), live=False),
        lookback=settings.lookback_seconds,
        metrics_lookback=settings.metrics_lookback,
        batch_size=settings.batch_size,
        workers=settings.concurrency,
    )


def run_phases(sb: Sandbox, url: str, phases: list[str], scale: str, seed: int) -> list[Params]:
    settings = _settings(url, scale, seed, OFF)
    out: list[Params] = []
    with open_client(settings, transport=sb.transport()) as client:
        target = Target(url, clock=sb.clock)
        try:
            svc = services(client, target, sb.clock, settings)
            for phase in phases:
                changes: Params = {}
                if phase == "day":
                    changes = one_day(sb.workspace).as_dict()
                elif phase == "again":
                    sb.clock.advance(60)
                first = len(sb.requests)
                with measure() as m:
                    report = replicate(svc, RunOptions())
                seen = sb.requests[first:]
                objects = _object_rows(report)
                out.append(
                    {
                        "phase": phase,
                        "status": report.status,
                        "measure": m.as_dict(),
                        "objects": objects,
                        "requests": len(seen),
                        "tally": tally((r.method, r.path) for r in seen),
                        "throttled": sum(1 for r in seen if r.status == 429),
                        "errors": sum(1 for r in seen if r.status >= 400),
                        "rows_written": sum(
                            o["inserted"] + o["updated"] + o["deleted"] for o in objects
                        ),
                        "changes": changes,
                    }
                )
        finally:
            target.dispose()
    return out


def replay(scale: str, seed: int, requests: list[RecordedRequest]) -> Params:
    """Send the same requests to a fresh sandbox, no engine: the serving cost."""
    sb = Sandbox(scale, seed)
    headers = {"Authorization": f"Bearer {APP_API_KEY}"}
    with (
        httpx.Client(transport=sb.transport(), base_url="https://api.customer.io") as http,
        measure() as m,
    ):
        for r in requests:
            if r.api != "app":
                continue
            response = http.request(r.method, r.path, params=r.query, json=r.body, headers=headers)
            response.json()
    return {"requests": len(requests), "measure": m.as_dict()}


def run_task(params: Params) -> Params:
    scale, seed, url = str(params["scale"]), int(params.get("seed", 1)), str(params["url"])
    phases = list(params.get("phases", ["full"]))
    t0 = time.perf_counter()
    sb = Sandbox(scale, seed)
    build_s = time.perf_counter() - t0
    result: Params = {"build_s": round(build_s, 3)}
    if params.get("census"):
        t0 = time.perf_counter()
        result["counts"] = asdict(census(sb.workspace))
        result["census_s"] = round(time.perf_counter() - t0, 2)
    first_phase = len(sb.requests)
    result["phases"] = run_phases(sb, url, phases, scale, seed)
    if params.get("replay") and phases and phases[0] == "full":
        n = result["phases"][0]["requests"]
        result["replay"] = replay(scale, seed, sb.requests[first_phase : first_phase + n])
    return result
