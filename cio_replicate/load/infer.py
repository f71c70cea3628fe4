"""Typing values an API gives as strings (people's attributes), per batch and field.

Pure. The App API returns every attribute value as a string ("26", "true",
"2024-05-01T10:00:00Z"); a table whose catalog entry says ``typed_strings`` gets
typed columns instead of text. A field's strings are converted only when *all* the
batch's non-null string values of that field convert losslessly to one kind, and the
field's column can take that kind without becoming text:

    "true" / "false"                          bool
    canonical integers (str(int(s)) == s)     int (within int64)
    decimals whose repr round-trips           float (ints and floats together: float,
                                              by types.join)
    ISO-8601 date and time                    timestamp (naive: UTC)
    Unix seconds in a field named ``*_at``    timestamp (canonical integers, 1e8..1e10:
                                              1973 to 2286; Customer.io names dates so)

Anything else stays as it is. Converted numbers and booleans are written back as the
same text if the column later widens to text (``types.to_text`` gives the original
string), so nothing is lost either way. Timestamps are not converted here: the fields
are returned, and the mapper parses their strings like a declared timestamp field's
(once a column is a timestamp it stays one; a later value that is no time goes to the
``__raw`` sibling column). A field whose column is text (or JSON) is never typed again.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Collection, Mapping, Sequence
from datetime import datetime
from typing import Any, Literal

from .types import INT64_MAX, INT64_MIN, Logical, parse_timestamp

Kind = Literal["bool", "number", "timestamp"]
UNIX_FIELD_SUFFIX = "_at"
UNIX_MIN, UNIX_MAX = 10**8, 10**10
"""Unix seconds taken for a time in a ``*_at`` field (1973-03-03 to 2286-11-20)."""

_BOOLS = {"true": True, "false": False}
_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}\S*$")  # a date and a time, at least
_NONE: frozenset[Kind] = frozenset()
_BOOL: frozenset[Kind] = frozenset({"bool"})
_NUMBER: frozenset[Kind] = frozenset({"number"})
_TIME: frozenset[Kind] = frozenset({"timestamp"})
_UNIX: frozenset[Kind] = frozenset({"number", "timestamp"})


def as_int(text: str) -> int | None:
    """The int a canonical integer string spells (None if it is not one, or beyond int64)."""
    if not text or len(text) > 20 or not (text[-1].isascii() and text[-1].isdigit()):
        return None
    try:
        value = int(text)
    except ValueError:
        return None
    if str(value) != text or not INT64_MIN <= value <= INT64_MAX:
        return None
    return value


def as_float(text: str) -> float | None:
    """The float whose repr is exactly ``text`` (None otherwise, or if not finite)."""
    if not text or len(text) > 32:
        return None
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) and repr(value) == text else None


def as_time(text: str) -> datetime | None:
    """An ISO-8601 date and time (naive: UTC) in the range every database holds."""
    if not _ISO.match(text):
        return None
    try:
        return parse_timestamp(text)  # the mapper's own reading of a timestamp field
    except ValueError:
        return None


def kinds_of(field: str, text: str) -> frozenset[Kind]:
    """What one string could be typed as (empty: it stays text)."""
    if text in _BOOLS:
        return _BOOL
    number = as_int(text)
    if number is not None:
        unix = field.endswith(UNIX_FIELD_SUFFIX) and UNIX_MIN <= number <= UNIX_MAX
        return _UNIX if unix else _NUMBER
    if as_float(text) is not None:
        return _NUMBER
    if as_time(text) is not None:
        return _TIME
    return _NONE


def choose(kinds: frozenset[Kind], column: Logical | None) -> Kind | None:
    """The kind a field's strings become, given what they all could be and the field's
    current column type (None: no column yet); None: they stay strings."""
    if column is None:
        for kind in ("bool", "timestamp", "number"):
            if kind in kinds:
                return kind
        return None
    if column == "bool" and "bool" in kinds:
        return "bool"
    if column in ("int", "float") and "number" in kinds:
        return "number"
    return None  # text, JSON: never again; timestamp: the mapper parses the strings


def _to_number(text: str) -> int | float:
    number = as_int(text)
    return number if number is not None else float(text)


_CONVERT: Mapping[Kind, Callable[[str], Any]] = {"bool": _BOOLS.__getitem__, "number": _to_number}


def type_strings(
    batch: Sequence[Mapping[str, Any]],
    columns: Mapping[str, Logical],
    kept: Collection[str] = (),
) -> tuple[list[Mapping[str, Any]], frozenset[str]]:
    """The batch with its string values typed where a whole field converts, and the
    fields whose strings are times (left as strings, for the mapper's timestamp path).

    ``columns``: each field's current column type (a declared timestamp field counts
    as ``timestamp``); ``kept``: fields never typed (identifiers).
    """
    found: dict[str, frozenset[Kind]] = {}
    for record in batch:
        for field, value in record.items():
            if type(value) is not str or field in kept:
                continue
            known = found.get(field)
            if known is not None and not known:
                continue  # already a field of text
            mine = kinds_of(field, value)
            found[field] = mine if known is None else known & mine
    converts: dict[str, Callable[[str], Any]] = {}
    times: set[str] = set()
    for field, kinds in found.items():
        kind = choose(kinds, columns.get(field))
        if kind == "timestamp":
            times.add(field)
        elif kind is not None:
            converts[field] = _CONVERT[kind]
    if not converts:
        return list(batch), frozenset(times)
    return [_typed(record, converts) for record in batch], frozenset(times)


def _typed(
    record: Mapping[str, Any], converts: Mapping[str, Callable[[str], Any]]
) -> Mapping[str, Any]:
    out = dict(record)
    for field, convert in converts.items():
        value = out.get(field)
        if type(value) is str:
            out[field] = convert(value)
    return out
