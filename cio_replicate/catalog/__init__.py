"""Every Customer.io object the tool replicates, declared once, as data.

One frozen :class:`ObjectSpec` per object (`objects.py`). The CLI's choices, the
README's object table (`catalog_markdown`), the consistency checks and the
engine all derive from :data:`CATALOG`.
"""

from __future__ import annotations

from .checks import check_catalog
from .model import Api, Cost, Dml, Method, Mode, ObjectSpec, Pushdown, PushdownKind
from .objects import ALL_PEOPLE_FILTER, ATTRIBUTE_BATCH, CATALOG, UNCONFIRMED_MAX
from .render import catalog_markdown, catalog_text, format_table, spec_json
from .select import ALL, Selection, get_object, object_names, resolve_selection

__all__ = [
    "ALL",
    "ALL_PEOPLE_FILTER",
    "ATTRIBUTE_BATCH",
    "CATALOG",
    "UNCONFIRMED_MAX",
    "Api",
    "Cost",
    "Dml",
    "Method",
    "Mode",
    "ObjectSpec",
    "Pushdown",
    "PushdownKind",
    "Selection",
    "catalog_markdown",
    "catalog_text",
    "check_catalog",
    "format_table",
    "get_object",
    "object_names",
    "resolve_selection",
    "spec_json",
]
