"""A replication run: migrate, select, run each object, record the run.

The engine knows no HTTP (the client does) and no SQL beyond transactions
(load and state do). One object failing does not stop the others; the run
record says ``partial`` and the CLI exits with 4.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import dataclass

from .. import migrate, state
from ..catalog import resolve_selection
from ..clock import system_clock
from ..config import Settings
from ..extractors.filters import parse_filters
from ..http import LogStats, open_client
from ..load import Target
from .crash import CrashPoints
from .objects import ObjectRun, Services
from .report import ObjectResult, Progress, RunReport


@dataclass(frozen=True)
class RunOptions:
    objects: Sequence[str] = ()
    """Object names; empty = the default selection; ``all`` = everything."""
    filters: Sequence[str] = ()
    """``Object.field=v1,v2`` filters."""
    full_refresh: bool = False
    """Reset the selected objects' watermarks and rebuild their tables."""
    lock_wait: float = 0.0


def replicate(svc: Services, options: RunOptions) -> RunReport:
    """Run every selected object; returns the report (failures are in it, not raised)."""
    if migrate.needs_upgrade(svc.engine):  # a read: a second run does not queue for the lock
        migrate.upgrade(svc.engine)
    selection = resolve_selection(options.objects)
    filters = parse_filters(options.filters)
    started = svc.clock()
    t0 = time.perf_counter()
    run_start = int(started)
    names = [spec.name for spec in selection.write]
    with svc.target.begin() as conn:
        run_id = state.start_run(conn, command="replicate", objects=names, now=started)
    mark = svc.requests.snapshot()
    results: list[ObjectResult] = []
    try:
        for spec in selection.write:
            job = ObjectRun(
                svc,
                spec,
                run_id=run_id,
                run_start=run_start,
                filters=filters,
                rebuild=options.full_refresh,
            )
            result = job.run()
            results.append(result)
            svc.progress.finish(result)
    except BaseException as exc:
        _finish(svc, run_id, "failed", mark, f"{type(exc).__name__}: {exc}")
        raise
    report = RunReport(run_id, started, svc.clock(), tuple(results), time.perf_counter() - t0)
    error = json.dumps({r.name: r.message for r in report.failed}) if report.failed else None
    _finish(svc, run_id, report.status, mark, error)
    return report


def _finish(
    svc: Services, run_id: str, status: state.RunStatus, mark: LogStats, error: str | None
) -> None:
    calls = svc.requests.since(mark).calls
    with svc.target.begin() as conn:
        state.finish_run(conn, run_id, status=status, now=svc.clock(), api_calls=calls, error=error)


def replicate_with_settings(settings: Settings, options: RunOptions) -> RunReport:
    """The CLI's entry: client, target and the system clock from the settings."""
    with open_client(settings) as client:
        target = Target(settings.target_url, clock=system_clock)
        try:
            svc = Services(
                client=client,
                requests=client.log,
                target=target,
                clock=system_clock,
                progress=Progress(),
                lookback=settings.lookback_seconds,
                batch_size=settings.batch_size,
                lock_wait=options.lock_wait,
                crash=CrashPoints.from_env(),
            )
            return replicate(svc, options)
        finally:
            target.dispose()
