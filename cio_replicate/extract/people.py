"""People: the search listing, Customers and CustomersAttributes.

``POST /v1/customers`` lists identifiers only (up to 1000 per page, cheap);
``POST /v1/customers/attributes`` returns up to 100 people per call with
their attributes. Customers is insert-only, so the ids a search returns are
compared with the ids already loaded and only new people cost attribute
calls. Filters on Customers are pushed down to the search body (the App API's
people filter grammar): ``email``, ``segment``/``segment_id`` and any
attribute by equality.

When a run replicates both, CustomersAttributes (which reads every person
anyway) hands each fetched chunk of people to Customers through a
:class:`~cio_replicate.extract.feed.Feed` (the catalog's ``feeds``), so people
are searched and fetched once, not twice. Customers' search is the parent
listing of the per-person objects (the ``parents`` hook registered below).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import replace
from typing import Any

from ..catalog import ALL_PEOPLE_FILTER, ATTRIBUTE_BATCH, ObjectSpec, get_object
from ..errors import Interrupted
from ..http.pagination import envelope_problem
from .context import Batch, ExtractContext, Hooks, ParentPage, Record, register
from .feed import FeedIncomplete
from .listing import pages

SEARCH_PAGE = 1000
"""People per search page: the documented maximum (ids only, so memory stays small)."""

SEGMENT_FIELDS = ("segment", "segment_id")


def people_spec() -> ObjectSpec:
    return get_object("Customers")


def search_body(ctx: ExtractContext) -> dict[str, Any]:
    """The search filter: every person, or the Customers filters pushed down."""
    conditions: list[dict[str, Any]] = []
    for flt in ctx.filters.on(people_spec().name):
        options: list[dict[str, Any]] = []
        for value in flt.values:
            if flt.field in SEGMENT_FIELDS:
                options.append({"segment": {"id": int(value)}})
            else:
                options.append(
                    {"attribute": {"field": flt.field, "operator": "eq", "value": value}}
                )
        conditions.append(options[0] if len(options) == 1 else {"or": options})
    if not conditions:
        return {"filter": dict(ALL_PEOPLE_FILTER["filter"])}
    return {"filter": {"and": conditions}}


def people_pages(ctx: ExtractContext, start: str | None) -> Iterator[ParentPage]:
    """Pages of person identifiers ``{id, email, cio_id}`` (the search)."""
    spec = replace(people_spec(), body=search_body(ctx))
    size = spec.page_size or SEARCH_PAGE
    for token, page in pages(ctx, spec, spec.path, dict(spec.params), start, size):
        records = [dict(r) for r in page.records if isinstance(r, dict) and r.get("cio_id")]
        yield ParentPage(token, records)


def fetch_attributes(ctx: ExtractContext, cio_ids: Sequence[str]) -> list[dict[str, Any]]:
    """One call: the per-person objects of up to 100 people, by cio_id."""
    body = ctx.client.app(
        "POST",
        "/v1/customers/attributes",
        params={"id_type": "cio_id"},
        json={"ids": list(cio_ids)},
        idempotent=True,  # a read sent as POST: safe to resend
        # a null or missing list is a malformed answer (retried), never "nobody"
        check=lambda answer: envelope_problem(answer, "customers"),
    )
    return [p for p in body["customers"] if isinstance(p, dict)]


def _chunks(items: Sequence[str], size: int) -> Iterator[Sequence[str]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def _attribute_chunk(ctx: ExtractContext) -> int:
    return max(1, min(ctx.spec.batch_size or ATTRIBUTE_BATCH, ATTRIBUTE_BATCH, ctx.batch_size))


def _int_or_none(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def customer_record(person: Mapping[str, Any]) -> Record:
    """One Customers row: every attribute (as the API gives it: text) plus the
    identifiers, ``created_at`` (unix), ``unsubscribed`` and ``devices``."""
    attributes = person.get("attributes")
    record: Record = dict(attributes) if isinstance(attributes, dict) else {}
    identifiers = person.get("identifiers")
    ident = identifiers if isinstance(identifiers, dict) else {}
    for name in ("id", "email", "cio_id"):
        record[name] = ident.get(name, record.get(name))
    record["created_at"] = _int_or_none(record.get("created_at"))
    record["unsubscribed"] = person.get("unsubscribed")
    record["devices"] = person.get("devices") or []
    return record


def attribute_records(person: Mapping[str, Any]) -> list[Record]:
    """CustomersAttributes rows of one person: one per attribute, with its timestamp."""
    identifiers = person.get("identifiers")
    cio_id = identifiers.get("cio_id") if isinstance(identifiers, dict) else None
    attributes = person.get("attributes")
    stamps = person.get("timestamps")
    if not isinstance(attributes, dict) or cio_id is None:
        return []
    stamps = stamps if isinstance(stamps, dict) else {}
    return [
        {"cio_id": cio_id, "name": name, "value": value, "updated_at": stamps.get(name)}
        for name, value in attributes.items()
    ]


def _new_people(ctx: ExtractContext, people: list[dict[str, Any]]) -> list[Record]:
    """The people of a chunk of the shared pass: all of them when rows change in place
    (``current``: fetched anyway, so upserted), else those not loaded yet."""
    records = [customer_record(p) for p in people]
    if ctx.known is None or not records or ctx.spec.current:
        return records
    loaded = ctx.known([(str(r["cio_id"]),) for r in records])
    return [r for r in records if (str(r["cio_id"]),) not in loaded]


def customers(ctx: ExtractContext) -> Iterator[Batch]:
    """Every person of the shared pass when there is one, else a search of its own."""
    feed = ctx.feed
    if feed is None:
        yield from _customers_alone(ctx)
        return
    read_any = False
    try:
        for people in feed.chunks():
            read_any = True
            yield Batch(_new_people(ctx, people), 0)
    except FeedIncomplete:
        if ctx.client.stopping.is_set():
            raise Interrupted("interrupted: the shared people pass stopped") from None
        if read_any and ctx.known is None:
            raise  # a rebuild stages every row once: starting again would stage some twice
        ctx.warn("Customers: the shared people pass stopped early; searching people on its own")
        yield from _customers_alone(ctx)
        return
    yield Batch([], 0, done=True)


def _customers_alone(ctx: ExtractContext) -> Iterator[Batch]:
    """Search everyone, fetch attributes for ids not loaded yet; people loaded already
    get what the search itself says of them (``id``, ``email``: no extra call)."""
    chunk = _attribute_chunk(ctx)
    pending_pages = 0
    for ppage in people_pages(ctx, None):
        pending_pages += 1
        ids = [str(p["cio_id"]) for p in ppage.records]
        loaded = ctx.known([(i,) for i in ids]) if ctx.known is not None and ids else set()
        if ctx.spec.current and loaded:
            known = [_identifiers(p) for p in ppage.records if (str(p["cio_id"]),) in loaded]
            yield Batch(known, pending_pages)
            pending_pages = 0
        new = [i for i in dict.fromkeys(ids) if (i,) not in loaded]
        for part in _chunks(new, chunk):
            records = [customer_record(p) for p in fetch_attributes(ctx, part)]
            yield Batch(records, pending_pages + 1)
            pending_pages = 0
    yield Batch([], pending_pages, done=True)


def _identifiers(person: Mapping[str, Any]) -> Record:
    """A Customers record of the identifiers a search page lists (other columns untouched)."""
    return {name: person[name] for name in ("cio_id", "id", "email") if name in person}


def customers_attributes(ctx: ExtractContext) -> Iterator[Batch]:
    """Every attribute of every (selected) person, 100 people per call; each chunk of
    people also goes to the run's :class:`~cio_replicate.extract.feed.Feed`, if any."""
    feed = ctx.feed
    chunk = _attribute_chunk(ctx)
    pending_pages = 0
    complete = interrupted = False
    try:
        for ppage in people_pages(ctx, None):
            pending_pages += 1
            ids = list(dict.fromkeys(str(p["cio_id"]) for p in ppage.records))
            for part in _chunks(ids, chunk):
                people = fetch_attributes(ctx, part)
                if feed is not None:
                    feed.publish(people)
                records = [r for p in people for r in attribute_records(p)]
                yield Batch(records, pending_pages + 1)
                pending_pages = 0
        complete = True
    except Interrupted:
        interrupted = True
        raise
    finally:
        if feed is not None:
            feed.close(complete=complete, interrupted=interrupted)
    yield Batch([], pending_pages, done=True)


register("customers", Hooks(customers, parents=people_pages))
register("customers_attributes", Hooks(customers_attributes))
