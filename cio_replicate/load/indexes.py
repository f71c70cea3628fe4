"""Indexes on the id columns analysts join on.

Every data table gets one non-unique index ``ix_<table>_<column>`` (cut to the
dialect's identifier limit like every name) on each column whose API field is
in :data:`JOIN_FIELDS`, except JSON columns, raw siblings and the leading
column of the table's key (its primary key or UNIQUE constraint indexes it
already). Fields are chosen by API name, whatever the column's SQL name.

They are created with the column (a new table, an added column), after a full
refresh's swap (the stage itself has none, so its names never clash with the
live table's: index names are per schema on PostgreSQL and SQLite), and once
per table writer and run for a table that misses one (a table from an older
version, an index dropped by hand). A column that already leads any index
(one an analyst made, say) gets none.

On MySQL/MariaDB a text id column is VARCHAR(255) (:func:`~.dialects.column_type`)
and fully indexed; a LONGTEXT one (tables from older versions) is indexed on
its first ``Dialect.text_index_prefix`` characters.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import sqlalchemy as sa

from .dialects import Dialect
from .names import fold, identifier
from .schema import Column

JOIN_FIELDS = frozenset(
    {
        # people, campaigns, broadcasts and their messages
        "customer_id",
        "cio_id",
        "campaign_id",
        "newsletter_id",
        "broadcast_id",
        "action_id",
        "parent_action_id",
        "content_id",
        "delivery_id",
        "segment_id",
        "transactional_message_id",
        # objects and relationships
        "object_type_id",
        "object_id",
    }
)
"""API fields that hold another object's id, which analysts join on."""


def index_name(table: str, column: str, dialect: Dialect) -> str:
    return identifier(f"ix_{table}_{column}", dialect)


def join_columns(columns: Iterable[Column], keys: Sequence[str]) -> list[Column]:
    """The columns of a table that get a join index (``keys``: the key's SQL names)."""
    leading = keys[0] if keys else None
    chosen = [
        c
        for c in columns
        if c.api_name in JOIN_FIELDS and c.type not in ("json", "raw") and c.name != leading
    ]
    return sorted(chosen, key=lambda c: c.position)


def ensure_indexes(
    conn: sa.Connection,
    dialect: Dialect,
    table: str,
    columns: Iterable[Column],
    keys: Sequence[str],
) -> list[str]:
    """Create the join indexes ``table`` lacks; returns the names created."""
    wanted = join_columns(columns, keys)
    if not wanted:
        return []
    inspector = sa.inspect(conn)
    present = inspector.get_indexes(table)
    names = {fold(str(i["name"])) for i in present if i["name"]}
    leading = {fold(_unquoted(str(i["column_names"][0]), dialect)) for i in present if _lead(i)}
    long_text: set[str] = set()
    if dialect.text_index_prefix is not None:
        long_text = {
            fold(_unquoted(str(c["name"]), dialect))
            for c in inspector.get_columns(table)
            if isinstance(c["type"], sa.String) and c["type"].length is None  # *TEXT
        }
    created = []
    for col in wanted:
        name = index_name(table, col.name, dialect)
        if fold(name) in names or fold(col.name) in leading:
            continue
        t = sa.Table(table, sa.MetaData(), sa.Column(col.name, quote=True), quote=True)
        index = sa.Index(sa.sql.quoted_name(name, True), t.c[col.name])
        if fold(col.name) in long_text:  # MySQL cannot index a whole LONGTEXT
            index.dialect_options["mysql"]["length"] = dialect.text_index_prefix
        index.create(conn)
        created.append(name)
    return created


def _lead(index: sa.engine.interfaces.ReflectedIndex) -> bool:
    columns = index["column_names"]
    return bool(columns) and columns[0] is not None


def _unquoted(name: str, dialect: Dialect) -> str:
    """A reflected name, unquoted (SQLAlchemy's MySQL reflection doubles `)."""
    return name.replace("``", "`") if dialect.reflected_backticks else name
