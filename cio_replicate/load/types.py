"""Logical column types: inference from JSON values, lossless widening, conversions.

A column's logical type only ever widens (``join``), so no value already
stored, and none arriving, is lost:

    bool, int, float, json, text          one type seen: that type
    int + float                           float (text if an int needs more than 53 bits)
    any other mix                         text (JSON text for objects and arrays)
    timestamp                             declared by the caller; never widens. A value
                                          that is no time goes, as text, to a sibling
                                          "raw" column, and the timestamp stays NULL.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Literal

from ..clock import from_unix

Logical = Literal["bool", "int", "float", "text", "timestamp", "json", "raw"]
LOGICAL_TYPES: tuple[Logical, ...] = ("bool", "int", "float", "text", "timestamp", "json", "raw")

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
FLOAT_EXACT = 2**53  # larger ints do not survive a trip through a double
MIN_TIME = datetime(1000, 1, 1, tzinfo=UTC)  # MySQL DATETIME's range, the narrowest
MAX_TIME = datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC)
_NUMBER = re.compile(r"^[+-]?\d+(\.\d+)?$")


def infer(value: Any) -> Logical | None:
    """The narrowest logical type holding ``value`` (None for null)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int" if INT64_MIN <= value <= INT64_MAX else "text"
    if isinstance(value, float):
        return "float" if math.isfinite(value) else "text"
    if isinstance(value, Mapping | list | tuple):
        return "json"
    return "text"


def join(current: Logical | None, new: Logical | None) -> Logical | None:
    """The narrowest type holding values of both types."""
    if current is None:
        return new
    if new is None or new == current:
        return current
    if {current, new} == {"int", "float"}:
        return "float"
    return "text"


def needs_text(logical: Logical | None, value: Any) -> bool:
    """True if ``value`` would lose precision in a column of ``logical`` type."""
    return (
        logical == "float"
        and isinstance(value, int)
        and not isinstance(value, bool)
        and abs(value) > FLOAT_EXACT
    )


def parse_timestamp(value: Any) -> datetime | None:
    """Unix seconds (or an ISO-8601 string) to an aware UTC datetime.

    None stays None; 0 is the epoch (kept, not nulled). Raises ValueError for
    anything that is not a time in MySQL's DATETIME range (years 1000-9999).
    """
    if value is None:
        return None
    if isinstance(value, bool):
        raise ValueError("a boolean is not a time")
    moment: datetime
    if isinstance(value, datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=UTC)
    elif isinstance(value, int | float):
        moment = _from_number(value)
    elif isinstance(value, str):
        text = value.strip()
        if _NUMBER.match(text):
            moment = _from_number(float(text) if "." in text else int(text))
        else:
            moment = datetime.fromisoformat(text)  # ValueError if not ISO-8601
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=UTC)
    else:
        raise ValueError(f"a {type(value).__name__} is not a time")
    try:
        moment = moment.astimezone(UTC)
    except OverflowError as exc:  # year 1 east of UTC, year 9999 west of it
        raise ValueError("time out of range") from exc
    if not MIN_TIME <= moment <= MAX_TIME:
        raise ValueError("time out of range")
    return moment


def _from_number(seconds: int | float) -> datetime:
    if isinstance(seconds, float) and not math.isfinite(seconds):
        raise ValueError("not a finite number")
    try:
        return from_unix(seconds)
    except (OverflowError, OSError) as exc:
        raise ValueError("time out of range") from exc


def to_text(value: Any) -> str:
    """A value as text, losing nothing: JSON for objects and arrays."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, Mapping | list | tuple):
        return dumps(value)
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


_ENCODER = json.JSONEncoder(ensure_ascii=False, default=str, allow_nan=False)


def dumps(value: Any) -> str:
    """JSON text, non-ASCII kept as is; NaN and infinities (valid in no JSON column)
    become the strings "NaN", "Infinity" and "-Infinity"."""
    try:
        return _ENCODER.encode(value)
    except ValueError:  # a float no JSON column accepts, somewhere inside
        return _ENCODER.encode(_finite(value))


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    if isinstance(value, Mapping):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


def shallow(value: Any, depth: int) -> Any:
    """``value`` with every object or array nested deeper than ``depth`` levels
    replaced by its JSON text (a string), for databases that limit JSON nesting."""
    if isinstance(value, Mapping):
        if depth <= 0:
            return dumps(value)
        return {k: shallow(v, depth - 1) for k, v in value.items()}
    if isinstance(value, list | tuple):
        if depth <= 0:
            return dumps(value)
        return [shallow(v, depth - 1) for v in value]
    return value


# --- values no database stores --------------------------------------------------
#
# A lone UTF-16 surrogate (JSON "\ud800" without its pair) is no character: no
# database stores it (UTF-8 cannot encode it). It becomes U+FFFD on every
# database; a surrogate *pair* split into two code points is joined into the
# character it encodes. PostgreSQL's text and jsonb cannot hold U+0000 (NUL):
# there it becomes U+FFFD too; SQLite and MySQL keep it.

REPLACEMENT = "\ufffd"
_SURROGATE = re.compile("[\ud800-\udfff]")
_JSON_NUL = re.compile(r"(?<!\\)((?:\\\\)*)\\u0000")  # an escaped NUL, not an escaped backslash


def _no_surrogates(text: str) -> str:
    # surrogatepass keeps each surrogate as its 16-bit unit; decoding joins valid
    # pairs and replaces each lone one with U+FFFD.
    return text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")


def clean_text(text: str, nul: bool) -> str:
    """``text`` as a database can store it (``nul``: it can hold U+0000)."""
    if not text.isascii() and _SURROGATE.search(text):
        text = _no_surrogates(text)
    if not nul and "\x00" in text:
        text = text.replace("\x00", REPLACEMENT)
    return text


def clean_json(text: str, nul: bool) -> str:
    """JSON text (from :func:`dumps`) as a database can store it: the same rules
    as :func:`clean_text`, for every string and key inside."""
    if not text.isascii() and _SURROGATE.search(text):
        text = _no_surrogates(text)  # dumps leaves surrogates as they are
    if not nul and "\\u0000" in text:
        text = _JSON_NUL.sub(lambda m: m.group(1) + REPLACEMENT, text)
    return text
