"""Per-object locks: two runs on one target never work on the same object at once.

PostgreSQL: a session advisory lock (``pg_try_advisory_lock``) on a stable hash
of schema and object name; MySQL/MariaDB: ``GET_LOCK(name, 0)``. Both belong to
a dedicated connection the lock holds until release, and the server drops them
when a killed process's connection goes away. SQLite (and any other dialect):
the ``_cio_locks`` row itself, taken over when stale (its pid is dead on this
host, or its heartbeat is older than ``stale_after``), by compare-and-swap. On
every dialect the holder is recorded in ``_cio_locks`` so ``status`` can show it.

A lock can be lost while its run still works: the lock connection dies (a
network cut, a DBA's ``pg_terminate_backend``/``KILL``), or a SQLite holder
stalls past ``stale_after``, and another run takes the lock. ``heartbeat()``
then answers False, and ``confirm(conn)``, run inside each write
transaction, raises :class:`LockLost` before that transaction commits: it
updates the holder row in that transaction, so a run taking the lock over
(which replaces that row) waits for the commit or finds the row changed.
"""

from __future__ import annotations

import hashlib
import os
import socket
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from types import TracebackType
from typing import Literal

import sqlalchemy as sa

from .clock import Clock, from_unix, system_clock, to_unix
from .errors import CioReplicateError
from .load.dialects import family
from .systables import locks

DEFAULT_STALE_AFTER = 900.0  # seconds without a heartbeat before a row lock is stale
LockKind = Literal["advisory", "get_lock", "row"]


def _stable_bytes(text: str) -> bytes:
    return hashlib.sha256(text.encode("utf-8")).digest()


def advisory_key(conn: sa.Connection, name: str) -> int:
    """A PostgreSQL advisory-lock key for `name`, distinct per schema."""
    schema = conn.execute(sa.text("SELECT current_schema()")).scalar()
    return int.from_bytes(_stable_bytes(f"cio_replicate:{schema}:{name}")[:8], "big", signed=True)


def mysql_lock_name(conn: sa.Connection, name: str) -> str:
    """A GET_LOCK name for `name`, distinct per database (locks are server-wide)."""
    database = conn.execute(sa.text("SELECT DATABASE()")).scalar()
    full = f"cio:{database}:{name}"
    return full if len(full) <= 64 else "cio:" + _stable_bytes(full).hex()[:40]


class LockLost(CioReplicateError):
    """The object's lock was lost mid-run: stop the object, commit nothing more for it."""

    def __init__(self, object_name: str) -> None:
        self.object_name = object_name
        super().__init__(
            f"{object_name} lost its lock (another run may hold it now): stopped, nothing "
            "more committed for it; rerun when the other run is done"
        )


def _session_holds(conn: sa.Connection, kind: LockKind, handle: int | str, session: int) -> bool:
    """Whether server session ``session`` holds the advisory/GET_LOCK lock ``handle``."""
    if kind == "advisory":
        assert isinstance(handle, int)
        key = handle & 0xFFFFFFFFFFFFFFFF
        held = conn.execute(
            sa.text(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted"
                " AND objsubid = 1 AND classid::bigint = :hi AND objid::bigint = :lo"
                " AND pid = :pid"
            ),
            {"hi": key >> 32, "lo": key & 0xFFFFFFFF, "pid": session},
        ).scalar()
        return bool(held)
    owner = conn.execute(sa.text("SELECT IS_USED_LOCK(:h)"), {"h": handle}).scalar()
    return owner is not None and int(owner) == session


def _session_id(conn: sa.Connection, kind: LockKind) -> int:
    sql = "SELECT pg_backend_pid()" if kind == "advisory" else "SELECT CONNECTION_ID()"
    return int(conn.execute(sa.text(sql)).scalar_one())


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # exists but not ours (EPERM), or the platform cannot tell
    return True


