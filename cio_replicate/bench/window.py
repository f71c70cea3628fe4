"""The cost of the metrics window (child task ``window``): what re-reading the deliveries
of the last days costs a scheduled run, in API calls.

For each delivery listing of the default selection (the catalog's entries with
``metrics``, per-person ones left out: they cost one call per person whatever the
window), the extraction a no-change run makes is replayed against a fresh sandbox of
the given scale, with the watermark at the run's start: once with the window off (the
floor is the watermark less ``lookback_seconds``) and once per window length. No
database is written; the calls and records are what the sandbox saw and served.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..catalog import CATALOG, ObjectSpec
from ..clock import DAY
from ..config import load_settings
from ..connect import open_client
from ..engine.rows import window_floor
from ..extract import ExtractContext, extract
from ..sandbox import Sandbox
from .proc import Params

WINDOW_DAYS = (0, 1, 7, 30)
"""Window lengths measured (0: off, the no-change run without the window)."""
OFF = 1e6  # requests/s: the rate limiter is effectively off


def delivery_specs() -> list[ObjectSpec]:
    return [s for s in CATALOG if s.metrics is not None and s.default]


def run_task(params: Params) -> Params:
    scale, seed = str(params["scale"]), int(params.get("seed", 1))
    days: Sequence[int] = params.get("days", WINDOW_DAYS)
    sb = Sandbox(scale, seed)
    flags: dict[str, Any] = {
        "source": "sandbox",
        "rate_limit": OFF,
        "allow_unsafe_rate_limit": True,
        "sandbox_scale": scale,
        "sandbox_seed": seed,
    }
    settings = load_settings(None, env={}, flags=flags)
    now = sb.clock.now()
    watermark_floor = now - settings.lookback_seconds
    windows: list[Params] = []
    with open_client(settings, transport=sb.transport()) as client:
        for d in days:
            floor = window_floor(watermark_floor, now, d * DAY) if d else watermark_floor
            objects: dict[str, Params] = {}
            for spec in delivery_specs():
                ctx = ExtractContext(
                    client=client, spec=spec, floor=floor, until=now, batch_size=settings.batch_size
                )
                first = len(sb.requests)
                records = sum(len(batch.records) for batch in extract(ctx))
                objects[spec.name] = {"calls": len(sb.requests) - first, "records": records}
            windows.append({"days": d, "objects": objects})
    return {"scale": scale, "windows": windows}


def costs(data: Params) -> list[tuple[int, int, int, float]]:
    """Per window length: (days, calls, calls more than with the window off, per day)."""
    windows = data.get("windows", [])
    off = next((w for w in windows if w["days"] == 0), None)
    if off is None:
        return []
    base = _calls(off)
    out = []
    for w in windows:
        if w["days"] > 0:
            extra = _calls(w) - base
            out.append((int(w["days"]), _calls(w), extra, extra / w["days"]))
    return out


def describe(data: Params) -> str:
    """One sentence for the report."""
    rows = costs(data)
    if not rows:
        return ""
    off = next(w for w in data["windows"] if w["days"] == 0)
    parts = [
        f"{d} day{'s' if d > 1 else ''} {calls:,} calls (+{extra:,}, {per:.1f} per day)"
        for d, calls, extra, per in rows
    ]
    return (
        f"Metrics window, {data['scale']} workspace (the default selection's delivery "
        f"listings of a no-change run, watermark at the run's start): off {_calls(off):,} "
        "calls; " + "; ".join(parts) + "."
    )


def _calls(window: Params) -> int:
    return sum(int(o["calls"]) for o in window["objects"].values())
