"""Full-refresh stages and the swap's bounded wait (see :mod:`cio_replicate.load.replace`).

A stage is ``<table>__cio_new_<8 hex digits of the run id>``: two runs never
share one, and a run holding the object's lock drops any other as a leftover
(of a killed run, or of a run that lost the lock and will fail at its next
check). The swap sets a lock timeout around its DDL only: PostgreSQL
``SET LOCAL lock_timeout`` (milliseconds), MySQL ``SET SESSION
lock_wait_timeout`` (whole seconds, at least 1; restored after). SQLite
needs none: the write lock is taken at BEGIN (busy timeout) and WAL readers
never block the swap.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import sqlalchemy as sa

from .dialects import Dialect
from .host import Refreshable
from .mapper import LoadError
from .names import HASH_LEN, cut, digest, identifier, size
from .writer import SqlWriter

log = logging.getLogger("cio_replicate.load")
STAGE_TAG = "__cio_new_"
Guard = Callable[[sa.Connection], None]


@dataclass(frozen=True)
class SwapPolicy:
    """How long the swap waits for readers of the old table, and how often it tries."""

    timeout: float = 3.0
    """Seconds each try waits for the table's lock (new readers queue meanwhile)."""
    attempts: int = 4
    backoff: float = 1.0
    """Seconds before the second try, doubling after each (readers get in meanwhile)."""
    sleep: Callable[[float], None] = time.sleep


class SwapTimeout(LoadError):
    """The stage could not take the table's place: other sessions kept using the table."""

    def __init__(self, table: str, policy: SwapPolicy) -> None:
        self.table = table
        super().__init__(
            f"could not swap in the rebuilt table {table}: other sessions kept using it "
            f"({policy.attempts} tries of up to {policy.timeout:g} s each; a long query or an "
            "open transaction that read it?). The table is unchanged and the watermark did not "
            "move; rerun later, or raise swap_lock_timeout (CIO_SWAP_LOCK_TIMEOUT)"
        )


def stage_prefix(table: str, dialect: Dialect) -> str:
    """What every stage of ``table`` starts with (unique per table, within the limit)."""
    room = dialect.max_identifier - size(STAGE_TAG, dialect) - HASH_LEN
    if size(table, dialect) > room:
        table = cut(table, room - HASH_LEN - 1, dialect) + "_" + digest(table)
    return table + STAGE_TAG


def stage_name(table: str, run_id: str, dialect: Dialect) -> str:
    """The stage of ``table`` for one run."""
    return stage_prefix(table, dialect) + digest(run_id)


def is_stage(name: str, prefix: str) -> bool:
    rest = name[len(prefix) :]
    return (
        name.startswith(prefix)
        and len(rest) == HASH_LEN
        and all(c in "0123456789abcdef" for c in rest)
    )


def drop_leftovers(writer: Refreshable, conn: sa.Connection, stage: str) -> None:
    """Drop the stages of this table other runs left (killed, or lock lost)."""
    dialect, ddl = writer.target.dialect, writer.target.ddl
    prefix = stage_prefix(writer.name, dialect)
    legacy = identifier(writer.name + "__cio_new", dialect)  # before stages were per run
    for name in sa.inspect(conn).get_table_names():
        if name != stage and (name == legacy or is_stage(name, prefix)):
            log.info("dropping %s, a leftover stage of an earlier run", name)
            ddl.drop(conn, name)


@contextlib.contextmanager
def lock_timeout(sql: SqlWriter, conn: sa.Connection, seconds: float) -> Iterator[None]:
    """Statements inside wait at most ``seconds`` for a lock (then lock_timed_out)."""
    how = sql.dialect.lock_timeout
    if how == "local_ms":
        sql.execute(conn, f"SET LOCAL lock_timeout = {max(1, int(seconds * 1000))}")
    elif how == "session_s":
        sql.execute(conn, f"SET SESSION lock_wait_timeout = {max(1, round(seconds))}")
    try:
        yield
    finally:
        if how == "session_s":  # a session setting: the pooled connection would keep it
            sql.execute(conn, "SET SESSION lock_wait_timeout = DEFAULT")
    if how == "local_ms":  # the caller's statements after the swap wait as usual
        sql.execute(conn, "SET LOCAL lock_timeout = DEFAULT")


def lock_timed_out(exc: sa.exc.DBAPIError, dialect: Dialect) -> bool:
    """Did a statement give up waiting for a lock (as :func:`lock_timeout` bounds it)?"""
    orig = exc.orig
    if dialect.lock_timeout == "local_ms":
        return getattr(orig, "sqlstate", None) == "55P03"  # lock_not_available
    if dialect.lock_timeout == "session_s":
        args: tuple[object, ...] = tuple(getattr(orig, "args", ()))
        return bool(args) and args[0] == 1205  # ER_LOCK_WAIT_TIMEOUT (metadata locks too)
    return "database is locked" in str(orig)
