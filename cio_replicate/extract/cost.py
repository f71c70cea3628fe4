"""What a fan-out is going to cost, from the catalog's cost model, before it runs.

An object whose entry declares ``cost`` (one call per person) has its
parents listed once up front and counted, so the run can say how many calls
to expect; the listing is read twice (once for the estimate).
"""

from __future__ import annotations

from dataclasses import dataclass

from ..catalog import get_object
from .context import ExtractContext
from .fanout import listed_parents


@dataclass(frozen=True)
class Estimate:
    calls: int
    """API calls the object is expected to make, the counting included."""
    detail: str
    """How: ``N people x 1 call + M search pages, read twice: ...``."""


def estimate(ctx: ExtractContext) -> Estimate | None:
    """The object's estimate, or None when the catalog declares no cost model for it."""
    cost = ctx.spec.cost
    if cost is None or ctx.spec.parent is None:
        return None
    parents = listings = 0
    for ppage in listed_parents(ctx, get_object(ctx.spec.parent), None):
        listings += 1
        parents += len(ppage.records)
    calls = cost.per_parent * parents + 2 * listings
    per = f"{cost.per_parent} call{'s' if cost.per_parent != 1 else ''}"
    if cost.more is not None:
        per += f" ({cost.more})"
    detail = (
        f"{parents:,} {cost.parents} x {per} + {listings:,} {cost.listing} pages, "
        "read twice: once for this estimate"
    )
    return Estimate(calls, detail)