def utc(moment: datetime) -> datetime:
    """Aware UTC from a database value (SQLite and MySQL return naive UTC)."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


@dataclass(frozen=True)
class LockHolder:
    object_name: str
    run_id: str
    pid: int
    host: str
    acquired_at: datetime
    heartbeat_at: datetime

    def is_stale(self, now: float, stale_after: float, host: str) -> bool:
        if self.host == host and not pid_alive(self.pid):
            return True
        return now - to_unix(self.heartbeat_at) > stale_after


def _holder(row: sa.Row[tuple[object, ...]]) -> LockHolder:
    m = row._mapping
    return LockHolder(
        object_name=str(m["object_name"]),
        run_id=str(m["run_id"]),
        pid=int(m["pid"]),
        host=str(m["host"]),
        acquired_at=utc(m["acquired_at"]),
        heartbeat_at=utc(m["heartbeat_at"]),
    )


def lock_holders(conn: sa.Connection) -> list[LockHolder]:
    """Every recorded holder (a row may outlive a killed PG/MySQL holder: see holder_is_live)."""
    rows = conn.execute(sa.select(locks).order_by(locks.c.object_name)).all()
    return [_holder(row) for row in rows]


def _lock_kind(dialect: sa.Dialect) -> LockKind:
    """How this database locks an object (load.dialects: Dialect.object_lock)."""
    record = family(dialect.name)
    return record.object_lock if record is not None else "row"


def holder_is_live(
    conn: sa.Connection,
    holder: LockHolder,
    *,
    now: float,
    stale_after: float = DEFAULT_STALE_AFTER,
    host: str | None = None,
) -> bool:
    """Whether the recorded holder still holds its lock."""
    kind = _lock_kind(conn.dialect)
    if kind == "advisory":
        key = advisory_key(conn, holder.object_name) & 0xFFFFFFFFFFFFFFFF
        held = conn.execute(
            sa.text(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted"
                " AND objsubid = 1 AND classid::bigint = :hi AND objid::bigint = :lo"
            ),
            {"hi": key >> 32, "lo": key & 0xFFFFFFFF},
        ).scalar()
        return bool(held)
    if kind == "get_lock":
        name = mysql_lock_name(conn, holder.object_name)
        return conn.execute(sa.text("SELECT IS_USED_LOCK(:n)"), {"n": name}).scalar() is not None
    return not holder.is_stale(now, stale_after, host or socket.gethostname())


class ObjectLock:
    """A held lock on one object. Call heartbeat() while working, release() at the end."""

    def __init__(
        self,
        engine: sa.Engine,
        holder: LockHolder,
        kind: LockKind,
        clock: Clock,
        conn: sa.Connection | None = None,
        handle: int | str | None = None,
        session: int | None = None,
    ) -> None:
        self.engine = engine
        self.holder = holder
        self.kind = kind
        self._clock = clock
        self._conn = conn
        self._handle = handle
        self._session = session  # the lock connection's server session (backend pid, id)
        self.released = False
        self.lost = False
        """True once the lock is known lost (it never comes back: take a new one)."""

    @property
    def object_name(self) -> str:
        return self.holder.object_name

    @property
    def run_id(self) -> str:
        return self.holder.run_id

    def _mine(self) -> sa.ColumnElement[bool]:
        return sa.and_(
            locks.c.object_name == self.holder.object_name, locks.c.run_id == self.holder.run_id
        )

    def _holds(self, conn: sa.Connection) -> bool:
        """Whether the lock's own server session still holds the lock (session kinds)."""
        assert self._handle is not None and self._session is not None
        return _session_holds(conn, self.kind, self._handle, self._session)

    def heartbeat(self) -> bool:
        """Refresh the holder row; False if the lock is lost (taken over, connection gone)."""
        if self.released or self.lost:
            return False
        stamp = {"heartbeat_at": from_unix(self._clock())}
        if self._conn is None:
            with self.engine.begin() as conn:
                mine = conn.execute(locks.update().where(self._mine()).values(stamp)).rowcount
            self.lost = mine != 1
            return not self.lost
        try:
            with self._conn.begin():
                # A dead connection would be replaced silently by a new one,
                # which holds nothing: ask the server about the original session.
                if not self._holds(self._conn):
                    self.lost = True
                    return False
                result = self._conn.execute(locks.update().where(self._mine()).values(stamp))
                if result.rowcount != 1:  # someone tidied the row: record us again
                    self._conn.execute(locks.insert().values(asdict(self.holder) | stamp))
        except sa.exc.DBAPIError:
            self.lost = True
            return False
        return True

    def confirm(self, conn: sa.Connection) -> None:
        """Raise :class:`LockLost` unless the lock is still ours, in ``conn``'s transaction.

        Call it last in every write transaction for the object: it stamps the
        holder row there, so a run taking the lock over (which replaces the
        row) cannot get in between this check and the commit.
        """
        if self.released or self.lost:
            raise LockLost(self.object_name)
        stamp = {"heartbeat_at": from_unix(self._clock())}
        if self._conn is not None and not self._holds(conn):
            self.lost = True
            raise LockLost(self.object_name)
        if conn.execute(locks.update().where(self._mine()).values(stamp)).rowcount != 1:
            if self._conn is None:
                self.lost = True
                raise LockLost(self.object_name)
            conn.execute(locks.insert().values(asdict(self.holder) | stamp))

    def release(self) -> None:
        """Give the lock up (idempotent)."""
        if self.released:
            return
        self.released = True
        if self._conn is None:
            with self.engine.begin() as conn:
                conn.execute(locks.delete().where(self._mine()))
            return
        conn = self._conn
        if self.lost:  # the session that held it is gone: only our row may remain
            conn.invalidate()
            conn.close()
            try:
                with self.engine.begin() as other:
                    other.execute(locks.delete().where(self._mine()))
            except sa.exc.DBAPIError:
                pass
            return
        try:
            with conn.begin():
                conn.execute(locks.delete().where(self._mine()))
            unlock = "pg_advisory_unlock(:h)" if self.kind == "advisory" else "RELEASE_LOCK(:h)"
            conn.execute(sa.text(f"SELECT {unlock}"), {"h": self._handle})
            conn.commit()
        except sa.exc.DBAPIError:
            conn.invalidate()  # dropping the connection drops the lock
        finally:
            conn.close()

    def __enter__(self) -> ObjectLock:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()


