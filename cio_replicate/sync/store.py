"""The two stores a sync reads and writes in the target: the user's
``collections`` table and the tool's ``_cio_sync_collections`` state.

The table is written as a replication run writes it (the same column map,
through :class:`~cio_replicate.load.TableWriter`); its rows are read with the
data as text, parsed row by row, so one row of bad JSON is that row's problem.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa

from ..catalog import ObjectSpec
from ..clock import Clock, from_unix
from ..errors import UsageError
from ..load import TableWriter, Target
from ..systables import sync_collections as state
from .plan import Intent, Known, Local, Remote, data_problem, meta_digest

PROTOTYPE: Mapping[str, Any] = {
    "id": 0,
    "name": "",
    "bytes": 0,
    "rows": 0,
    "schema": [],
    "created_at": 0,
    "updated_at": 0,
    "data": [],
}
"""A record with every documented field: maps the columns of a table not made yet."""


def table_writer(target: Target, spec: ObjectSpec) -> TableWriter:
    """The collections table's writer; the table is made (empty) if missing, so
    users can insert into it before the workspace has any collection."""
    writer = target.table(spec.table, spec.key, spec.timestamps, open_key=spec.synced)
    writer.object_name = spec.name
    writer.prepare([PROTOTYPE])
    with target.begin() as conn:
        writer.evolve(conn)
    with target.connect() as conn:
        key = writer.key_columns[0].lower()
        columns = sa.inspect(conn).get_columns(writer.name)
        if any(str(c["name"]).lower() == key and not c["nullable"] for c in columns):
            raise UsageError(
                f"the table {writer.name} was made by an older version, with a key that "
                f"cannot be NULL (rows to create need one): rebuild it once with "
                f"`cio-replicate replicate {spec.name} --full-refresh`, then sync"
            )
    return writer


def read_rows(target: Target, writer: TableWriter) -> list[Local]:
    t = writer.sa_table()
    cols = {f: writer.column(f) for f in ("id", "name", "data")}
    id_col, name_col, data_col = (t.c[c.name] for c in cols.values() if c is not None)
    query = sa.select(id_col, name_col, sa.cast(data_col, sa.Text))
    rows: list[Local] = []
    with target.connect() as conn:
        for cid, name, text in conn.execute(query):
            rows.append(_local(cid, name, text))
    return rows


def _local(cid: Any, name: Any, text: Any) -> Local:
    ident = int(cid) if cid is not None else None
    if not isinstance(name, str) or not name.strip():
        return Local(ident, str(name or ""), None, "name is empty")
    try:
        data = json.loads(text) if text is not None else None
    except ValueError:
        return Local(ident, name, None, "data is not valid JSON")
    if isinstance(data, str):  # JSON text stored as a JSON string
        try:
            data = json.loads(data)
        except ValueError:
            pass
    return Local(ident, name, data, data_problem(data))


def write_record(
    conn: sa.Connection, writer: TableWriter, remote: Remote, *, replaces: int | None = None
) -> None:
    """The collection's row as replication writes it (``replaces``: drop that row first)."""
    if replaces is not None:
        delete_row(conn, writer, replaces)
    writer.upsert(conn, writer.prepare([{**remote.record, "data": remote.data}]))


def delete_row(conn: sa.Connection, writer: TableWriter, cid: int) -> None:
    t = writer.sa_table()
    id_col = t.c[writer.key_columns[0]]
    conn.execute(sa.delete(t).where(id_col == cid))


def link_row(conn: sa.Connection, writer: TableWriter, name: str, cid: int) -> None:
    """The id of a collection made from a new row, written into that row."""
    t = writer.sa_table()
    id_col, name_col = t.c[writer.key_columns[0]], t.c[_column(writer, "name")]
    conn.execute(sa.update(t).where(id_col.is_(None), name_col == name).values({id_col: cid}))


def _column(writer: TableWriter, field: str) -> str:
    col = writer.column(field)
    if col is None:
        raise ValueError(f"{writer.name}: no column for {field!r}")
    return col.name


# --- the tool's state ----------------------------------------------------------


def slot_of(cid: int) -> str:
    return f"id:{cid}"


def intent_slot(name: str) -> str:
    return "new:" + hashlib.sha256(name.encode("utf-8")).hexdigest()[:64]


def read_state(target: Target) -> tuple[dict[int, Known], list[Intent]]:
    known: dict[int, Known] = {}
    intents: list[Intent] = []
    with target.connect() as conn:
        for row in conn.execute(sa.select(state)):
            if row.status == "creating":
                intents.append(Intent(row.name, row.digest))
            elif row.collection_id is not None:
                cid = int(row.collection_id)
                known[cid] = Known(
                    cid, row.name, row.digest, row.remote_updated_at, row.seen_at, row.remote_meta
                )
    return known, intents


def _put(conn: sa.Connection, slot: str, values: dict[str, Any]) -> None:
    conn.execute(sa.delete(state).where(state.c.slot == slot))
    conn.execute(sa.insert(state).values(slot=slot, **values))


def remember(
    conn: sa.Connection, clock: Clock, remote: Remote, digest: str, seen_at: int | None = None
) -> None:
    """Both sides agree on this collection now."""
    _put(
        conn,
        slot_of(remote.id),
        {
            "status": "synced",
            "collection_id": remote.id,
            "name": remote.name,
            "digest": digest,
            "remote_updated_at": remote.updated_at,
            "remote_meta": meta_digest(remote.record),
            "seen_at": seen_at,
            "recorded_at": from_unix(clock()),
        },
    )


def forget(conn: sa.Connection, cid: int) -> None:
    conn.execute(sa.delete(state).where(state.c.slot == slot_of(cid)))


def mark_seen(conn: sa.Connection, cid: int, now: int) -> None:
    """The table's change to this collection was seen (and not sent) at ``now``."""
    query = sa.update(state).where(state.c.slot == slot_of(cid), state.c.seen_at.is_(None))
    conn.execute(query.values(seen_at=now))


def record_intent(conn: sa.Connection, clock: Clock, name: str, digest: str) -> None:
    _put(
        conn,
        intent_slot(name),
        {
            "status": "creating",
            "collection_id": None,
            "name": name,
            "digest": digest,
            "recorded_at": from_unix(clock()),
        },
    )


def drop_intent(conn: sa.Connection, name: str) -> None:
    conn.execute(sa.delete(state).where(state.c.slot == intent_slot(name)))
