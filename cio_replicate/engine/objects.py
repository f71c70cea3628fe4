"""One object of a run: lock, floor, extract, map, write with its state, release.

Per batch, ONE transaction holds the evolved schema, the rows, the object's
resume point (or, on the last batch, its new watermark) and the per-object
run statistics, so a kill at any moment leaves the database at the end of
some committed batch, and the next run continues from there. Watermarks
move only when an object finishes (list order is not trusted: messages come
newest first), are the largest cursor committed, capped at the run's start
and never move backwards (:mod:`cio_replicate.state`).

A full-refresh object (or ``--full-refresh``) is rebuilt in one transaction:
readers see the old table until the new one is complete. A filtered run sees
part of an object: it writes what it read by key, and moves no watermark.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import sqlalchemy as sa

from .. import state
from ..catalog import ObjectSpec
from ..clock import Clock
from ..errors import AuthError, Interrupted
from ..extract import Batch, Client, ExtractContext, Record, extract
from ..extractors.filters import Filters
from ..extractors.people import PeopleFeed, count_people
from ..http import LogStats, RequestLog
from ..listings import ListingCache
from ..load import ReplaceResult, TableWriter, Target
from ..logs import redact
from .crash import CrashPoints
from .keys import existing_keys
from .report import ObjectResult, Progress

log = logging.getLogger("cio_replicate.engine")

WriteMode = Literal["upsert", "insert", "replace"]


class RunStopped(Exception):
    """Another object of the run hit a fatal error (or the run was interrupted)."""


@dataclass(frozen=True)
class Services:
    """What a run works with (all injected: tests pass a sandbox client, a fixed clock)."""

    client: Client
    requests: RequestLog
    target: Target
    clock: Clock
    progress: Progress
    lookback: int = 3600
    batch_size: int = 1000
    lock_wait: float = 0.0
    sleep: Callable[[float], None] = time.sleep
    crash: CrashPoints = field(default_factory=CrashPoints)
    workers: int = 1
    """Objects replicated at once (threads sharing the client and its rate limiter)."""

    @property
    def engine(self) -> sa.Engine:
        return self.target.engine


@dataclass
class Tally:
    inserted: int = 0
    updated: int = 0
    deleted: int = 0
    pages: int = 0
    max_cursor: int | None = None

    def cursors(self, spec: ObjectSpec, records: Iterable[Record]) -> None:
        if spec.cursor is None:
            return
        for record in records:
            value = cursor_of(record, spec.cursor)
            if value is not None and (self.max_cursor is None or value > self.max_cursor):
                self.max_cursor = value


def cursor_of(record: Mapping[str, Any], name: str) -> int | None:
    value = record.get(name)
    if isinstance(value, bool) or value is None:
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def write_mode(spec: ObjectSpec, *, rebuild: bool, partial: bool) -> WriteMode:
    if partial:
        return "insert" if spec.mode == "append" else "upsert"
    if rebuild or spec.mode == "full":
        return "replace"
    return "insert" if spec.mode == "append" else "upsert"


def keeps(spec: ObjectSpec, floor: int | None) -> Callable[[Record], bool]:
    """Records at or above the floor (records without a cursor value are kept).

    Irregular extractors choose their own records (people are found by id,
    not by time), so only regular listings are cut by the floor.
    """
    if floor is None or spec.cursor is None or spec.extractor is not None:
        return lambda record: True
    name = spec.cursor

    def keep(record: Record) -> bool:
        value = cursor_of(record, name)
        return value is None or value >= floor

    return keep


class ObjectRun:
    def __init__(
        self,
        svc: Services,
        spec: ObjectSpec,
        *,
        run_id: str,
        run_start: int,
        filters: Filters,
        rebuild: bool,
        stop: threading.Event | None = None,
        feed: PeopleFeed | None = None,
        listings: ListingCache | None = None,
    ) -> None:
        self.svc = svc
        self.spec = spec
        self.run_id = run_id
        self.run_start = run_start
        self.filters = filters
        self.rebuild = rebuild
        self.partial = filters.touches(spec)
        self.mode = write_mode(spec, rebuild=rebuild, partial=self.partial)
        self.tally = Tally()
        self.stop = stop or threading.Event()
        self.feed = feed
        self.listings = listings
        self._mark = svc.requests.snapshot(spec.name)
        self._t0 = time.perf_counter()
        self.lock: state.ObjectLock | None = None
        self._saved_inserted = 0
        self._writer: TableWriter | None = None

    # --- the steps ------------------------------------------------------------

    def run(self) -> ObjectResult:
        """Replicate the object; its API calls are counted under its name."""
        with self.svc.requests.scope(self.spec.name):
            return self._run()

    def _run(self) -> ObjectResult:
        svc, name = self.svc, self.spec.name
        if self._interrupted():
            return self._result("interrupted", "not started")
        try:
            self.lock = self._acquire()
        except Exception as exc:  # e.g. SQLite busy for longer than its timeout
            return self._result("failed", redact(f"could not take the object's lock: {exc}"))
        if self.lock is None:
            if self._interrupted():
                return self._result("interrupted", "not started")
            return self._result("skipped", self._holder_message())
        batches: Iterator[Batch] | None = None
        try:
            with svc.target.begin() as conn:
                if self.rebuild and not self.partial:
                    state.reset_state(conn, name)
                current = state.load_state(conn, name)
                state.start_object(conn, self.run_id, name, now=svc.clock())
            floor = None
            if not self.rebuild or self.partial:
                floor = state.read_floor(self.spec.mode, current.watermark, svc.lookback)
            saved = current.resume if isinstance(current.resume, dict) else {}
            if self.mode == "replace" or self.partial:
                saved = {}
            self.tally.max_cursor = saved.get("max")
            ctx = ExtractContext(
                client=svc.client,
                spec=self.spec,
                floor=floor,
                until=self.run_start,
                resume=saved.get("at"),
                filters=self.filters,
                batch_size=svc.batch_size,
                known=self._known if self.mode == "insert" else None,
                warn=svc.progress.say,
                feed=self.feed,
                listings=self.listings,
            )
            self._estimate(ctx)
            batches = extract(ctx)
            keep = keeps(self.spec, floor)
            if self.mode == "replace":
                self._replace(batches, keep, current.watermark)
            else:
                self._batches(batches, keep, current.watermark)
            return self._result("success", self._note())
        except Interrupted:
            return self._stopped()
        except AuthError as exc:
            if exc.status == 401:
                raise  # wrong key or region: every object would fail the same way
            return self._failed(exc)
        except Exception as exc:
            log.debug("%s failed", name, exc_info=True)
            return self._failed(exc)
        finally:
            self._close(batches)
            self.lock.release()

    def _table(self) -> TableWriter:
        if self._writer is None:
            spec = self.spec
            self._writer = self.svc.target.table(spec.table, spec.key, spec.timestamps)
        return self._writer

    def _batches(
        self, batches: Iterator[Batch], keep: Callable[[Record], bool], old: int | None
    ) -> None:
        svc, spec = self.svc, self.spec
        table = self._table()
        for batch in batches:
            svc.crash.reached("batch")
            records = [r for r in batch.records if keep(r)]
            self.tally.cursors(spec, records)
            self.tally.pages += batch.pages
            rows = table.prepare(records)
            with svc.target.begin() as conn:
                if self.mode == "insert":
                    self.tally.inserted += table.insert_missing(conn, rows)
                else:
                    ins, upd = table.upsert(conn, rows)
                    self.tally.inserted += ins
                    self.tally.updated += upd
                self._save(conn, batch, old)
                svc.crash.reached("write")
            svc.crash.reached("commit")
            self._tick()
            if not batch.done:
                self._check_stop()  # after the commit: a batch read in full is kept

    def _replace(
        self, batches: Iterator[Batch], keep: Callable[[Record], bool], old: int | None
    ) -> None:
        svc, spec = self.svc, self.spec
        table = self._table()

        def rows() -> Iterator[list[dict[str, Any]]]:
            for batch in batches:
                if not batch.done:
                    self._check_stop()
                svc.crash.reached("batch")
                records = [r for r in batch.records if keep(r)]
                self.tally.cursors(spec, records)
                self.tally.pages += batch.pages
                self._tick()
                yield table.prepare(records)

        def finish(conn: sa.Connection, outcome: ReplaceResult) -> None:
            self.tally.inserted += outcome.inserted
            self.tally.updated += outcome.updated
            self.tally.deleted += outcome.deleted
            self._save(conn, Batch([], done=True), old, rows_total=outcome.rows)
            svc.crash.reached("write")

        # Each batch is staged in a short transaction of its own (no write lock
        # held across API calls); the swap and the state commit together last.
        table.replace_staged(rows(), finish)
        svc.crash.reached("commit")

    def _save(
        self, conn: sa.Connection, batch: Batch, old: int | None, rows_total: int | None = None
    ) -> None:
        """State and statistics, in the batch's transaction (``rows_total``: after a rebuild)."""
        svc, name = self.svc, self.spec.name
        now = svc.clock()
        if not self.partial:
            if batch.done:
                watermark = state.next_watermark(old, [self.tally.max_cursor], self.run_start)
                resume = None
            else:
                watermark = None
                resume = {"at": batch.resume, "max": self.tally.max_cursor}
            state.save_state(
                conn,
                name,
                watermark=watermark,
                resume=resume,
                run_id=self.run_id,
                now=now,
                rows_added=self.tally.inserted - self._saved_inserted,
                rows_total=rows_total,
            )
            self._saved_inserted = self.tally.inserted
        stats = state.ObjectStats(
            status="success" if batch.done else "running",
            rows_inserted=self.tally.inserted,
            rows_updated=self.tally.updated,
            rows_deleted=self.tally.deleted,
            api_calls=self._calls().calls,
            message=self._note() if batch.done else None,
        )
        state.finish_object(conn, self.run_id, name, stats, now=now)

    # --- helpers ----------------------------------------------------------------

    def _known(self, keys: Sequence[tuple[Any, ...]]) -> set[tuple[Any, ...]]:
        with self.svc.engine.connect() as conn:
            return existing_keys(conn, self._table(), keys)

    def _estimate(self, ctx: ExtractContext) -> None:
        if not self.spec.per_person:
            return
        people, searches = count_people(ctx)
        per = "1 call" if not self.spec.paginated else "1 call (more for long histories)"
        self.svc.progress.say(
            f"{self.spec.name}: about {people + 2 * searches:,} API calls "
            f"({people:,} people x {per} + {searches:,} search pages, read twice: "
            "once for this estimate)"
        )

    def _acquire(self) -> state.ObjectLock | None:
        svc = self.svc
        deadline = time.monotonic() + svc.lock_wait
        while True:
            lock = state.try_lock(svc.engine, self.spec.name, self.run_id, clock=svc.clock)
            if lock is not None or time.monotonic() >= deadline or self._interrupted():
                return lock
            svc.sleep(min(1.0, max(0.05, deadline - time.monotonic())))

    def _holder_message(self) -> str:
        with self.svc.engine.connect() as conn:
            holders = [h for h in state.lock_holders(conn) if h.object_name == self.spec.name]
        if not holders:
            return "another run is working on it; skipped (rerun later or use --lock-wait)"
        h = holders[0]
        return (
            f"run {h.run_id} (pid {h.pid} on {h.host}, since {h.acquired_at:%Y-%m-%d %H:%M:%S}Z) "
            "is working on it; skipped (rerun later or use --lock-wait)"
        )

    def _note(self) -> str | None:
        if self.partial:
            return "filtered: rows written by key, watermark unchanged"
        return None

    def _calls(self) -> LogStats:
        return self.svc.requests.since(self._mark, self.spec.name)

    def _close(self, batches: Iterator[Batch] | None) -> None:
        """End the extraction: its threads (fan-out, streams) end before the lock is released."""
        try:
            close = getattr(batches, "close", None)
            if close is not None:
                close()
        except Exception:  # the object's outcome is decided already
            log.debug("closing the extraction of %s failed", self.spec.name, exc_info=True)

    def _interrupted(self) -> bool:
        """The run was asked to stop (Ctrl-C, SIGTERM): the client no longer sends."""
        return self.svc.client.stopping.is_set()

    def _check_stop(self) -> None:
        if self._interrupted():
            raise Interrupted("interrupted")
        if self.stop.is_set():
            raise RunStopped("the run stopped (another object failed fatally, or an interrupt)")

    def _tick(self) -> None:
        if self.lock is not None:
            self.lock.heartbeat()
        calls = self._calls()
        self.svc.progress.update(
            self.spec.name,
            self.tally.inserted + self.tally.updated,
            self.tally.pages,
            calls.calls,
            calls.throttled,
            calls.wait_seconds + calls.retry_wait_seconds,
        )

    def _failed(self, exc: BaseException) -> ObjectResult:
        message = redact(f"{type(exc).__name__}: {exc}")
        try:
            with self.svc.target.begin() as conn:
                stats = state.ObjectStats(
                    status="failed",
                    rows_inserted=self.tally.inserted,
                    rows_updated=self.tally.updated,
                    rows_deleted=self.tally.deleted,
                    api_calls=self._calls().calls,
                    errors=1,
                    message=message,
                )
                state.finish_object(conn, self.run_id, self.spec.name, stats, now=self.svc.clock())
        except Exception:  # the database itself may be what failed
            log.debug("could not record the failure of %s", self.spec.name, exc_info=True)
        return self._result("failed", message)

    def _stopped(self) -> ObjectResult:
        """Interrupted: the committed batches stay, the next run goes on from them."""
        if self.mode == "replace":
            message = "stopped before the rebuild was complete: the next run rebuilds it"
        else:
            message = "stopped: committed batches kept, the next run goes on from them"
        try:
            with self.svc.target.begin() as conn:
                stats = state.ObjectStats(
                    status="interrupted",
                    rows_inserted=self.tally.inserted,
                    rows_updated=self.tally.updated,
                    rows_deleted=self.tally.deleted,
                    api_calls=self._calls().calls,
                    message=message,
                )
                state.finish_object(conn, self.run_id, self.spec.name, stats, now=self.svc.clock())
        except Exception:  # the database itself may be what failed
            log.debug("could not record the interruption of %s", self.spec.name, exc_info=True)
        return self._result("interrupted", message)

    def _result(
        self,
        status: Literal["success", "failed", "skipped", "interrupted"],
        message: str | None,
    ) -> ObjectResult:
        calls = self._calls()
        try:
            with self.svc.engine.connect() as conn:
                watermark = state.load_state(conn, self.spec.name).watermark
        except Exception:  # the database itself may be what failed
            watermark = None
        return ObjectResult(
            name=self.spec.name,
            mode=self.spec.mode if not self.rebuild else "full",
            status=status,
            inserted=self.tally.inserted,
            updated=self.tally.updated,
            deleted=self.tally.deleted,
            pages=self.tally.pages,
            api_calls=calls.calls,
            throttled=calls.throttled,
            wait_seconds=calls.wait_seconds + calls.retry_wait_seconds,
            seconds=time.perf_counter() - self._t0,
            watermark=watermark,
            message=message,
        )
