"""What a run works with (:class:`Services`), and the steps of an object's run that
need nothing else: taking its lock, saying who holds it, announcing its cost, seeing
that ``sync`` keeps its table."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import sqlalchemy as sa

from .. import state
from ..catalog import ObjectSpec
from ..clock import Clock
from ..config import Settings
from ..extract import Client, ExtractContext, estimate
from ..http import RequestLog
from ..load import Target
from ..systables import sync_collections
from ..threads import Threads
from .crash import CrashPoints
from .deletes import Deletes
from .report import Progress


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
    metrics_lookback: int = Settings.metrics_lookback
    """Seconds: deliveries created this recently are read again for their metrics (0: off)."""
    batch_size: int = 1000
    lock_wait: float = 0.0
    sleep: Callable[[float], None] = time.sleep
    crash: CrashPoints = field(default_factory=CrashPoints)
    workers: int = 1
    """Objects replicated at once (threads sharing the client and its rate limiter)."""
    swap_lock_timeout: float = 3.0
    """Seconds a full refresh's swap waits (per try) for sessions reading the old table."""
    max_drop: float = 0.5
    """Share of a table's rows a full refresh may drop (full_refresh_max_drop, engine/guard)."""
    deletes: Deletes = "soft"
    """What a complete read does with keys gone from the source (engine/deletes.py)."""
    threads: Threads | None = None
    """The run's thread budget for fan-outs and streams (``replicate`` makes one if None)."""

    @property
    def engine(self) -> sa.Engine:
        return self.target.engine


def take_lock(
    svc: Services, name: str, run_id: str, interrupted: Callable[[], bool]
) -> state.ObjectLock | None:
    """The object's lock, waiting up to ``svc.lock_wait`` (None: another run holds it)."""
    deadline = time.monotonic() + svc.lock_wait
    while True:
        lock = state.try_lock(svc.engine, name, run_id, clock=svc.clock)
        if lock is not None or time.monotonic() >= deadline or interrupted():
            return lock
        svc.sleep(min(1.0, max(0.05, deadline - time.monotonic())))


def kept_by_sync(svc: Services, spec: ObjectSpec) -> bool:
    """The object's table is kept in step by ``sync`` (it has synced before): a
    replication run would overwrite the table's changes not synced yet."""
    if not spec.synced:
        return False
    with svc.engine.connect() as conn:
        query = sa.select(sync_collections.c.slot).limit(1)
        return conn.execute(query).first() is not None


def holder_message(svc: Services, name: str) -> str:
    """Why the object was skipped: who holds its lock."""
    with svc.engine.connect() as conn:
        holders = [h for h in state.lock_holders(conn) if h.object_name == name]
    if not holders:
        return "another run is working on it; skipped (rerun later or use --lock-wait)"
    h = holders[0]
    return (
        f"run {h.run_id} (pid {h.pid} on {h.host}, since {h.acquired_at:%Y-%m-%d %H:%M:%S}Z) "
        "is working on it; skipped (rerun later or use --lock-wait)"
    )


def announce_estimate(svc: Services, ctx: ExtractContext) -> None:
    """The calls a costly object (the catalog's ``cost``) will make, said up front."""
    guess = estimate(ctx)
    if guess is None:
        return
    name = ctx.spec.name
    svc.progress.estimate(name, guess.calls)
    svc.progress.say(
        f"{name}: about {guess.calls:,} API calls ({guess.detail})",
        level="info",
        event="object.estimate",
        object=name,
        estimated_calls=guess.calls,
    )
