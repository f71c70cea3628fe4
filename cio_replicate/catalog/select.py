"""Finding objects by name and resolving what a command line selects."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from ..errors import UsageError
from .model import ObjectSpec
from .objects import CATALOG

ALL = "all"


def _index(catalog: Sequence[ObjectSpec]) -> dict[str, ObjectSpec]:
    index: dict[str, ObjectSpec] = {}
    for spec in catalog:
        index[spec.name.lower()] = spec
        index[spec.table.lower()] = spec
    return index


def closest(name: str, choices: Iterable[str]) -> str | None:
    """The choice closest to ``name`` (ignoring case), if one is close enough."""
    by_lower: dict[str, str] = {}
    for choice in choices:
        by_lower.setdefault(choice.lower(), choice)
    close = difflib.get_close_matches(name.strip().lower(), list(by_lower), n=1, cutoff=0.6)
    return by_lower[close[0]] if close else None


def did_you_mean(name: str, choices: Iterable[str]) -> str:
    """``"; did you mean 'X'?"`` for the closest of ``choices``, or ``""``."""
    match = closest(name, choices)
    return f"; did you mean {match!r}?" if match is not None else ""


def object_names(catalog: Sequence[ObjectSpec] = CATALOG) -> list[str]:
    return [spec.name for spec in catalog]


def get_object(
    name: str, catalog: Sequence[ObjectSpec] = CATALOG, *, also: Sequence[str] = ()
) -> ObjectSpec:
    """The object called `name` (or stored in table `name`), ignoring case.

    An unknown name is a UsageError naming the closest object and every valid
    one (plus the extra choices ``also``, such as ``all``).
    """
    spec = _index(catalog).get(name.strip().lower())
    if spec is None:
        valid = ", ".join(object_names(catalog))
        if also:
            valid += ", or " + ", ".join(repr(a) for a in also)
        match = closest(name, [*object_names(catalog), *also])
        if match is None:  # a misspelt table name: suggest its object
            tables = {s.table: s.name for s in catalog}
            table = closest(name, tables)
            match = tables[table] if table is not None else None
        hint = f"; did you mean {match!r}?" if match is not None else ""
        raise UsageError(f"unknown object {name!r}{hint} (valid objects: {valid})")
    return spec


@dataclass(frozen=True)
class Selection:
    """What a run writes, and what it must read to get there.

    ``write`` holds the named objects; ``read`` adds the parents they need to
    enumerate (a child's rows come from one call per parent record). Both are
    in catalog order, so every parent precedes its children.
    """

    write: tuple[ObjectSpec, ...]
    read: tuple[ObjectSpec, ...]

    @property
    def implied(self) -> tuple[ObjectSpec, ...]:
        """Parents that are read only to reach their children, never written."""
        return tuple(spec for spec in self.read if spec not in self.write)

    def writes(self, spec: ObjectSpec) -> bool:
        return spec in self.write


def _split(names: Iterable[str]) -> list[str]:
    return [part.strip() for name in names for part in name.split(",") if part.strip()]


def resolve_selection(
    names: Iterable[str] = (), catalog: Sequence[ObjectSpec] = CATALOG
) -> Selection:
    """Resolve command-line object names (case-insensitive, comma lists allowed).

    No names: every object in the default selection (everything except the
    per-person children). ``all``: every object. A child implies its parents
    (and theirs) for reading; only the named objects are written.
    """
    wanted = _split(names)
    if not wanted:
        chosen = {spec for spec in catalog if spec.default}
    elif any(name.lower() == ALL for name in wanted):
        chosen = set(catalog)
    else:
        chosen = {get_object(name, catalog, also=(ALL,)) for name in wanted}
    by_name = {spec.name: spec for spec in catalog}
    needed = set(chosen)
    for spec in chosen:
        parent = spec.parent
        while parent is not None:
            ancestor = by_name[parent]
            needed.add(ancestor)
            parent = ancestor.parent
    return Selection(
        write=tuple(spec for spec in catalog if spec in chosen),
        read=tuple(spec for spec in catalog if spec in needed),
    )
