"""The user's filters: parsed, matched, and which objects they restrict.

Pure functions over the catalog: no HTTP, no SQL.

Syntax: ``Object.field=value[,value...]`` (a comma inside a value is
written ``\\,``). A filter on an object restricts that object and cuts the
fan-out of every descendant; where the API can filter, it is pushed down
(see :mod:`cio_replicate.extract`).

A mistake is an error, never a run that quietly matches nothing: the object and
the field must exist (:mod:`cio_replicate.catalog.fields`; people and custom
objects also take any attribute name), each value must be possible for the
field's kind (``id=abc`` for an integer id is refused, ``id=03`` means 3), and
:func:`check_reach` refuses a filter on an object the command does not read.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from ..catalog import ObjectSpec, get_object
from ..catalog.fields import OPEN, FieldKind, fields_of
from ..catalog.select import did_you_mean
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
            "e.g. Customers.email=person1@example.com or Campaigns.id=2,5"
        )
    spec = get_object(match.group(1))
    values = tuple(v.replace("\\,", ",").strip() for v in re.split(r"(?<!\\),", match.group(3)))
    if not values or any(v == "" for v in values):
        raise UsageError(f"bad filter {text!r}: empty value")
    field = match.group(2).strip()
    kind = _field_kind(text, spec, field)
    return Filter(spec.name, field, tuple(_value(text, field, kind, v) for v in values))


def _field_kind(text: str, spec: ObjectSpec, field: str) -> FieldKind:
    known = fields_of(spec.name)
    if field in known:
        return known[field]
    if spec.name in OPEN:
        return "any"  # an attribute of a person or custom object
    listed = ", ".join(name for name, kind in known.items() if kind != "json")
    raise UsageError(
        f"bad filter {text!r}: {spec.name} has no field {field!r}"
        f"{did_you_mean(field, known)} (fields: {listed})"
    )


_INTEGER = re.compile(r"[+-]?\d+")
_BOOLEANS = {
    "true": "true",
    "1": "true",
    "yes": "true",
    "false": "false",
    "0": "false",
    "no": "false",
}


def _value(text: str, field: str, kind: FieldKind, value: str) -> str:
    """The value as the record's field reads as text; UsageError if it cannot match."""
    if kind in ("int", "time"):
        if not _INTEGER.fullmatch(value):
            what = "a unix timestamp (seconds)" if kind == "time" else "an integer"
            raise UsageError(f"bad filter {text!r}: {field} is {what}, not {value!r}")
        return str(int(value))
    if kind == "bool":
        if value.lower() not in _BOOLEANS:
            raise UsageError(f"bad filter {text!r}: {field} is true or false, not {value!r}")
        return _BOOLEANS[value.lower()]
    if kind == "json":
        raise UsageError(
            f"bad filter {text!r}: {field} holds nested JSON (a list or an object); "
            "filters compare whole values of plain fields"
        )
    return value


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


def check_reach(filters: Filters, read: Sequence[ObjectSpec], command: str) -> None:
    """Refuse a filter on an object the command does not read (it would do nothing).

    ``read``: the objects the command lists (the named ones and their parents).
    """
    names = {spec.name for spec in read}
    for flt in filters.items:
        if flt.object_name in names:
            continue
        reads = ", ".join(spec.name for spec in read)
        raise UsageError(
            f"--filter {flt.object_name}.{flt.field}=... restricts {flt.object_name}, which "
            f"{command} does not read (it reads {reads}); name {flt.object_name} (or one of "
            f"its children) among the objects, or filter a field of an object read"
        )
