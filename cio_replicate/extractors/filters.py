"""The user's filters: parsed, matched, and which objects they restrict.

Pure functions over the catalog: no HTTP, no SQL.

Syntax: ``Object.field=value[,value...]`` (a comma inside a value is
written ``\\,``). A filter on an object restricts that object and cuts the
fan-out of every descendant; where the API can filter, it is pushed down
(see :mod:`cio_replicate.extract`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from ..catalog import ObjectSpec, get_object
from ..errors import UsageError


@dataclass(frozen=True)
class Filter:
    """``object.field`` equals one of ``values`` (compared as text)."""

    object_name: str
    field: str
    values: tuple[str, ...]

    def matches(self, record: object) -> bool:
        if not isinstance(record, dict):
            return False
        return _as_text(record.get(self.field)) in self.values


def _as_text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


_FILTER = re.compile(r"^\s*([A-Za-z][A-Za-z0-9_]*)\.([^=\s][^=]*?)\s*=(.*)$", re.DOTALL)


def parse_filter(text: str) -> Filter:
    """Parse ``Object.field=v1,v2``; the object name is checked against the catalog."""
    match = _FILTER.match(text)
    if match is None:
        raise UsageError(
            f"bad filter {text!r}: expected Object.field=value[,value...], "
            "e.g. Customers.email=ann@example.com or Campaigns.id=3,7"
        )
    spec = get_object(match.group(1))
    values = tuple(v.replace("\\,", ",").strip() for v in re.split(r"(?<!\\),", match.group(3)))
    if not values or any(v == "" for v in values):
        raise UsageError(f"bad filter {text!r}: empty value")
    return Filter(object_name=spec.name, field=match.group(2).strip(), values=values)


@dataclass(frozen=True)
class Filters:
    """All filters of a run, by object name."""

    items: tuple[Filter, ...] = ()

    def on(self, object_name: str) -> tuple[Filter, ...]:
        return tuple(f for f in self.items if f.object_name == object_name)

    def keep(self, object_name: str, record: object) -> bool:
        """True if ``record`` of ``object_name`` passes every filter on that object."""
        return all(f.matches(record) for f in self.on(object_name))

    def touches(self, spec: ObjectSpec) -> bool:
        """True if a filter restricts ``spec`` itself or one of its ancestors.

        Such a run sees only part of the object: it must not move the
        watermark nor replace the table.
        """
        while True:
            if self.on(spec.name):
                return True
            if spec.parent is None:
                return False
            spec = get_object(spec.parent)


def parse_filters(texts: Iterable[str]) -> Filters:
    return Filters(tuple(parse_filter(t) for t in texts))
