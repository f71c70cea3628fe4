"""What an object's run keeps of the records it reads: the write mode, the records
at or above the read floor, and the largest cursor committed (the counts are in
:class:`cio_replicate.stats.ObjectStats`)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any, Literal

from ..catalog import ObjectSpec
from ..extract import Record

WriteMode = Literal["upsert", "insert", "replace"]


def max_cursor(spec: ObjectSpec, records: Iterable[Record], current: int | None) -> int | None:
    """The largest cursor value among ``current`` and the records'."""
    if spec.cursor is None:
        return current
    for record in records:
        value = cursor_of(record, spec.cursor)
        if value is not None and (current is None or value > current):
            current = value
    return current


def cursor_of(record: Mapping[str, Any], name: str) -> int | None:
    value = record.get(name)
    if isinstance(value, bool) or value is None:
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def write_mode(
    spec: ObjectSpec, *, rebuild: bool, partial: bool, reread: bool = False
) -> WriteMode:
    """Append objects insert only new keys, but those whose rows change in place
    (``current``: people) upsert what they read, and so do those whose metrics window is on
    (``reread``, :func:`rereads`)."""
    appends = spec.mode == "append" and not reread and not spec.current
    if partial:
        return "insert" if appends else "upsert"
    if rebuild or spec.mode == "full":
        return "replace"
    return "insert" if appends else "upsert"


def rereads(spec: ObjectSpec, metrics_lookback: int) -> bool:
    """Whether a run reads the object's recent records again for their metrics."""
    return spec.metrics is not None and metrics_lookback > 0


def window_floor(floor: int | None, run_start: int, metrics_lookback: int) -> int | None:
    """The read floor lowered to the start of the metrics window (``run_start -
    metrics_lookback``) when that is older; None (read everything) stays None."""
    if floor is None:
        return None
    return max(0, min(floor, run_start - metrics_lookback))


def keeps(spec: ObjectSpec, floor: int | None) -> Callable[[Record], bool]:
    """Records at or above the floor (records without a cursor value are kept).

    Irregular extractors choose their own records (people are found by id,
    not by time), so only regular listings are cut by the floor.
    """
    if floor is None or spec.cursor is None or spec.extractor is not None:
        return lambda record: True
    name = spec.cursor

    def keep(record: Record) -> bool:
        value = cursor_of(record, name)
        return value is None or value >= floor

    return keep
