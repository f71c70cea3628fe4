"""The API calls a query's reads will make, estimated before any record is fetched.

Per object, from the catalog and the pushed filters:

* a listing: its pages (one call when it has no pages; "at least one" else);
* a child of parents named by the filters (``campaign_id = 3``, ``cio_id = '...'``):
  one call per parent named, no parent listing;
* a child of every parent (or of the parents a filter keeps): the parents are
  listed (small listings are kept for the read itself, so this costs nothing
  twice) and counted; per-person children use the extract package's cost model
  (:func:`cio_replicate.extract.estimate`, which counts people with the search);
* people: the search pages plus one attributes call per 100 people.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

from ..catalog import ATTRIBUTE_BATCH, get_object
from ..catalog.model import PEOPLE
from ..extract import ExtractContext, estimate, extract
from ..extract.fanout import listed_parents, synthetic_parents
from ..extract.people import people_pages


@dataclass(frozen=True)
class Calls:
    calls: int
    detail: str


def calls_of(ctx: ExtractContext) -> Calls:
    spec = ctx.spec
    if spec.extractor in ("customers", "customers_attributes"):
        pages = people = 0
        for ppage in people_pages(ctx, None):
            pages += 1
            people += len(ppage.records)
        chunks = math.ceil(people / ATTRIBUTE_BATCH)
        return Calls(
            2 * pages + chunks,
            f"{people:,} people: {pages} search page(s), read twice (once to count), "
            f"+ {chunks} attributes call(s) of {ATTRIBUTE_BATCH}",
        )
    if spec.parent is None:
        if spec.paginated:
            return Calls(1, "1 call per page of the listing (at least 1; stopped at --max-calls)")
        return Calls(1, "1 call")
    parent = get_object(spec.parent)
    synthetic = synthetic_parents(ctx, parent)
    more = " (more for long lists)" if spec.paginated else ""
    if synthetic is not None:
        return Calls(
            len(synthetic),
            f"{len(synthetic)} {parent.name} named by the filters x 1 call{more}, no listing",
        )
    if spec.cost is not None:
        found = estimate(ctx)
        if found is not None:
            return Calls(found.calls, found.detail)
    if parent.name == PEOPLE:
        return calls_of_people_children(ctx)
    if parent.parent is not None:  # a child of a child (an action's metrics): read the parents
        reading = calls_of(replace(ctx, spec=parent, floor=None, resume=None, known=None))
        count = sum(len(b.records) for b in extract(replace(ctx, spec=parent, floor=None)))
        return Calls(
            count + reading.calls,
            f"{count:,} {parent.name} x 1 call{more} + reading them ({reading.detail})",
        )
    listings = count = 0
    for ppage in listed_parents(ctx, parent, None):
        listings += 1
        count += len(ppage.records)
    return Calls(
        count + listings,
        f"{count:,} {parent.name} x 1 call{more} + {listings} listing page(s) of {parent.name}",
    )


def calls_of_people_children(ctx: ExtractContext) -> Calls:
    """A child of people with no cost model (none in the catalog today): as per person."""
    people = sum(len(p.records) for p in people_pages(ctx, None))
    return Calls(people + 1, f"{people:,} people x 1 call + the search")
