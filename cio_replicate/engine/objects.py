"""One object of a run: lock, floor, extract, map, write with its state, release.

Per batch, ONE transaction holds the evolved schema, the rows, the object's
resume point (or, on the last batch, its new watermark) and the per-object
run statistics, so a kill at any moment leaves the database at the end of
some committed batch, and the next run continues from there. Watermarks
move only when an object finishes (list order is not trusted: messages come
newest first), are the largest cursor committed, capped at the source's time
at the start of the run that began the read (``since`` in the resume
position, so a resumed read never moves it past what earlier runs read) and
never move backwards (:mod:`cio_replicate.state`).

A full-refresh object (or ``--full-refresh``) is rebuilt in one transaction:
readers see the old table until the new one is complete. A filtered run sees
part of an object: it writes what it read by key, and moves no watermark.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from typing import Any

import sqlalchemy as sa

from .. import state
from ..catalog import ObjectSpec
from ..clock import from_unix
from ..errors import AuthError, Interrupted
from ..extract import Batch, ExtractContext, Feed, Filters, ListingCache, Record, extract
from ..http import LogStats
from ..listen.store import pending_events
from ..load import ReplaceResult, TableWriter
from ..load.replace import SwapPolicy
from ..locks import LockLost
from ..logs import redact
from ..stats import ObjectStats
from .deletes import KeyTracker, tracks
from .ending import ObjectEnd
from .guard import guard_mass_drop
from .keys import existing_keys
from .rows import cursor_of, keeps, max_cursor, rereads, window_floor, write_mode
from .services import (
    RunStopped,
    Services,
    announce_estimate,
    holder_message,
    kept_by_sync,
    take_lock,
)

log = logging.getLogger("cio_replicate.engine")

__all__ = ["ObjectRun", "RunStopped", "Services", "cursor_of", "keeps", "write_mode"]


class ObjectRun(ObjectEnd):
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
        feed: Feed | None = None,
        listings: ListingCache | None = None,
    ) -> None:
        self.svc = svc
        self.spec = spec
        self.run_id = run_id
        self.run_start = run_start
        self.filters = filters
        self.rebuild = rebuild
        self.partial = filters.touches(spec)
        self.reread = rereads(spec, svc.metrics_lookback) and not rebuild
        self.mode = write_mode(spec, rebuild=rebuild, partial=self.partial, reread=self.reread)
        self.stats = ObjectStats(spec.name, mode=spec.mode if not rebuild else "full")
        self.stop = stop or threading.Event()
        self.feed = feed
        self.listings = listings
        self._mark = svc.requests.snapshot(spec.name)
        self._t0 = time.perf_counter()
        self.lock: state.ObjectLock | None = None
        self._saved_inserted = 0
        self._writer: TableWriter | None = None
        self._since: int | None = None
        self._since_set = False
        self.deletes = svc.deletes if tracks(spec) else "keep"
        self._keys = KeyTracker(spec, enabled=False)

    # --- the steps ------------------------------------------------------------

    def run(self) -> ObjectStats:
        """Replicate the object; its API calls are counted under its name."""
        self.svc.progress.start(self.spec.name)
        with self.svc.requests.scope(self.spec.name):
            return self._run()

    def _run(self) -> ObjectStats:
        svc, name = self.svc, self.spec.name
        if self._interrupted():
            return self._result("interrupted", "not started")
        if not self.rebuild and kept_by_sync(svc, self.spec):
            return self._result("skipped", f"kept in step by `cio-replicate sync {name}`")
        try:
            self.lock = take_lock(svc, name, self.run_id, self._interrupted)
        except Exception as exc:  # e.g. SQLite busy for longer than its timeout
            return self._result("failed", redact(f"could not take the object's lock: {exc}"))
        if self.lock is None:
            if self._interrupted():
                return self._result("interrupted", "not started")
            return self._result("skipped", holder_message(svc, name))
        batches: Iterator[Batch] | None = None
        try:
            with svc.target.begin() as conn:
                current = state.load_state(conn, name)
                state.start_object(conn, self.run_id, name, now=svc.clock())
            floor = None
            if not self.rebuild or self.partial:
                floor = state.read_floor(self.spec.mode, current.watermark, svc.lookback)
            if self.reread:  # deliveries of the window: their later opens and clicks
                floor = window_floor(floor, self.run_start, svc.metrics_lookback)
            saved = state.read_position(current.resume)
            if self.mode == "replace" or self.partial:
                saved = None
            if saved is not None:  # a resumed read: its watermark is capped where it began
                self._since, self._since_set = saved.cap, True
            # Deletes only from a complete read: from the start, unfiltered (engine/deletes).
            complete = saved is None and not self.partial and self.deletes != "keep"
            self._keys = KeyTracker(self.spec, enabled=complete and self.mode != "replace")
            self.stats.max_cursor = saved.max if saved else None
            ctx = ExtractContext(
                client=svc.client,
                spec=self.spec,
                floor=floor,
                until=self.run_start,
                resume=saved.at if saved else None,
                filters=self.filters,
                batch_size=svc.batch_size,
                known=self._known if self._by_new_keys() else None,
                warn=svc.progress.say,
                feed=self.feed,
                listings=self.listings,
                threads=svc.threads,
            )
            announce_estimate(svc, ctx)
            batches = extract(ctx)
            keep = keeps(self.spec, floor)
            if self.mode == "replace":
                # --full-refresh forgets the watermark only when the new table is in
                # (in the swap's transaction): a failed rebuild leaves both as they were.
                self._replace(batches, keep, None if self.rebuild else current.watermark)
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
            soft = self.deletes == "soft"
            self._writer = self.svc.target.table(
                spec.table,
                spec.key,
                spec.timestamps,
                open_key=spec.synced,
                soft_deletes=soft,
                typed=spec.typed,
            )
            self._writer.object_name = spec.name  # named in the hint of a hand-altered table
        return self._writer

    def _batches(
        self, batches: Iterator[Batch], keep: Callable[[Record], bool], old: int | None
    ) -> None:
        svc = self.svc
        table = self._table()
        with svc.engine.connect() as conn:
            table.verify(conn)  # a table altered by hand: a hint, not a driver error
        events = pending_events(svc.target, table)  # deliveries: events `listen` stored
        for batch in batches:
            svc.crash.reached("batch")
            self._keys.add(batch.records)  # every key read, below the floor too
            self._keys.add(batch.listed)
            records = [r for r in batch.records if keep(r)]
            self._count(records, batch.pages)
            rows = table.prepare(records)
            with svc.target.begin() as conn:
                if self.mode == "insert":
                    self.stats.inserted += table.insert_missing(conn, rows)
                else:
                    ins, upd = table.upsert(conn, rows, merge=self.spec.metrics)
                    self.stats.inserted += ins
                    self.stats.updated += upd
                if events is not None:
                    events(conn, rows)
                if batch.done:  # the read is over: keys not read are gone (if complete)
                    moment = from_unix(svc.clock())
                    gone = self._keys.finish(conn, table, self.deletes, moment, svc.max_drop)
                    self.stats.deleted += gone
                self._guard(conn)
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
        batches = guard_mass_drop(batches, svc.target, table.name, svc.max_drop)
        events = pending_events(svc.target, table)  # deliveries: events `listen` stored

        def rows() -> Iterator[list[dict[str, Any]]]:
            for batch in batches:
                if not batch.done:
                    self._check_stop()
                svc.crash.reached("batch")
                records = [r for r in batch.records if keep(r)]
                self._count(records, batch.pages)
                self.stats.staged += len(records)
                self._tick()
                yield self._merged(table, table.prepare(records))

        def finish(conn: sa.Connection, outcome: ReplaceResult) -> None:
            self.stats.inserted += outcome.inserted
            self.stats.updated += outcome.updated
            self.stats.deleted += outcome.deleted
            if self.rebuild:
                state.reset_state(conn, spec.name)
            if events is not None:
                events(conn, None)
            self._save(conn, Batch([], done=True), old, rows_total=outcome.rows)
            svc.crash.reached("write")

        # Each batch is staged in a short transaction of its own (no write lock
        # held across API calls); the swap and the state commit together last.
        swap = SwapPolicy(timeout=svc.swap_lock_timeout, sleep=svc.sleep)
        soft = from_unix(svc.clock()) if self.deletes == "soft" else None
        table.replace_staged(
            rows(), finish, run_id=self.run_id, guard=self._guard, swap=swap, soft_deleted_at=soft
        )
        svc.crash.reached("commit")

    def _merged(self, table: TableWriter, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """A rebuilt delivery table keeps the metrics keys the live one holds (load/merge.py)."""
        if self.spec.metrics is None or not rows:
            return rows
        with self.svc.engine.connect() as conn:
            return table.merge_stored(conn, rows, self.spec.metrics, lock=False)

    def _save(
        self, conn: sa.Connection, batch: Batch, old: int | None, rows_total: int | None = None
    ) -> None:
        """State and statistics, in the batch's transaction (``rows_total``: after a rebuild)."""
        svc, name = self.svc, self.spec.name
        now = svc.clock()
        if not self.partial:
            since = self._cap()
            watermark: int | None = None
            resume: dict[str, Any] | None = None
            if batch.done and since is not None:
                watermark = state.next_watermark(old, [self.stats.max_cursor], since)
            elif not batch.done:
                resume = state.Position(batch.resume, self.stats.max_cursor, since).to_json()
            state.save_state(
                conn,
                name,
                watermark=watermark,
                resume=resume,
                run_id=self.run_id,
                now=now,
                rows_added=self.stats.inserted - self._saved_inserted,
                rows_total=rows_total,
            )
            self._saved_inserted = self.stats.inserted
        stats = replace(
            self.stats,
            status="success" if batch.done else "running",
            api_calls=self._calls().calls,
            message=self._note() if batch.done else None,
        )
        state.finish_object(conn, self.run_id, name, stats, now=now)

    # --- helpers ----------------------------------------------------------------

    def _cap(self) -> int | None:
        """The watermark's cap: the source's time at the start of the earliest run of
        this read (None: unknown, from a resume position of an earlier version)."""
        if not self._since_set:
            probe = getattr(self.svc.client, "source_time", None)
            source_now = probe() if callable(probe) else None
            now = self.svc.clock()
            self._since = state.source_start(self.run_start, now, source_now)
            self._since_set = True
        return self._since

    def _count(self, records: list[Record], pages: int) -> None:
        self.stats.max_cursor = max_cursor(self.spec, records, self.stats.max_cursor)
        self.stats.pages += pages

    def _by_new_keys(self) -> bool:
        """Only keys not loaded yet need their records fetched (people: attribute calls);
        a rebuild fetches every one."""
        return self.mode == "insert" or (self.mode == "upsert" and self.spec.current)

    def _known(self, keys: Sequence[tuple[Any, ...]]) -> set[tuple[Any, ...]]:
        with self.svc.engine.connect() as conn:
            return existing_keys(conn, self._table(), keys)

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

    def _guard(self, conn: sa.Connection) -> None:
        """Last in each write transaction: the object's lock is still ours (else LockLost)."""
        if self.lock is not None:
            self.lock.confirm(conn)

    def _tick(self) -> None:
        if self.lock is not None and not self.lock.heartbeat():
            raise LockLost(self.spec.name)  # stop at once: another run may hold it now
        calls = self._calls()
        self.svc.progress.update(
            self.spec.name,
            self.stats.inserted + self.stats.updated + self.stats.staged,
            self.stats.pages,
            calls.calls,
            calls.throttled,
            calls.wait_seconds + calls.retry_wait_seconds,
        )
