"""An object's lock for one run: taken (waiting up to ``lock_wait``), or who holds it."""

from __future__ import annotations

import time
from collections.abc import Callable

import sqlalchemy as sa

from .. import state
from ..clock import Clock


def acquire(
    engine: sa.Engine,
    name: str,
    run_id: str,
    *,
    clock: Clock,
    wait: float,
    sleep: Callable[[float], None],
    interrupted: Callable[[], bool],
) -> state.ObjectLock | None:
    """The object's lock, or None when another run still holds it after ``wait`` seconds
    (or the run is interrupted while waiting)."""
    deadline = time.monotonic() + wait
    while True:
        lock = state.try_lock(engine, name, run_id, clock=clock)
        if lock is not None or time.monotonic() >= deadline or interrupted():
            return lock
        sleep(min(1.0, max(0.05, deadline - time.monotonic())))


def holder_message(engine: sa.Engine, name: str) -> str:
    """Why the object is skipped: the run holding its lock."""
    with engine.connect() as conn:
        holders = [h for h in state.lock_holders(conn) if h.object_name == name]
    if not holders:
        return "another run is working on it; skipped (rerun later or use --lock-wait)"
    h = holders[0]
    return (
        f"run {h.run_id} (pid {h.pid} on {h.host}, since {h.acquired_at:%Y-%m-%d %H:%M:%S}Z) "
        "is working on it; skipped (rerun later or use --lock-wait)"
    )
