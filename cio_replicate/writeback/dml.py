"""DML into Customer.io: which operations each object supports, and how rows are sent.

Both come from the catalog: each entry's ``write`` (:class:`catalog.WriteSpec`)
holds the operations (the connector's DML table) and the write mechanics. This
module derives the rest from the entry: the request paths, the record key and
whether the object can be indexed by its listing (to notice repeated INSERTs).
Customers are written through the Track API (see people.py).
"""

from __future__ import annotations

import string
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from ..catalog import CATALOG, ObjectSpec, WriteSpec, get_object
from ..catalog.model import FieldType
from ..catalog.select import closest
from ..errors import UsageError
from .checks import InvalidValue

Operation = Literal["INSERT", "UPDATE", "DELETE"]
Mode = Literal["insert", "update", "delete", "upsert"]
OPERATIONS: tuple[Operation, ...] = ("INSERT", "UPDATE", "DELETE")
_DESCRIBE: Mapping[FieldType, str] = {"json_array": " (a JSON array)"}


@dataclass(frozen=True)
class Writable:
    """An App API object's catalog entry seen from the write side.

    INSERT posts to the listing path; UPDATE and DELETE address the item path,
    the listing path plus the record's key (so the key is the listing's path
    placeholders, i.e. the parent's, then the record's own). An object listed
    without a parent is indexed by one GET of its listing per import.
    """

    spec: ObjectSpec

    @property
    def write(self) -> WriteSpec:
        assert self.spec.write is not None, self.spec.name
        return self.spec.write

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def operations(self) -> frozenset[Operation]:
        return self.write.operations

    @property
    def listing_path(self) -> str:
        return self.spec.path

    @property
    def create_path(self) -> str | None:
        return self.spec.path if "INSERT" in self.operations else None

    @property
    def item_path(self) -> str:
        return f"{self.spec.path}/{{{self.spec.key[-1]}}}"

    @property
    def update_path(self) -> str | None:
        return self.spec.path if self.write.update_at_listing else None

    @property
    def key(self) -> tuple[str, ...]:
        return tuple(hole for _, hole, _, _ in string.Formatter().parse(self.item_path) if hole)

    @property
    def list_envelope(self) -> str | None:
        return self.spec.envelope if self.spec.parent is None else None

    @property
    def fields(self) -> Mapping[str, FieldType]:
        return self.write.fields

    @property
    def readonly(self) -> frozenset[str]:
        return self.write.readonly

    @property
    def choices(self) -> Mapping[str, frozenset[str]]:
        return self.write.choices

    @property
    def natural_key(self) -> str | None:
        return self.write.natural_key

    def known(self) -> frozenset[str]:
        return frozenset(self.fields) | self.readonly | frozenset(self.key)

    def check(self, operation: Operation, values: dict[str, Any]) -> None:
        """Rules across fields (``one_of``); raises InvalidValue."""
        choice = self.write.one_of
        if not choice:
            return
        if sum(name in values for name in choice) > 1:
            raise InvalidValue(f"give either {' or '.join(choice)}, not both")
        if operation == "INSERT" and not any(name in values for name in choice):
            named = [f"{name}{_DESCRIBE.get(self.fields[name], '')}" for name in choice]
            raise InvalidValue(f"INSERT into {self.name} needs {' or '.join(named)}")


# The object written through the Track API (people.py).
CUSTOMERS = next(s.name for s in CATALOG if s.write is not None and s.write.writer == "people")


def dml_objects() -> dict[str, frozenset[Operation]]:
    """Object name -> supported operations, from the catalog."""
    return {spec.name: frozenset(spec.dml) for spec in CATALOG if spec.dml}


def supported_text(heading: str = "supported DML") -> str:
    rows = [
        f"  {name}: {', '.join(op for op in OPERATIONS if op in ops)}"
        for name, ops in sorted(dml_objects().items())
    ]
    return f"{heading}:\n" + "\n".join(rows)


def resolve(object_name: str, mode: Mode) -> tuple[str, frozenset[Operation]]:
    """Check the object and mode against the DML table; returns (name, operations used).

    ``upsert`` needs both INSERT and UPDATE. Raised before any call is made.
    """
    objects = dml_objects()
    try:
        name = get_object(object_name).name
    except UsageError:
        match = closest(object_name, [spec.name for spec in CATALOG])
        hint = f" (did you mean {match!r}?)" if match else ""
        raise UsageError(
            f"unknown object {object_name!r}{hint}; {supported_text('objects with DML')}"
        ) from None
    if name not in objects:
        raise UsageError(f"{name} is read-only (no DML); {supported_text()}")
    needed: frozenset[Operation] = (
        frozenset({"INSERT", "UPDATE"}) if mode == "upsert" else frozenset({_op(mode)})
    )
    missing = needed - objects[name]
    if missing:
        raise UsageError(
            f"{mode} is not supported for {name} (it allows "
            f"{', '.join(sorted(objects[name]))}); {supported_text()}"
        )
    return name, needed


def _op(mode: Mode) -> Operation:
    return "INSERT" if mode == "insert" else "UPDATE" if mode == "update" else "DELETE"


def write_specs() -> list[Writable]:
    """Every object written through the App API, in catalog order."""
    return [Writable(s) for s in CATALOG if s.write is not None and s.write.writer == "app"]


def write_spec(name: str) -> Writable:
    for spec in write_specs():
        if spec.name == name:
            return spec
    raise UsageError(f"no write mechanics for {name}; {supported_text()}")


def unknown_columns(spec: Writable, names: Iterable[str]) -> list[str]:
    known = spec.known()
    return [n for n in names if n not in known and not n.startswith("_cio_")]
