"""Rows of a table in the target database, for ``import --from-table``.

A replicated table's columns may carry shortened or de-duplicated names; the
loader records each column's API field name in ``_cio_columns``, so the rows are
read back under their API names (``raw`` sibling columns, which hold values that
were no valid time, are left out). ``--map`` still applies on top.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import sqlalchemy as sa

from ..errors import UsageError
from ..load import column_map, target_engine
from .csvfiles import CsvRow


def table_columns(
    url: str, table: str, *, schema: str | None = None
) -> tuple[tuple[str, ...], dict[str, str]]:
    """The table's column names, and column -> API field for those that differ
    (an empty field: a column to leave out); ``schema``: ``target_schema``."""
    with target_engine(url, schema=schema) as engine:
        inspector = sa.inspect(engine)
        if not inspector.has_table(table):
            raise UsageError(f"no table {table!r} in {engine.url.render_as_string()}")
        names = tuple(c["name"] for c in inspector.get_columns(table))
        renames: dict[str, str] = {}
        for column in column_map(engine, table):
            if column.name in names and (column.type == "raw" or column.api_name != column.name):
                renames[column.name] = "" if column.type == "raw" else column.api_name
        return names, renames


_AS_LOADED: dict[str, sa.types.TypeEngine[Any]] = {
    "bool": sa.Boolean(),
    "float": sa.Double(asdecimal=False),
}
"""Read types for what reflection gets wrong: MySQL's TINYINT(1) reads 0/1 and DOUBLE a
Decimal of 10 places; booleans and floats go back as the loader stored them."""


def read_table(url: str, table: str, *, schema: str | None = None) -> Iterator[CsvRow]:
    """The table's rows, streamed (server-side cursor where the driver has one)."""
    with target_engine(url, schema=schema) as engine:
        handle = sa.Table(table, sa.MetaData(), autoload_with=engine)
        names = tuple(c.name for c in handle.columns)
        kinds = {c.name: c.type for c in column_map(engine, table)}
        columns = [
            sa.type_coerce(c, _AS_LOADED[kind]).label(c.name)
            if (kind := kinds.get(c.name, "")) in _AS_LOADED
            else c
            for c in handle.columns
        ]
        with engine.connect() as conn:
            result = conn.execution_options(stream_results=True, yield_per=1000).execute(
                sa.select(*columns)
            )
            for number, record in enumerate(result, start=1):
                yield CsvRow(number, number, dict(zip(names, record, strict=True)), ())
