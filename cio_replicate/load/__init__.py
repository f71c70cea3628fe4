"""The loader: schema mapping, runtime schema evolution and bulk writes.

    from cio_replicate.load import Target
    target = Target(url_or_engine, column_names=None)   # snake|api; None: as recorded
    table = target.table("campaigns", key=("id",), timestamps=("created", "updated"))
    rows = table.prepare(records)
    with target.begin() as conn:
        table.evolve(conn)
        inserted, updated = table.upsert(conn, rows)

Modules: dialects (capabilities per database), names (API name -> column,
snake or api), naming (the target's naming, recorded in ``_cio_target``),
types (logical types, widening), mapper (records -> rows), schema (the
``_cio_columns`` record), ddl (create/add/widen/swap), writer (bulk SQL),
host (what table and replace need of their caller, as protocols), table
(TableWriter), replace (full refresh), staging (stage names, the swap's
bounded wait), target (engine and Target).
"""

from .dialects import BulkPath, Dialect
from .mapper import LoadError
from .replace import ReplaceResult
from .schema import Column, column_map
from .table import TableWriter, UpsertCounts
from .target import (
    Target,
    TargetUnavailable,
    configure_engine,
    create_target_engine,
    target_engine,
    target_errors,
)

__all__ = [
    "BulkPath",
    "Column",
    "Dialect",
    "LoadError",
    "ReplaceResult",
    "TableWriter",
    "Target",
    "TargetUnavailable",
    "UpsertCounts",
    "column_map",
    "configure_engine",
    "create_target_engine",
    "target_engine",
    "target_errors",
]
