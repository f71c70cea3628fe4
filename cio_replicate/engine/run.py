"""A replication run: migrate, select, run the objects side by side, record the run.

The engine knows no HTTP (the client does) and no SQL beyond transactions
(load and state do). Objects run on ``Services.workers`` threads sharing the
client's rate limiter, the longest first (by the API calls of their last
run), so a run uses the request budget instead of waiting on one listing at
a time; children list their parents from the API, so no order is needed.
The objects' fan-outs and child streams share one thread budget of the
client's concurrency (``Services.threads``, :mod:`cio_replicate.threads`).
One object failing does not stop the others; the run record says
``partial`` and the CLI exits with 4. A wrong key (401) stops the run:
objects still running stop at their next batch.

A stop request (the client's ``stopping`` event, which the CLI sets on SIGINT
and SIGTERM) stops the run at once: no request starts after it, objects not
started yet do not start, batches already read are committed, what is half
read is dropped, every object's lock is released, and the run and its
unfinished objects are recorded ``interrupted``. A KeyboardInterrupt reaching
the engine (no signal handler installed) sets that event and ends the same way.
"""

from __future__ import annotations

import contextvars
import json
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, replace

from .. import migrate, state
from ..catalog import ObjectSpec, resolve_selection
from ..clock import system_clock
from ..config import Settings
from ..connect import open_client
from ..extract import Feed, Filters, ListingCache, parse_filters
from ..http import LogStats
from ..load import Target
from ..load.dberrors import error_message
from ..threads import Threads
from .crash import CrashPoints
from .deletes import deletes_setting
from .objects import ObjectRun
from .report import ObjectStats, Progress, RunReport
from .services import Services

Job = Callable[[], list[ObjectStats]]


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
    svc.target.naming()  # recorded on first use; a contradicting setting stops here (exit 2)
    selection = resolve_selection(options.objects)
    filters = parse_filters(options.filters)
    started = svc.clock()
    t0 = time.perf_counter()
    names = [spec.name for spec in selection.write]
    with svc.target.begin() as conn:
        run_id = state.start_run(conn, command="replicate", objects=names, now=started)
        previous = {n: r.api_calls for n, r in state.last_object_runs(conn).items()}
    mark = svc.requests.snapshot()
    own = None if svc.threads is not None else Threads(getattr(svc.client, "concurrency", 1))
    if own is not None:  # one budget for the fan-outs and streams of every object
        svc = replace(svc, threads=own)
    interrupt = svc.client.stopping
    stop = threading.Event()
    plan = _Plan(svc, run_id, int(started), filters, options.full_refresh, stop, ListingCache())
    jobs = plan.jobs(selection.write, previous)
    svc.progress.begin(names, previous, lambda name: svc.requests.snapshot(name).calls)
    try:
        done = _run_jobs(jobs, max(1, svc.workers), stop, interrupt)
    except KeyboardInterrupt:
        _finish(svc, run_id, "interrupted", mark, "interrupted")
        raise
    except BaseException as exc:
        _finish(svc, run_id, "failed", mark, error_message(exc))
        raise
    finally:
        if own is not None:
            own.shutdown()  # every object has closed its extraction: nothing is running
    order = {name: i for i, name in enumerate(names)}
    results = tuple(sorted(done, key=lambda r: order[r.name]))
    report = RunReport(run_id, started, svc.clock(), results, time.perf_counter() - t0)
    error = json.dumps({r.name: r.message for r in report.failed}) if report.failed else None
    if report.interrupted:
        error = "interrupted" + (f"; failed: {error}" if error else "")
    _finish(svc, run_id, report.status, mark, error)
    return report


