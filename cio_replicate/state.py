"""Watermarks (pure rules) and their store in the target database.

Rules, as plain functions over unix seconds:

* every object with a watermark re-reads from ``floor = watermark - lookback``
  (records updated at the watermark's second, or listed late, are read again;
  upserts, and for append-only objects inserting only the keys not yet
  loaded, make that harmless);
* the next watermark is the largest cursor among the rows *committed*, capped
  at the source's time of the earliest read it covers (the start of the run
  that began the read, carried in the resume position as ``since`` when a
  later run finishes it), and it never moves backwards.

The store reads and writes ``_cio_state``, ``_cio_runs`` and
``_cio_run_objects`` through a connection the caller passes in, so a watermark
is committed in the same transaction as the rows it covers. Object locks live
in :mod:`cio_replicate.locks` and are re-exported here.
"""

from __future__ import annotations

import json
import math
import os
import socket
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

import sqlalchemy as sa

from .clock import from_unix
from .locks import (
    DEFAULT_STALE_AFTER,
    LockHolder,
    ObjectLock,
    heartbeat,
    holder_is_live,
    lock_holders,
    release,
    try_lock,
    utc,
)
from .positions import Position, read_position
from .stats import ObjectStats, ObjectStatus
from .systables import run_objects, runs, state

Mode = Literal["incremental", "append", "full"]
RunStatus = Literal["running", "success", "partial", "failed", "interrupted"]

__all__ = [
    "DEFAULT_STALE_AFTER",
    "LockHolder",
    "ObjectLock",
    "ObjectState",
    "ObjectStats",
    "ObjectStatus",
    "Position",
    "finish_object",
    "finish_run",
    "heartbeat",
    "holder_is_live",
    "is_new",
    "load_state",
    "lock_holders",
    "new_run_id",
    "next_watermark",
    "read_floor",
    "read_position",
    "release",
    "reset_state",
    "resume_since",
    "save_state",
    "source_start",
    "start_object",
    "start_run",
    "try_lock",
]


# --- pure rules ---------------------------------------------------------------


def read_floor(mode: Mode, watermark: int | None, lookback: int = 0) -> int | None:
    """The lowest cursor value a run must read (inclusive), or None for everything.

    Append-only objects re-read the lookback overlap too: a record the source
    lists late (older than the watermark when it appears) is still found; the
    writer inserts only the keys it does not hold yet."""
    if watermark is None or mode == "full":
        return None
    return max(0, watermark - max(0, lookback))


def is_new(mode: Mode, cursor: int | None, watermark: int | None, lookback: int = 0) -> bool:
    """Whether a record with this cursor value belongs in the run (is read)."""
    if mode == "full" or watermark is None:
        return True
    if cursor is None:
        return mode == "incremental"  # cannot place it: re-upserting is harmless
    floor = read_floor(mode, watermark, lookback)
    return floor is None or cursor >= floor


def source_start(run_start: int, our_now: float, source_now: float | None) -> int:
    """The run's start on the source's clock (``source_now``: from the API's ``Date``
    headers, None when unknown: our clock is taken as the source's)."""
    if source_now is None:
        return run_start
    return math.floor(run_start + source_now - our_now)


def resume_since(saved: Any) -> int | None:
    """Where the watermark of a resumed read is capped (:attr:`Position.cap`): ``since``
    (the source's time at the start of the run that began the read), or for positions
    written by earlier versions the end of their time window; None when unknown (the
    watermark then stays where it was: the next run reads from there again)."""
    position = read_position(saved)
    return None if position is None else position.cap


def next_watermark(
    previous: int | None, committed_cursors: Iterable[int | None], run_started_at: int
) -> int | None:
    """The watermark after a commit: max committed cursor, capped, never backwards."""
    seen = [c for c in committed_cursors if c is not None]
    if not seen:
        return previous
    candidate = min(max(seen), run_started_at)
    return candidate if previous is None else max(previous, candidate)


# --- watermark store ------------------------------------------------------------


@dataclass(frozen=True)
class ObjectState:
    object_name: str
    watermark: int | None = None
    resume: Any = None  # JSON value: where an interrupted read goes on
    rows_total: int = 0
    last_run_id: str | None = None
    updated_at: datetime | None = None


def _state_of(row: sa.Row[tuple[object, ...]]) -> ObjectState:
    m = row._mapping
    return ObjectState(
        object_name=str(m["object_name"]),
        watermark=None if m["watermark"] is None else int(m["watermark"]),
        resume=None if m["resume"] is None else json.loads(str(m["resume"])),
        rows_total=int(m["rows_total"] or 0),
        last_run_id=m["last_run_id"],
        updated_at=None if m["updated_at"] is None else utc(m["updated_at"]),
    )


def load_state(conn: sa.Connection, object_name: str) -> ObjectState:
    row = conn.execute(sa.select(state).where(state.c.object_name == object_name)).first()
    return ObjectState(object_name) if row is None else _state_of(row)


def load_states(conn: sa.Connection) -> dict[str, ObjectState]:
    return {s.object_name: s for s in map(_state_of, conn.execute(sa.select(state)).all())}


def _put_state(conn: sa.Connection, values: dict[str, Any]) -> None:
    name = values["object_name"]
    done = conn.execute(state.update().where(state.c.object_name == name).values(values))
    if done.rowcount == 0:
        conn.execute(state.insert().values(values))


