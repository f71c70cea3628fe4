"""Objects: custom objects of every object type, with their attributes.

Per object type: ``POST /v1/objects`` (body ``{"object_type_id": "<id>"}``)
lists identifiers page by page; then one ``GET
/v1/objects/{type}/{object_id}/attributes`` per object, concurrently
(``client.fan_out``). A row is the object's attributes (one column each)
plus ``object_type_id``, ``object_id`` and ``cio_object_id``. An object that
vanished between the listing and its attribute call (404) is skipped with a
warning.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import replace
from typing import Any

from ..catalog import get_object
from ..errors import NotFoundError
from ..http import render_path
from .context import Batch, ExtractContext, Hooks, Record, register
from .fanout import parent_pages
from .listing import child_path, pages


def _object_problem(body: Any) -> str | None:
    """An attributes answer without its ``object`` is malformed, never an empty object."""
    if isinstance(body, dict) and isinstance(body.get("object"), dict):
        return None
    found = body.get("object") if isinstance(body, dict) else body
    what = "null or missing" if found is None else f"a {type(found).__name__}"
    return f"'object' is {what}, expected an object"


def object_record(type_id: str, ident: Mapping[str, Any], body: Any) -> Record:
    obj = body.get("object") if isinstance(body, dict) else None
    obj = obj if isinstance(obj, dict) else {}
    attributes = obj.get("attributes")
    record: Record = dict(attributes) if isinstance(attributes, dict) else {}
    identifiers = obj.get("identifiers")
    ids = identifiers if isinstance(identifiers, dict) else {}
    record["object_type_id"] = type_id
    record["object_id"] = ids.get("object_id", ident.get("object_id"))
    record["cio_object_id"] = ids.get("cio_object_id", ident.get("cio_object_id"))
    return record


def custom_objects(ctx: ExtractContext) -> Iterator[Batch]:
    spec = ctx.spec
    types = get_object(spec.parent or "ObjectTypes")

    def fetch(item: tuple[str, Mapping[str, Any]]) -> Record | None:
        type_id, ident = item
        path = render_path(
            "/v1/objects/{object_type_id}/{object_id}/attributes",
            {"object_type_id": type_id, "object_id": ident.get("object_id")},
        )
        try:
            body = ctx.client.app("GET", path, check=_object_problem)
            return object_record(type_id, ident, body)
        except NotFoundError:
            ctx.warn(f"{spec.name}: {path} answered 404 (object gone); skipped")
            return None

    for ppage in parent_pages(ctx, types, None):
        for object_type in ppage.records:
            type_id = str(object_type.get("id"))
            listing = replace(spec, body={**(spec.body or {}), "object_type_id": type_id})
            path = child_path(spec, object_type)
            for _token, page in pages(ctx, listing, path, dict(spec.params), None):
                idents = [(type_id, i) for i in page.records if isinstance(i, dict)]
                found = [r for r in ctx.fan_out(fetch, idents) if r is not None]
                records = [r for r in found if ctx.filters.keep(spec.name, r)]
                yield Batch(records, 1 + len(idents))
    yield Batch([], 0, done=True)


register("objects", Hooks(custom_objects))
