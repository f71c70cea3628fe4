"""The catalog as text: the `objects` table, the README table, and JSON."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, is_dataclass
from typing import Any

from .model import ObjectSpec
from .objects import CATALOG

HEADERS = ("Object", "Table", "Source", "Key", "Mode (cursor)", "Parent", "DML")
_DML_ORDER = ("INSERT", "UPDATE", "DELETE")


def mode_label(spec: ObjectSpec) -> str:
    label = f"{spec.mode} ({spec.cursor})" if spec.cursor else spec.mode
    return label + " + metrics window" if spec.metrics is not None else label


def dml_label(spec: ObjectSpec) -> str:
    return ", ".join(op for op in _DML_ORDER if op in spec.dml)


def catalog_rows(catalog: Sequence[ObjectSpec] = CATALOG) -> list[tuple[str, ...]]:
    """One row per object, in the order of :data:`HEADERS`.

    Objects outside the default selection (one call per person, or on request) are
    marked ``*``.
    """
    return [
        (
            spec.name + ("" if spec.default else "*"),
            spec.table,
            spec.source,
            ", ".join(spec.key),
            mode_label(spec),
            spec.parent or "",
            dml_label(spec),
        )
        for spec in catalog
    ]


NOT_DEFAULT_NOTE = (
    "* not in the default selection (one API call per person or per action, link metrics,\n"
    "campaign deliveries already in `messages`): name it (or `all`) to replicate it."
)


def format_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Rows as left-aligned columns separated by two spaces (no trailing blanks)."""
    widths = [max([len(h)] + [len(row[i]) for row in rows]) for i, h in enumerate(headers)]
    lines = [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in [tuple(headers), *rows]
    ]
    return "\n".join(lines)


SHORT_HEADERS = ("Object", "Table", "Mode", "DML")
WIDTH = 100
"""Columns of the terminal listing (``objects`` without ``-v``)."""
DETAILS_NOTE = "Source, key, cursor and parent: cio-replicate -v objects (or objects --json)."


def catalog_text(catalog: Sequence[ObjectSpec] = CATALOG, verbose: bool = False) -> str:
    """The ``objects`` listing: within 100 columns, or every column with ``verbose``."""
    if verbose:
        return format_table(HEADERS, catalog_rows(catalog)) + "\n\n" + NOT_DEFAULT_NOTE
    rows = [
        (
            spec.name + ("" if spec.default else "*"),
            spec.table,
            spec.mode,
            " ".join(op for op in _DML_ORDER if op in spec.dml),
        )
        for spec in catalog
    ]
    notes = (NOT_DEFAULT_NOTE, DETAILS_NOTE)
    return format_table(SHORT_HEADERS, rows) + "\n\n" + "\n".join(notes)


def catalog_markdown(catalog: Sequence[ObjectSpec] = CATALOG) -> str:
    """The README's object table, generated from the catalog."""

    def cell(column: int, value: str) -> str:
        return f"`{value}`" if value and column in (1, 2, 3) else value

    lines = ["| " + " | ".join(HEADERS) + " |", "|" + "---|" * len(HEADERS)]
    for row in catalog_rows(catalog):
        lines.append("| " + " | ".join(cell(i, v) for i, v in enumerate(row)) + " |")
    return "\n".join(lines) + "\n\n" + NOT_DEFAULT_NOTE + "\n"


def _plain(value: Any) -> Any:
    if is_dataclass(value) and not isinstance(value, type):
        return _plain(asdict(value))
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, frozenset | set):
        return sorted(_plain(v) for v in value)
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def spec_json(spec: ObjectSpec) -> dict[str, Any]:
    """Every field of an object as JSON-ready values (plus derived labels)."""
    data: dict[str, Any] = {
        f: _plain(getattr(spec, f))
        for f in spec.__dataclass_fields__
        if f not in ("pushdown", "write")
    }
    data["per_person"] = spec.per_person
    data["default"] = spec.default
    data["dml"] = [op for op in _DML_ORDER if op in spec.dml]
    data["write"] = None if spec.write is None else _plain(vars(spec.write))
    data["pushdown"] = [asdict(rule) for rule in spec.pushdown]
    data["source"] = spec.source
    data["since_param"] = spec.since_param
    return data
