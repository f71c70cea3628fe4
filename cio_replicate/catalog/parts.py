"""Shared constants and pushdown/parameter helpers of the catalog's entries (objects.py, people.py)."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from .model import Cost, Pushdown, frozen

# Page sizes: documented maxima, else 100 (the sandbox enforces 100 where the
# maximum is UNCONFIRMED, reference section 7).
UNCONFIRMED_MAX = 100
ATTRIBUTE_BATCH = 100  # ids per POST /v1/customers/attributes

ALL_PEOPLE_FILTER: Mapping[str, Any] = MappingProxyType(
    {"filter": {"and": [{"attribute": {"field": "cio_id", "operator": "exists"}}]}}
)


def by_parent(column: str, placeholder: str, parent: str) -> Pushdown:
    return Pushdown(column, "parent", placeholder, f"only the {parent} with this id")


# Per-person paths address people by cio_id: `id_type=cio_id` and the value
# prefixed `cio_` (APP-SPEC: "you must prefix the value with cio_").
PERSON = frozen(customer_id="cio_id")
BY_CIO_ID = frozen(id_type="cio_id")
MESSAGE_SINCE = Pushdown("created", "since", "start_ts", "start_ts = read floor")
MESSAGE_TS = ("created",)
METRICS = "metrics"  # a delivery's engagement (event -> unix seconds), re-read in a window
# Per-person fan-outs announce their cost: people x calls + the search, read twice.
COST_PER_PERSON = Cost()
COST_PER_PERSON_PAGES = Cost(more="more for long histories")