def save_state(
    conn: sa.Connection,
    object_name: str,
    *,
    watermark: int | None,
    resume: Any,
    run_id: str,
    now: float,
    rows_added: int = 0,
    rows_total: int | None = None,
) -> ObjectState:
    """Record progress in the caller's transaction.

    The watermark never moves backwards (None keeps the stored one); ``resume``
    replaces the stored cursor (None clears it); ``rows_total`` sets the count,
    else ``rows_added`` is added to it.
    """
    old = load_state(conn, object_name)
    kept = old.watermark if watermark is None else max(watermark, old.watermark or watermark)
    total = old.rows_total + rows_added if rows_total is None else rows_total
    _put_state(
        conn,
        {
            "object_name": object_name,
            "watermark": kept,
            "resume": None if resume is None else json.dumps(resume, sort_keys=True),
            "rows_total": total,
            "last_run_id": run_id,
            "updated_at": from_unix(now),
        },
    )
    return load_state(conn, object_name)


def reset_state(conn: sa.Connection, object_name: str) -> None:
    """Forget the watermark and resume cursor (the next run reads everything)."""
    conn.execute(
        state.update().where(state.c.object_name == object_name).values(watermark=None, resume=None)
    )


# --- runs and per-object run stats ----------------------------------------------


def new_run_id() -> str:
    return str(uuid.uuid4())


def start_run(
    conn: sa.Connection,
    *,
    command: str,
    objects: Sequence[str],
    now: float,
    run_id: str | None = None,
) -> str:
    run_id = run_id or new_run_id()
    conn.execute(
        runs.insert().values(
            run_id=run_id,
            command=command,
            status="running",
            started_at=from_unix(now),
            pid=os.getpid(),
            host=socket.gethostname()[:255],
            objects=json.dumps(list(objects)),
        )
    )
    return run_id


def finish_run(
    conn: sa.Connection,
    run_id: str,
    *,
    status: RunStatus,
    now: float,
    api_calls: int = 0,
    error: str | None = None,
) -> None:
    """Record the end of a run; an object it left unfinished is marked failed with why
    (interrupted, without an error, when the run was)."""
    conn.execute(
        runs.update()
        .where(runs.c.run_id == run_id)
        .values(status=status, finished_at=from_unix(now), api_calls=api_calls, error=error)
    )
    reason = "the run ended before this object finished" + (f": {error}" if error else "")
    left: dict[str, Any] = {"status": "failed", "errors": 1, "message": reason[:1000]}
    if status == "interrupted":
        left = {"status": "interrupted", "message": "the run was interrupted"}
    unfinished = sa.and_(run_objects.c.run_id == run_id, run_objects.c.status == "running")
    conn.execute(run_objects.update().where(unfinished).values(finished_at=from_unix(now), **left))


def start_object(conn: sa.Connection, run_id: str, object_name: str, *, now: float) -> None:
    conn.execute(
        run_objects.insert().values(
            run_id=run_id, object_name=object_name, status="running", started_at=from_unix(now)
        )
    )


def finish_object(
    conn: sa.Connection, run_id: str, object_name: str, stats: ObjectStats, *, now: float
) -> None:
    values = {
        "status": stats.status,
        "rows_inserted": stats.inserted,
        "rows_updated": stats.updated,
        "rows_deleted": stats.deleted,
        "api_calls": stats.api_calls,
        "errors": stats.errors,
        "message": stats.message,
        "finished_at": from_unix(now),
    }
    mine = sa.and_(run_objects.c.run_id == run_id, run_objects.c.object_name == object_name)
    if conn.execute(run_objects.update().where(mine).values(values)).rowcount == 0:
        conn.execute(
            run_objects.insert().values(
                values
                | {
                    "run_id": run_id,
                    "object_name": object_name,
                    "started_at": values["finished_at"],
                }
            )
        )


# --- what `status` shows ----------------------------------------------------------


def _latest(conn: sa.Connection, where: sa.ColumnElement[bool] | None) -> dict[str, ObjectStats]:
    condition = sa.true() if where is None else where
    newest = (
        sa.select(run_objects.c.object_name, sa.func.max(run_objects.c.started_at).label("at"))
        .where(condition)
        .group_by(run_objects.c.object_name)
        .subquery()
    )
    query = (
        sa.select(run_objects, runs.c.command)
        .join(runs, runs.c.run_id == run_objects.c.run_id)
        .join(
            newest,
            sa.and_(
                newest.c.object_name == run_objects.c.object_name,
                newest.c.at == run_objects.c.started_at,
            ),
        )
        .where(condition)
    )
    latest: dict[str, ObjectStats] = {}
    for row in conn.execute(query).all():
        m = row._mapping
        item = ObjectStats(
            name=m["object_name"],
            run_id=m["run_id"],
            command=m["command"],
            status=m["status"],
            started_at=None if m["started_at"] is None else utc(m["started_at"]),
            finished_at=None if m["finished_at"] is None else utc(m["finished_at"]),
            inserted=int(m["rows_inserted"]),
            updated=int(m["rows_updated"]),
            deleted=int(m["rows_deleted"]),
            api_calls=int(m["api_calls"]),
            errors=int(m["errors"]),
            message=m["message"],
        )
        seen = latest.get(item.name)
        if seen is None or _when(item) >= _when(seen):
            latest[item.name] = item
    return latest


def _when(item: ObjectStats) -> tuple[bool, float]:
    """Order of runs that started in the same second: unfinished last, then by finish."""
    done = item.finished_at
    return (done is None, done.timestamp() if done else 0.0)


def last_object_runs(conn: sa.Connection) -> dict[str, ObjectStats]:
    """Each object's most recent run."""
    return _latest(conn, None)


def last_object_errors(conn: sa.Connection) -> dict[str, ObjectStats]:
    """Each object's most recent run that failed or reported errors."""
    return _latest(conn, sa.or_(run_objects.c.status == "failed", run_objects.c.errors > 0))
