"""The one place of the metrics merge rule: stored engagement keys are never lost.

A delivery's ``metrics`` (event -> unix seconds, and the ``human_``/``prefetch_`` counts)
only grow: Customer.io adds a key when a delivery reaches a state, and a webhook receiver
may have written keys into the same column that the API does not show yet. So the value
an upsert writes is the stored object updated by the API's: a key the API returns takes
the API's value, a stored key the API does not return is kept (a later replicate never
moves a metric back or removes one).

Merged in Python, on the batch's stored values read in the write's own transaction
(``SELECT ... FOR UPDATE`` on PostgreSQL and MySQL; SQLite's write transactions are
``BEGIN IMMEDIATE`` already), rather than by a SQL expression per dialect: the rule is the
same on the three databases whose JSON columns differ (jsonb, JSON text on MariaDB, text on
SQLite), and the merged value then goes through the ordinary upsert, whose "changed?"
comparison leaves an unchanged delivery unwritten. Its cost is one indexed read per chunk
of keys, like the existence count the writer makes anyway.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa

from .mapper import Row

CHUNK = 500  # keys per read (2 key columns x 500 is far under every parameter limit)


def merge_stored(
    conn: sa.Connection,
    table: sa.Table,
    keys: Sequence[str],
    column: str,
    rows: Sequence[Row],
    *,
    lock: bool = True,
) -> list[Row]:
    """``rows`` with ``column`` merged into the value stored under the same key
    (``lock``: the stored rows are locked for the caller's transaction, which writes them)."""
    if not rows or column not in rows[0] or column not in table.c:
        return list(rows)
    key_cols = [table.c[k] for k in keys]
    wanted = list({tuple(row.get(k) for k in keys) for row in rows})
    stored: dict[tuple[Any, ...], Mapping[str, Any]] = {}
    for start in range(0, len(wanted), CHUNK):
        chunk = wanted[start : start + CHUNK]
        where = (
            key_cols[0].in_([k[0] for k in chunk])
            if len(key_cols) == 1
            else sa.tuple_(*key_cols).in_(chunk)
        )
        query = sa.select(*key_cols, table.c[column]).where(where)
        if lock:
            query = query.with_for_update()
        for found in conn.execute(query):
            value = _as_object(found[-1])
            if value is not None:
                stored[tuple(found[:-1])] = value
    if not stored:
        return list(rows)
    return [_merged(row, stored.get(tuple(row.get(k) for k in keys)), column) for row in rows]


def merge_metrics(stored: Mapping[str, Any] | None, api: Any) -> Any:
    """The rule itself: the stored keys, updated by the API's (an API answer without the
    object keeps the stored one)."""
    if stored is None:
        return api
    if api is None:
        return dict(stored)
    if not isinstance(api, Mapping):
        return api  # not an object (never seen on deliveries): the API's value stands
    return {**stored, **api}


def _merged(row: Row, stored: Mapping[str, Any] | None, column: str) -> Row:
    if stored is None:
        return row
    out = dict(row)
    out[column] = merge_metrics(stored, row.get(column))
    return out


def _as_object(value: Any) -> Mapping[str, Any] | None:
    """A stored JSON object (the driver may hand back its text)."""
    if isinstance(value, str | bytes):
        try:
            value = json.loads(value)
        except ValueError:
            return None
    return value if isinstance(value, Mapping) else None
