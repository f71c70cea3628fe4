"""Every Customer.io object the tool replicates, declared once, as data.

One frozen :class:`ObjectSpec` per object (`objects.py`), with its write spec
(`writes.py`) when it supports DML. The CLI's choices, the README's object table
(`catalog_markdown`), the consistency checks, the engine and the write-back's DML
all derive from :data:`CATALOG`.
"""

from __future__ import annotations

from .checks import check_catalog
from .model import (
    Cost,
    Dml,
    FieldType,
    Method,
    Mode,
    ObjectSpec,
    Pushdown,
    PushdownKind,
    Writer,
    WriteSpec,
)
from .objects import ALL_PEOPLE_FILTER, ATTRIBUTE_BATCH, CATALOG, UNCONFIRMED_MAX
from .render import catalog_markdown, catalog_text, format_table, spec_json
from .select import ALL, Selection, get_object, object_names, resolve_selection

__all__ = [
    "ALL",
    "ALL_PEOPLE_FILTER",
    "ATTRIBUTE_BATCH",
    "CATALOG",
    "UNCONFIRMED_MAX",
    "Cost",
    "Dml",
    "FieldType",
    "Method",
    "Mode",
    "ObjectSpec",
    "Pushdown",
    "PushdownKind",
    "Selection",
    "WriteSpec",
    "Writer",
    "catalog_markdown",
    "catalog_text",
    "check_catalog",
    "format_table",
    "get_object",
    "object_names",
    "resolve_selection",
    "spec_json",
]
