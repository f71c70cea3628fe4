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

import sqlalchemy as sa
from sqlalchemy.dialects import mysql

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
    moment = moment.astimezone(UTC)
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


_ENCODER = json.JSONEncoder(ensure_ascii=False, default=str)


def dumps(value: Any) -> str:
    """JSON text, non-ASCII kept as is."""
    return _ENCODER.encode(value)


class UtcDateTime(sa.types.TypeDecorator[datetime]):
    """An aware UTC datetime in and out, on every dialect.

    PostgreSQL stores TIMESTAMPTZ; MySQL DATETIME(6) and SQLite text hold the
    UTC wall time, and come back with UTC attached.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def load_dialect_impl(self, dialect: sa.Dialect) -> sa.types.TypeEngine[Any]:
        if dialect.name in ("mysql", "mariadb"):
            return dialect.type_descriptor(mysql.DATETIME(fsp=6))
        return dialect.type_descriptor(sa.DateTime(timezone=True))

    def process_bind_param(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        value = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
        return value if dialect.name == "postgresql" else value.replace(tzinfo=None)

    def process_result_value(self, value: Any, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        if isinstance(value, str):
            value = datetime.fromisoformat(value)
        if not isinstance(value, datetime):
            raise TypeError(f"not a datetime: {value!r}")
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class JsonText(sa.types.TypeDecorator[Any]):
    """JSON kept as TEXT (SQLite): TEXT affinity, so '5' never turns into 5."""

    impl = sa.Text()
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: sa.Dialect) -> str | None:
        return None if value is None else dumps(value)

    def process_result_value(self, value: Any, dialect: sa.Dialect) -> Any:
        return None if value is None else json.loads(value)
