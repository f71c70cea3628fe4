"""Read routes for people, segments, objects and the Track region endpoint."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from .constants import ATTRIBUTES_BATCH_MAX, ENVIRONMENT_ID, TRACK_URL
from .filters import compile_object_filter, compile_people_filter
from .listing import activity_page, message_page
from .paging import next_token, parse_limit, read_cursor, take_page
from .people import Ident, PeopleStore, Person
from .router import Call, Reply, app_error, route

ID_TYPES = ("id", "email", "cio_id")


def _id_type(call: Call) -> str:
    id_type = call.query.get("id_type") or "id"
    if id_type not in ID_TYPES:
        raise app_error(400, f"id_type must be one of {', '.join(ID_TYPES)}")
    return id_type


def path_person(call: Call) -> Person:
    """The person named by {customer_id} + id_type (cio_id values carry the `cio_` prefix)."""
    value = call.params["customer_id"]
    id_type = _id_type(call)
    if id_type == "cio_id" and not value.startswith("cio_"):
        raise app_error(404, "customer not found (cio_id values must be prefixed with cio_)")
    person = call.workspace.people.find(value, id_type)
    if person is None:
        raise app_error(404, "customer not found")
    return person


def _int_cursor(call: Call, kind: str) -> int:
    value = read_cursor(call, kind)
    if value is None:
        return 0
    if not isinstance(value, int):
        raise app_error(400, "start is not a valid pagination token for this listing")
    return value


def _loader(store: PeopleStore, index: int) -> Callable[[], Person]:
    """Builds the full person at most once, and only if a filter needs attributes."""
    built: list[Person] = []

    def load() -> Person:
        if not built:
            person = store.get(index)
            assert person is not None
            built.append(person)
        return built[0]

    return load


@route("app", "POST", "/v1/customers")
def search_customers(call: Call) -> Reply:
    limit = parse_limit(call, "customers_search")
    start = _int_cursor(call, "customers")
    body = call.json_object()
    if "filter" not in body:
        raise app_error(400, "filter is required")
    try:
        test = compile_people_filter(body["filter"], call.workspace.is_member)
    except ValueError as exc:
        raise app_error(400, f"invalid filter: {exc}") from None
    store = call.workspace.people

    def matches() -> Iterator[tuple[int, Ident]]:
        for index in range(start, store.total):
            ident = store.ident(index)
            if ident is not None and test(index, _loader(store, index)):
                yield index, ident

    page, position = take_page(matches(), limit, lambda r: r[0] + 1)
    return Reply(
        200,
        {
            "identifiers": [ident.identifiers() for _, ident in page],
            "ids": [ident.id for _, ident in page if ident.id is not None],
            "next": next_token("customers", position),
        },
    )


@route("app", "GET", "/v1/customers")
def customers_by_email(call: Call) -> Reply:
    email = call.query.get("email")
    if not email:
        raise app_error(400, "email is required")
    found = call.workspace.people.find_by_email(email)
    return Reply(200, {"results": [p.identifiers() for p in found]})


@route("app", "POST", "/v1/customers/attributes")
def customers_attributes(call: Call) -> Reply:
    id_type = _id_type(call)
    ids = call.json_object().get("ids")
    if not isinstance(ids, list) or not ids:
        raise app_error(400, "ids must be a non-empty array")
    if len(ids) > ATTRIBUTES_BATCH_MAX:
        raise app_error(400, f"ids may hold at most {ATTRIBUTES_BATCH_MAX} values")
    out = []
    for raw in ids:
        value = str(raw)
        lookup = f"cio_{value.removeprefix('cio_')}" if id_type == "cio_id" else value
        person = call.workspace.people.find(lookup, id_type)
        if person is not None:
            out.append(call.workspace.customer(person, value))
    return Reply(200, {"customers": out})


@route("app", "GET", "/v1/customers/{customer_id}/attributes")
def customer_attributes(call: Call) -> Reply:
    person = path_person(call)
    return Reply(200, {"customer": call.workspace.customer(person, call.params["customer_id"])})


@route("app", "GET", "/v1/customers/{customer_id}/segments")
def customer_segments(call: Call) -> Reply:
    return Reply(200, {"segments": call.workspace.person_segments(path_person(call))})


@route("app", "GET", "/v1/customers/{customer_id}/messages")
def customer_messages(call: Call) -> Reply:
    person = path_person(call)
    return Reply(200, message_page(call, "customer_messages", "customer_messages", person=person))


@route("app", "GET", "/v1/customers/{customer_id}/activities")
def customer_activities(call: Call) -> Reply:
    person = path_person(call)
    return Reply(200, activity_page(call, "customer_activities", "customer_activities", person))


@route("app", "GET", "/v1/customers/{customer_id}/relationships")
def customer_relationships(call: Call) -> Reply:
    person = path_person(call)
    limit = parse_limit(call, "customer_relationships")
    start = _int_cursor(call, "customer_relationships")
    rels = call.workspace.relationships_of_person(person)
    page, position = take_page(enumerate(rels[start:], start), limit, lambda r: r[0] + 1)
    return Reply(
        200,
        {
            "cio_relationships": [r for _, r in page],
            "next": next_token("customer_relationships", position),
        },
    )


# segments ----------------------------------------------------------------------------
def _segment(call: Call) -> dict[str, Any]:
    seg = call.workspace.misc.segments.get(call.int_param("segment_id"))
    if seg is None:
        raise app_error(404, "segment not found")
    return seg


@route("app", "GET", "/v1/segments/{segment_id}/customer_count")
def segment_count(call: Call) -> Reply:
    sid = _segment(call)["id"]
    return Reply(200, {"count": call.workspace.segment_count(sid)})


@route("app", "GET", "/v1/segments/{segment_id}/membership")
def segment_membership(call: Call) -> Reply:
    sid = _segment(call)["id"]
    limit = parse_limit(call, "segment_membership")
    start = _int_cursor(call, f"membership:{sid}")
    page, position = take_page(
        call.workspace.segment_members(sid, start), limit, lambda r: r[0] + 1
    )
    return Reply(
        200,
        {
            "identifiers": [ident.identifiers() for _, ident in page],
            "ids": [ident.id for _, ident in page if ident.id is not None],
            "next": next_token(f"membership:{sid}", position),
            "segment_id": sid,
        },
    )


# objects -----------------------------------------------------------------------------
@route("app", "GET", "/v1/object_types")
def object_types(call: Call) -> Reply:
    types = call.workspace.misc.object_types
    return Reply(200, {"types": [types[t] for t in sorted(types, key=int)]})


def _object_type(call: Call, value: Any) -> str:
    type_id = str(value)
    if type_id not in call.workspace.misc.object_types:
        raise app_error(404, f"object type {type_id} not found")
    return type_id


@route("app", "POST", "/v1/objects")
def find_objects(call: Call) -> Reply:
    body = call.json_object()
    if "object_type_id" not in body:
        raise app_error(400, "object_type_id is required")
    type_id = _object_type(call, body["object_type_id"])
    limit = parse_limit(call, "objects")
    start = _int_cursor(call, f"objects:{type_id}")
    try:
        test = compile_object_filter(body["filter"]) if body.get("filter") else None
    except ValueError as exc:
        raise app_error(400, f"invalid filter: {exc}") from None
    objs = list(call.workspace.misc.objects[type_id].values())
    rows = ((n, o) for n, o in enumerate(objs) if n >= start and (test is None or test(o)))
    page, position = take_page(rows, limit, lambda r: r[0] + 1)
    return Reply(
        200,
        {
            "identifiers": [
                {"object_id": o["object_id"], "cio_object_id": o["cio_object_id"]} for _, o in page
            ],
            "ids": [o["object_id"] for _, o in page],
            "next": next_token(f"objects:{type_id}", position),
        },
    )


def path_object(call: Call) -> dict[str, Any]:
    type_id = _object_type(call, call.params["object_type_id"])
    value = call.params["object_id"]
    objs = call.workspace.misc.objects[type_id]
    id_type = call.query.get("id_type") or "object_id"
    if id_type == "cio_object_id":
        found = next((o for o in objs.values() if o["cio_object_id"] == value), None)
    elif id_type == "object_id":
        found = objs.get(value)
    else:
        raise app_error(400, "id_type must be object_id or cio_object_id")
    if found is None:
        raise app_error(404, "object not found")
    return found


@route("app", "GET", "/v1/objects/{object_type_id}/{object_id}/attributes")
def object_attributes(call: Call) -> Reply:
    obj = path_object(call)
    return Reply(
        200,
        {
            "object": {
                "identifiers": {
                    "object_id": obj["object_id"],
                    "cio_object_id": obj["cio_object_id"],
                },
                "attributes": dict(obj["attributes"]),
                "timestamps": dict(obj["timestamps"]),
                "object_type_disabled": False,
            }
        },
    )


@route("app", "GET", "/v1/objects/{object_type_id}/{object_id}/relationships")
def object_relationships(call: Call) -> Reply:
    obj = path_object(call)
    limit = parse_limit(call, "object_relationships")
    kind = f"object_relationships:{obj['cio_object_id']}"
    start = _int_cursor(call, kind)
    related = sorted(
        call.workspace.people_of_object(obj["object_type_id"], obj["object_id"]),
        key=lambda r: r[0].index,
    )
    rows = ((p, attrs) for p, attrs in related if p.index >= start)
    page, position = take_page(rows, limit, lambda r: r[0].index + 1)
    return Reply(
        200,
        {
            "cio_relationships": [
                {"identifiers": p.identifiers(), "attributes": dict(a)} for p, a in page
            ],
            "next": next_token(kind, position),
        },
    )


# track --------------------------------------------------------------------------------
@route("track", "GET", "/api/v1/accounts/region")
def account_region(call: Call) -> Reply:
    region = call.workspace.region
    return Reply(
        200, {"url": TRACK_URL[region], "region": region, "environment_id": ENVIRONMENT_ID}
    )
