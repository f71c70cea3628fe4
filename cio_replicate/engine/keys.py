"""Which keys a data table already holds (for Customers: only new people cost calls).

A small read the loader does not offer: one ``SELECT key ... WHERE key IN
(...)`` per chunk, through the loader's column map (so hostile or shortened
column names are found). A table that does not exist yet holds nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from ..load import TableWriter

CHUNK = 500


def existing_keys(
    conn: sa.Connection, table: TableWriter, keys: Sequence[tuple[Any, ...]]
) -> set[tuple[Any, ...]]:
    columns = [table.column(field) for field in table.key]
    if not keys or any(c is None for c in columns):
        return set()
    if not sa.inspect(conn).has_table(table.name):
        return set()
    cols: list[sa.ColumnClause[Any]] = [sa.column(c.name) for c in columns if c is not None]
    source = sa.table(table.name, *cols)
    found: set[tuple[Any, ...]] = set()
    for i in range(0, len(keys), CHUNK):
        chunk = list(keys[i : i + CHUNK])
        if len(cols) == 1:
            where = cols[0].in_([k[0] for k in chunk])
        else:
            where = sa.tuple_(*cols).in_(chunk)
        for row in conn.execute(sa.select(*cols).select_from(source).where(where)):
            found.add(tuple(row))
    return found