@dataclass
class _Plan:
    svc: Services
    run_id: str
    run_start: int
    filters: Filters
    rebuild: bool
    stop: threading.Event
    listings: ListingCache
    """Small top-level listings shared by the run's objects (parents are listed once)."""

    def object_run(self, spec: ObjectSpec, feed: Feed | None = None) -> ObjectRun:
        return ObjectRun(
            self.svc,
            spec,
            run_id=self.run_id,
            run_start=self.run_start,
            filters=self.filters,
            rebuild=self.rebuild,
            stop=self.stop,
            feed=feed,
            listings=self.listings,
        )

    def jobs(self, specs: Sequence[ObjectSpec], previous: dict[str, int]) -> list[Job]:
        """One job per object (two for a shared pass: the catalog's ``feeds``), longest first."""
        selected = {spec.name: spec for spec in specs}
        fed = {spec.feeds for spec in specs if spec.feeds in selected}
        weighted: list[tuple[int, Job]] = []
        for spec in specs:
            if spec.name in fed:
                continue  # runs inside the producer's job
            consumer = selected.get(spec.feeds or "")
            if consumer is not None:
                cost = previous.get(spec.name, 0) + previous.get(consumer.name, 0)
                weighted.append((cost, self._paired(spec, consumer)))
            else:
                weighted.append((previous.get(spec.name, 0), self._single(spec)))
        weighted.sort(key=lambda item: -item[0])  # stable: ties keep the selection order
        return [job for _cost, job in weighted]

    def _single(self, spec: ObjectSpec) -> Job:
        def job() -> list[ObjectStats]:
            result = self.object_run(spec).run()
            self.svc.progress.finish(result)
            return [result]

        return job

    def _paired(self, producer: ObjectSpec, consumer: ObjectSpec) -> Job:
        """The producer reads people once and feeds the consumer, on a thread of its own."""

        def job() -> list[ObjectStats]:
            feed = Feed(producer.name)

            def consume() -> ObjectStats:
                try:
                    return self.object_run(consumer, feed).run()
                finally:
                    feed.detach()  # also when it never read (skipped): the producer goes on

            with ThreadPoolExecutor(1, thread_name_prefix="cio-feed") as pool:
                waiting = pool.submit(contextvars.copy_context().run, consume)
                try:
                    first = self.object_run(producer, feed).run()
                finally:  # no-op after a complete pass
                    feed.close(complete=False, interrupted=self.svc.client.stopping.is_set())
                self.svc.progress.finish(first)
                second = waiting.result()
                self.svc.progress.finish(second)
            return [first, second]

        return job


def _run_jobs(
    jobs: Sequence[Job], workers: int, stop: threading.Event, interrupt: threading.Event
) -> list[ObjectStats]:
    """Run the jobs on ``workers`` threads; the first exception stops the others and is raised
    (a KeyboardInterrupt also sets ``interrupt``: the others stop at their next request)."""
    if workers == 1:
        return [result for job in jobs for result in job()]
    results: list[ObjectStats] = []
    with ThreadPoolExecutor(workers, thread_name_prefix="cio-object") as pool:
        futures: list[Future[list[ObjectStats]]] = [
            pool.submit(contextvars.copy_context().run, job) for job in jobs
        ]
        try:
            finished, _pending = wait(futures, return_when=FIRST_EXCEPTION)
            for future in futures:
                if future in finished and future.exception() is not None:
                    raise future.exception()  # type: ignore[misc]
            results = [r for future in futures for r in future.result()]
        except BaseException as exc:
            stop.set()  # running objects stop at their next batch
            if isinstance(exc, KeyboardInterrupt):
                interrupt.set()  # ... or at once, for an interrupt
            for future in futures:
                future.cancel()
            raise
    return results


def _finish(
    svc: Services, run_id: str, status: state.RunStatus, mark: LogStats, error: str | None
) -> None:
    calls = svc.requests.since(mark).calls
    with svc.target.begin() as conn:
        state.finish_run(conn, run_id, status=status, now=svc.clock(), api_calls=calls, error=error)


def replicate_with_settings(
    settings: Settings, options: RunOptions, stop: threading.Event | None = None
) -> RunReport:
    """The CLI's entry: client, target and the system clock from the settings.

    Setting ``stop`` (the CLI does on SIGINT and SIGTERM) interrupts the run; the
    client is closed only once every thread using it has ended."""
    with open_client(settings, stop=stop) as client, Progress() as progress:
        target = Target(
            settings.target_url,
            clock=system_clock,
            column_names=settings.column_names,
            schema=settings.target_schema,
        )
        try:
            svc = Services(
                client=client,
                requests=client.log,
                target=target,
                clock=system_clock,
                progress=progress,
                lookback=settings.lookback_seconds,
                metrics_lookback=settings.metrics_lookback,
                batch_size=settings.batch_size,
                lock_wait=options.lock_wait,
                crash=CrashPoints.from_env(),
                workers=settings.concurrency,
                swap_lock_timeout=settings.swap_lock_timeout,
                max_drop=settings.full_refresh_max_drop,
                deletes=deletes_setting(settings.deletes),
            )
            return replicate(svc, options)
        finally:
            target.dispose()
