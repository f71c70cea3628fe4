"""The benchmark run: which measured runs to start, in which order, with what.

Every figure comes from a child process (:mod:`.proc`); this module only
starts them against throw-away databases and gathers their raw results.
:mod:`.tables` turns the results into tables and the goals verdict.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Literal

from .proc import ChildFailed, Params, run_child
from .scratch import DATABASES, DbName, reachable, scratch
from .served import client_env, served_sandbox

Section = Literal["load", "api", "budget", "e2e", "incremental", "memory"]
SECTIONS: tuple[Section, ...] = ("load", "api", "budget", "e2e", "incremental", "memory")


@dataclass(frozen=True)
class Options:
    scale: str = "demo"
    databases: tuple[DbName, ...] = DATABASES
    only: frozenset[Section] = frozenset(SECTIONS)
    load_rows: int = 50_000
    repeat: int = 5
    budget_scale: str = "demo"
    window_scale: str = "large"
    seed: int = 1


@dataclass
class Results:
    """Raw results of the measured runs, by section (JSON-ready)."""

    databases: list[DbName] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)  # database -> why
    load: dict[str, Params] = field(default_factory=dict)  # database -> load task result
    runs: dict[str, Params] = field(default_factory=dict)  # database -> replicate task result
    run_peaks: dict[str, float] = field(default_factory=dict)  # database -> child peak MiB
    budget: Params | None = None
    window: list[Params] = field(default_factory=list)  # the metrics window's cost, by scale
    memory: list[Params] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)  # section -> wall time


Say = Callable[[str], None]


def _stderr(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def _timed(results: Results, section: str, say: Say, fn: Callable[[], None]) -> None:
    t0 = time.perf_counter()
    try:
        fn()
    except ChildFailed as exc:
        results.failures.append(f"{section}: {exc}")
        say(f"  {section} failed: {str(exc).splitlines()[0]}")
    results.seconds[section] = results.seconds.get(section, 0.0) + time.perf_counter() - t0


def run(opts: Options, say: Say = _stderr) -> Results:
    results = Results()
    for db in opts.databases:
        why = reachable(db)
        if why is None:
            results.databases.append(db)
        else:
            results.skipped[db] = why
            say(f"skipping {db}: {why}")
    dbs = results.databases
    if "load" in opts.only:
        for db in dbs:
            say(f"load path: {db} ({opts.load_rows:,} rows x {opts.repeat})")
            _timed(results, "load", say, partial(_load, results, db, opts))
    wants_runs = opts.only & {"e2e", "api", "incremental"}
    if wants_runs and dbs:
        run_dbs = dbs if "e2e" in opts.only else dbs[:1]
        for i, db in enumerate(run_dbs):
            say(f"replication runs: {db}, scale {opts.scale}")
            _timed(results, "runs", say, partial(_runs, results, db, opts, i == 0))
    if "incremental" in opts.only:
        for scale in dict.fromkeys([opts.scale, opts.window_scale]):
            say(f"metrics window: delivery listings, scale {scale}")
            _timed(results, "window", say, partial(_window, results, scale, opts))
    if "budget" in opts.only:
        say(f"budget: loopback sandbox ({opts.budget_scale}), 10 req/s, 250 ms latency")
        _timed(results, "budget", say, partial(_budget, results, opts))
    if "memory" in opts.only:
        for scale in memory_scales(opts.scale):
            say(f"memory: cio-replicate replicate over loopback, scale {scale}")
            _timed(results, "memory", say, partial(_memory, results, scale, opts))
    return results


def memory_scales(scale: str) -> list[str]:
    """The tool's memory at the demo scale and at the chosen one (if larger)."""
    return [scale] if scale in ("tiny", "demo") else ["demo", scale]


def _load(results: Results, db: DbName, opts: Options) -> None:
    with scratch(db) as url:
        params = {"url": url, "rows": opts.load_rows, "repeat": opts.repeat, "seed": opts.seed}
        child = run_child("load", params)
    results.load[db] = {**child.data, "peak_rss_mib": child.peak_rss_mib}


def _runs(results: Results, db: DbName, opts: Options, first: bool) -> None:
    phases = ["full"]
    if "incremental" in opts.only:
        phases += ["again", "day"]
    params: dict[str, Any] = {
        "scale": opts.scale,
        "seed": opts.seed,
        "phases": phases,
        "census": first and bool(opts.only & {"api", "incremental"}),
        "replay": first and "e2e" in opts.only,
    }
    with scratch(db) as url:
        child = run_child("replicate", {**params, "url": url})
    results.runs[db] = child.data
    results.run_peaks[db] = child.peak_rss_mib


def _window(results: Results, scale: str, opts: Options) -> None:
    child = run_child("window", {"scale": scale, "seed": opts.seed})
    results.window.append(child.data)


def _budget(results: Results, opts: Options) -> None:
    with scratch("sqlite") as url:
        child = run_child("budget", {"scale": opts.budget_scale, "seed": opts.seed, "url": url})
    results.budget = {**child.data, "peak_rss_mib": child.peak_rss_mib}


def _memory(results: Results, scale: str, opts: Options) -> None:
    with served_sandbox(scale, opts.seed) as base, scratch("sqlite") as url:
        env = client_env(base, url)
        env.update({"CIO_RATE_LIMIT": "1000000", "CIO_ALLOW_UNSAFE_RATE_LIMIT": "true"})
        child = run_child("cli", {"args": ["replicate"], "env": env})
    code = child.data["exit"]
    if code not in (0, 4):
        raise ChildFailed(f"cio-replicate replicate exited {code}")
    results.memory.append(
        {
            "scale": scale,
            "peak_rss_mib": child.peak_rss_mib,
            "wall_s": round(child.wall_s, 2),
            "cpu_s": round(child.cpu_s, 2),
            "exit": code,
        }
    )
