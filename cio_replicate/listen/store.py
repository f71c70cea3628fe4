"""``reporting_events`` and the delivery rows the events concern.

A data table like the replicated ones (the mapper names and types its columns, the
column map is in ``_cio_columns``), keyed by ``event_id``: a duplicate is ignored.
Each event sets ``metrics.<metric>`` of the delivery with its ``delivery_id`` in every
delivery table that holds it (``messages``, ``broadcast_messages`` ...), first occurrence
winning (:func:`.events.merge_metric`); rows are locked in key order, so replicas never
lose each other's update. An event whose delivery is not replicated yet is stored with
``applied_at`` NULL; the ``replicate`` that inserts the delivery applies it
(:func:`pending_events`), and a receiver re-applies recent ones once a minute
(:meth:`EventStore.sweep`), for a delivery inserted while its event was being stored.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any, NamedTuple

import sqlalchemy as sa

from ..catalog import CATALOG
from ..catalog.fields import fields_of
from ..clock import Clock, from_unix, system_clock
from ..load import TableWriter, Target
from ..load.schema import read_map
from .events import PARENT_IDS, Event, merge_metric

EVENTS_TABLE = "reporting_events"
TIMESTAMPS = ("timestamp", "received_at", "applied_at")
DELIVERY_TABLES = tuple(
    spec.table
    for spec in CATALOG
    if spec.key == ("id",) and fields_of(spec.name).get("metrics") == "json"
)
"""Tables of deliveries (an ``id`` and a ``metrics`` object of unix times), from the catalog."""
IN_CHUNK = 500
SWEEP_WINDOW = 600  # seconds: events stored this recently without a delivery are retried

# One record of every column's type: the table is made whole at start-up, so replicas
# never add columns under load.
_TEMPLATE = Event("x", "email", "sent", 1, "x", {}).record(1.0, 1.0) | {
    "customer_id": "x",
    "email": "x",
    "cio_id": "x",
    "identifiers": {"id": "x"},
    "payload": {"event_id": "x"},
    **dict.fromkeys(PARENT_IDS, 1),
}


class Touch(NamedTuple):
    """What an event does to a delivery: ``metric`` at ``at`` (unix seconds)."""

    event_id: str
    delivery_id: str
    metric: str
    at: int


class Deliveries:
    """The delivery tables present in the target, with their typed SQLAlchemy tables."""

    def __init__(self, target: Target) -> None:
        self.target = target
        self._tables: dict[str, tuple[sa.Table, str, str]] = {}

    def refresh(self, conn: sa.Connection) -> None:
        for name in DELIVERY_TABLES:
            sql_name = self.target.table_name(name)
            if sql_name in self._tables or not read_map(conn, sql_name):
                continue
            writer = self.target.table(name, key=("id",))
            id_col, metrics = writer.column("id"), writer.column("metrics")
            if id_col is not None and metrics is not None:
                self._tables[sql_name] = (writer.sa_table(), id_col.name, metrics.name)

    def table(self, sql_name: str) -> tuple[sa.Table, str, str] | None:
        return self._tables.get(sql_name)

    @property
    def names(self) -> list[str]:
        return sorted(self._tables)


def apply(
    conn: sa.Connection, table: tuple[sa.Table, str, str], touches: Sequence[Touch]
) -> set[str]:
    """Set the touched metrics on the rows that exist; the ids of the events that found one."""
    t, id_name, metrics_name = table
    key, metrics = t.c[id_name], t.c[metrics_name]
    found: set[str] = set()
    wanted = sorted({touch.delivery_id for touch in touches})
    stored: dict[str, Any] = {}
    for start in range(0, len(wanted), IN_CHUNK):
        query = (
            sa.select(key, metrics)
            .where(key.in_(wanted[start : start + IN_CHUNK]))
            .order_by(key)
            .with_for_update()
        )
        stored.update((row[0], row[1]) for row in conn.execute(query))
    changed: dict[str, dict[str, Any]] = {}
    for touch in touches:
        if touch.delivery_id not in stored:
            continue
        found.add(touch.event_id)
        current = changed.get(touch.delivery_id, stored[touch.delivery_id])
        merged = merge_metric(current, touch.metric, touch.at)
        if merged is not None:
            changed[touch.delivery_id] = merged
    if changed:
        update = (
            t.update().where(key == sa.bindparam("b_key")).values({metrics: sa.bindparam("b_m")})
        )
        conn.execute(update, [{"b_key": k, "b_m": v} for k, v in sorted(changed.items())])
    return found


class EventStore:
    """Writes verified events, each batch in one transaction (see the module's text)."""

    def __init__(self, target: Target, *, clock: Clock = system_clock) -> None:
        self.target = target
        self.clock = clock
        self.events: TableWriter = target.table(
            EVENTS_TABLE, key=("event_id",), timestamps=TIMESTAMPS
        )
        self.deliveries = Deliveries(target)
        self._refreshed = -1e18

    def twin(self) -> EventStore:
        """Another store on the same target (for another writer thread)."""
        return EventStore(self.target, clock=self.clock)

    def ensure(self, tries: int = 3) -> None:
        """Create the table and its index if missing (another replica may race us)."""
        for attempt in range(tries):
            try:
                self.events.prepare([_TEMPLATE])
                with self.target.begin() as conn:
                    self.events.evolve(conn)
                with self.target.begin() as conn:
                    dialect = self.target.dialect
                    prefix = dialect.text_index_prefix
                    index = sa.Index(
                        f"ix_{self.events.name}_delivery",
                        self.events.sa_table().c[self._column("delivery_id")],
                        **dict[str, Any]({f"{dialect.name}_length": prefix} if prefix else {}),
                    )
                    index.create(conn, checkfirst=True)
                return
            except sa.exc.DBAPIError:
                if attempt == tries - 1:
                    raise
                self.events = self.target.table(EVENTS_TABLE, ("event_id",), TIMESTAMPS)

    def _column(self, field: str) -> str:
        col = self.events.column(field)
        if col is None:
            raise LookupError(f"{EVENTS_TABLE} has no column for {field}")
        return col.name

    def write(self, events: Iterable[Event], tries: int = 3) -> None:
        """Store the events and apply them, in one transaction (retried on a deadlock)."""
        unique = list({e.event_id: e for e in events}.values())
        for attempt in range(tries):
            try:
                self._write(unique)
                return
            except sa.exc.OperationalError:
                if attempt == tries - 1:
                    raise

    def _write(self, events: list[Event]) -> None:
        now = self.clock()
        touches = [
            Touch(e.event_id, e.delivery_id, e.metric, e.timestamp) for e in events if e.delivery_id
        ]
        with self.target.begin() as conn:
            if now - self._refreshed > 30:  # a delivery table replicate created meanwhile
                self.deliveries.refresh(conn)
                self._refreshed = now
            found: set[str] = set()
            for name in self.deliveries.names if touches else ():
                table = self.deliveries.table(name)
                assert table is not None
                found |= apply(conn, table, touches)
            records = [e.record(now, now if e.event_id in found else None) for e in events]
            self.events.insert_missing(conn, self.events.prepare(records), path="executemany")

    def sweep(self) -> int:
        """Apply again the recent events stored before their delivery was; how many found one."""
        events = self.events.sa_table()
        c = events.c
        since = from_unix(self.clock() - SWEEP_WINDOW)
        with self.target.begin() as conn:
            self.deliveries.refresh(conn)
            query = sa.select(
                c[self._column("event_id")],
                c[self._column("delivery_id")],
                c[self._column("metric")],
                c[self._column("timestamp")],
            ).where(
                c[self._column("applied_at")].is_(None),
                c[self._column("delivery_id")].is_not(None),
                c[self._column("received_at")] >= since,
            )
            touches = [Touch(r[0], r[1], r[2], int(r[3].timestamp())) for r in conn.execute(query)]
            found: set[str] = set()
            for name in self.deliveries.names if touches else ():
                table = self.deliveries.table(name)
                assert table is not None
                found |= apply(conn, table, touches)
            key, applied = c[self._column("event_id")], c[self._column("applied_at")]
            ids = sorted(found)
            for start in range(0, len(ids), IN_CHUNK):
                done = events.update().where(key.in_(ids[start : start + IN_CHUNK]))
                conn.execute(done.values({applied: from_unix(self.clock())}))
        return len(found)


def pending_events(
    target: Target, table: TableWriter
) -> Callable[[sa.Connection, Sequence[dict[str, Any]] | None], None] | None:
    """For the ``replicate`` of a delivery table: a function that applies the stored events
    of the rows a batch wrote (or, after a full refresh, of the whole table) in the
    caller's transaction (None: nothing to apply)."""
    if table.name not in {target.table_name(n) for n in DELIVERY_TABLES}:
        return None
    with target.connect() as conn:
        if not read_map(conn, target.table_name(EVENTS_TABLE)):
            return None
    events = target.table(EVENTS_TABLE, ("event_id",), TIMESTAMPS)
    cols = [events.column(f) for f in ("event_id", "delivery_id", "metric", "timestamp")]
    if any(col is None for col in cols):
        return None
    t = events.sa_table()
    event_id, delivery_id, metric, at = (t.c[col.name] for col in cols if col is not None)

    def apply_pending(conn: sa.Connection, rows: Sequence[dict[str, Any]] | None) -> None:
        """``rows``: a batch just written; None: the whole table (after a full refresh)."""
        id_col, metrics_col = table.column("id"), table.column("metrics")
        if rows == [] or id_col is None or metrics_col is None:
            return
        query = sa.select(event_id, delivery_id, metric, at)
        if rows is None:
            found = conn.execute(query.where(delivery_id.is_not(None)))
            touches = [Touch(r[0], r[1], r[2], int(r[3].timestamp())) for r in found]
        else:
            keys = sorted({str(row[id_col.name]) for row in rows})
            touches = []
            for start in range(0, len(keys), IN_CHUNK):
                found = conn.execute(query.where(delivery_id.in_(keys[start : start + IN_CHUNK])))
                touches += [Touch(r[0], r[1], r[2], int(r[3].timestamp())) for r in found]
        delivery = (table.sa_table(), id_col.name, metrics_col.name)
        for start in range(0, len(touches), IN_CHUNK * 4):
            apply(conn, delivery, touches[start : start + IN_CHUNK * 4])

    return apply_pending
