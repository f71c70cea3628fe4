"""The mass-drop guard of full refreshes.

A full refresh replaces a table with what one listing returned. When that
listing comes back much shorter than the table (an upstream glitch, a key
that lost its scope, a filter gone wrong), the swap would silently delete most
of the table. So a refresh that would leave fewer than ``1 - max_drop`` of the
rows of a table holding at least :data:`MIN_ROWS` rows is refused: the table
and the object's watermark stay as they are, the object fails with a message
naming the setting, and the run exits 4. ``full_refresh_max_drop = 1`` (or
``CIO_FULL_REFRESH_MAX_DROP=1``) confirms a real drop. ``--full-refresh``
obeys the guard as well.
"""

from __future__ import annotations

from collections.abc import Iterator

from ..extract import Batch
from ..load import Target
from ..load.deletes import row_counts

MIN_ROWS = 20
"""Tables smaller than this are never guarded (a few rows coming and going is normal)."""


class MassDropRefused(Exception):
    """A full refresh would remove too large a share of its table's rows."""


def live_rows(target: Target, table: str) -> int:
    """Rows in ``table`` now, but those marked deleted (0 when it does not exist yet)."""
    with target.connect() as conn:
        counts = row_counts(conn, table)
    return 0 if counts is None else counts[0]


def guard_mass_drop(
    batches: Iterator[Batch], target: Target, table: str, max_drop: float
) -> Iterator[Batch]:
    """The batches, unchanged; once they are all read (before the swap), raise
    :class:`MassDropRefused` if the records would replace too much of ``table``."""
    read = 0
    for batch in batches:
        read += len(batch.records)
        yield batch
    if max_drop < 1.0:
        check_drop(table, live_rows(target, table), read, max_drop)


def check_drop(table: str, before: int, after: int, max_drop: float) -> None:
    """Raise :class:`MassDropRefused` if going from ``before`` live rows to ``after``
    drops more than ``max_drop`` of a table of :data:`MIN_ROWS` or more rows (also the
    rule for the deletes a complete read finds, engine/deletes.py)."""
    if max_drop >= 1.0 or before < MIN_ROWS or after >= before * (1.0 - max_drop):
        return
    raise MassDropRefused(
        f"refused to replace table {table} ({before:,} rows) with the {after:,} records this "
        f"run read: that drops {1 - after / before:.0%} of its rows, more than "
        f"full_refresh_max_drop = {max_drop:g} allows. The table and the watermark are "
        "unchanged. If the drop is real, rerun with CIO_FULL_REFRESH_MAX_DROP=1 "
        "(or full_refresh_max_drop = 1 in the config file)."
    )