def _record(conn: sa.Connection, holder: LockHolder) -> None:
    with conn.begin():
        conn.execute(locks.delete().where(locks.c.object_name == holder.object_name))
        conn.execute(locks.insert().values(asdict(holder)))


def _try_session_lock(
    engine: sa.Engine, me: LockHolder, kind: LockKind, clock: Clock
) -> ObjectLock | None:
    conn = engine.connect()
    try:
        handle: int | str
        if kind == "advisory":
            handle = advisory_key(conn, me.object_name)
            got = conn.execute(sa.text("SELECT pg_try_advisory_lock(:h)"), {"h": handle}).scalar()
        else:
            handle = mysql_lock_name(conn, me.object_name)
            got = conn.execute(sa.text("SELECT GET_LOCK(:h, 0)"), {"h": handle}).scalar() == 1
        session = _session_id(conn, kind)
        conn.commit()
        if not got:
            conn.close()
            return None
        _record(conn, me)
    except BaseException:
        conn.invalidate()
        conn.close()
        raise
    return ObjectLock(engine, me, kind, clock, conn, handle, session)


def _try_row_lock(
    engine: sa.Engine, me: LockHolder, clock: Clock, stale_after: float
) -> ObjectLock | None:
    for _ in range(2):  # a second round if the row vanished between insert and read
        try:
            with engine.begin() as conn:
                conn.execute(locks.insert().values(asdict(me)))
            return ObjectLock(engine, me, "row", clock)
        except sa.exc.IntegrityError:
            pass
        with engine.connect() as conn:
            row = conn.execute(
                sa.select(locks).where(locks.c.object_name == me.object_name)
            ).first()
        if row is None:
            continue
        old = _holder(row)
        if not old.is_stale(clock(), stale_after, me.host):
            return None
        swap = (
            locks.update()
            .where(locks.c.object_name == old.object_name, locks.c.run_id == old.run_id)
            .where(locks.c.pid == old.pid, locks.c.host == old.host)
            .values(asdict(me))
        )
        with engine.begin() as conn:
            taken = conn.execute(swap).rowcount == 1
        return ObjectLock(engine, me, "row", clock) if taken else None
    return None


def try_lock(
    engine: sa.Engine,
    object_name: str,
    run_id: str,
    *,
    clock: Clock = system_clock,
    stale_after: float = DEFAULT_STALE_AFTER,
    pid: int | None = None,
    host: str | None = None,
) -> ObjectLock | None:
    """Lock `object_name` for `run_id`, or None at once if another run holds it."""
    now = from_unix(clock())
    me = LockHolder(object_name, run_id, pid or os.getpid(), host or socket.gethostname(), now, now)
    kind = _lock_kind(engine.dialect)
    if kind == "row":
        return _try_row_lock(engine, me, clock, stale_after)
    return _try_session_lock(engine, me, kind, clock)


def heartbeat(lock: ObjectLock) -> bool:
    return lock.heartbeat()


def release(lock: ObjectLock) -> None:
    lock.release()


def release_all(held: Sequence[ObjectLock]) -> None:
    for lock in held:
        lock.release()
