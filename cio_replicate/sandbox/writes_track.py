"""Write routes of the simulated Track API (reference §5.1-5.2).

v1 identify follows the identifier rules of the reference, including its silent traps:
an identify whose path and body identifiers belong to different people answers 200 and
changes nothing (Customer.io logs an *Attribute Update Failure*), and one addressed to
an unknown ``cio_<id>`` is dropped with a 200. Errors: v1 ``{"meta":{"errors":[...]}}``,
v2 ``{"errors":[{"reason","field","message"}]}``; a batch with some bad items answers 207
with ``batch_index`` on each error and applies the good ones.
"""

from __future__ import annotations

import json
from typing import Any

from .people import Person
from .router import Call, HttpError, Reply, route, track_error
from .workspace import Workspace

OK = Reply(200, {})
MAX_NAME_BYTES = 150
MAX_VALUE_BYTES = 1000
MAX_ATTRIBUTES = 300
MAX_ENTITY_BYTES = 32 * 1024
MAX_BATCH_BYTES = 500 * 1024
V1_RESERVED = {"id", "email", "cio_id", "anonymous_id", "created_at", "_timestamp", "_update"}


def _kind(identifier: str) -> str:
    """The identifier type, inferred from the value's shape (a phone number is an id)."""
    if identifier.startswith("cio_"):
        return "cio_id"
    return "email" if "@" in identifier else "id"


def _holders(ws: Workspace, kind: str, value: str) -> list[Person]:
    if kind == "email":
        return ws.people.find_by_email(value)
    person = ws.people.find(value, kind)
    return [person] if person is not None else []


def _check_attributes(attrs: dict[str, Any]) -> list[str]:
    errors = []
    if len(attrs) > MAX_ATTRIBUTES:
        errors.append(f"too many attributes: {len(attrs)} (at most {MAX_ATTRIBUTES})")
    for name, value in attrs.items():
        if len(name.encode()) > MAX_NAME_BYTES:
            errors.append(f"attribute name {name[:30]!r}... is longer than {MAX_NAME_BYTES} bytes")
        text = value if isinstance(value, str) else json.dumps(value)
        if len(text.encode()) > MAX_VALUE_BYTES and name != "cio_relationships":
            errors.append(f"attribute {name!r} is longer than {MAX_VALUE_BYTES} bytes")
    return errors


def _attributes(body: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for name, value in body.items():
        if name in V1_RESERVED or name == "cio_relationships":
            continue
        if name == "cio_subscription_preferences" and isinstance(value, dict):
            value = json.dumps(value, separators=(",", ":"))
        out[name] = value
    return out


@route("track", "PUT", "/api/v1/customers/{identifier}")
def identify(call: Call) -> Reply:
    body = call.json_object()
    ident = call.params["identifier"]
    errors = _check_attributes(body) + ([] if ident.strip() else ["identifier is required"])
    if errors:
        raise track_error(400, *errors)
    ws = call.workspace
    relations = _v1_relationships(ws, body.get("cio_relationships"))
    kind = _kind(ident)
    holders = _holders(ws, kind, ident)
    if kind == "cio_id" and not holders:
        return OK  # an unknown or deleted cio_id: the request is dropped
    target = holders[0] if holders else None
    changes = _attributes(body)
    for field in ("id", "email"):
        value = body.get(field)
        if value is None or value == "":
            continue
        value = str(value)
        if field == kind:
            if value.lower() != ident.lower():
                return OK  # path and body name different identities: Attribute Update Failure
            continue
        others = _holders(ws, field, value)
        if target is None and others:
            target = others[0]  # the body identifier's owner gets the path identifier
        elif target is not None and any(o.index != target.index for o in others):
            return OK  # identifiers of two different people: nothing changes
        changes[field] = value
    if target is None:
        if body.get("_update") is True:
            return OK
        new_id = ident if kind == "id" else changes.pop("id", None)
        new_email = ident if kind == "email" else changes.pop("email", None)
        target = ws.create_person(new_id, new_email, changes)
    else:
        if kind != "cio_id" and not holders:
            changes[kind] = ident
        target = ws.update_person(target, changes)
    for type_id, object_id, action, attrs in relations:
        _relate(ws, target, type_id, object_id, action, attrs)
    return OK


Relation = tuple[str, str, str, Any]  # (object_type_id, object_id, action, attributes)


def _v1_relationships(ws: Workspace, spec: Any) -> list[Relation]:
    """The v1 ``cio_relationships`` of an identify, checked before anything changes."""
    if spec is None:
        return []
    if not isinstance(spec, dict) or not isinstance(spec.get("relationships"), list):
        raise track_error(400, 'cio_relationships must be {"action", "relationships": [...]}')
    action = spec.get("action", "add_relationships")
    out: list[Relation] = []
    for rel in spec["relationships"]:
        ids = rel.get("identifiers") if isinstance(rel, dict) else None
        if not isinstance(ids, dict) or not ids.get("object_type_id") or not ids.get("object_id"):
            raise track_error(400, "each relationship needs object_type_id and object_id")
        type_id = str(ids["object_type_id"])
        if type_id not in ws.misc.objects:
            raise track_error(400, f"object type {type_id} does not exist")
        out.append((type_id, str(ids["object_id"]), action, rel.get("relationship_attributes")))
    return out


def _relate(
    ws: Workspace, person: Person, type_id: str, object_id: str, action: str, attrs: Any
) -> None:
    if type_id not in ws.misc.objects:
        raise _OpError("identifiers.object_type_id", f"object type {type_id} does not exist")
    if action == "delete_relationships":
        if object_id in ws.misc.objects[type_id]:
            ws.unrelate(person, type_id, object_id)
        return
    if object_id not in ws.misc.objects[type_id]:
        ws.put_object(type_id, object_id, {})  # UNCONFIRMED: relating creates the object
    ws.relate(person, type_id, object_id, attrs if isinstance(attrs, dict) else None)


@route("track", "DELETE", "/api/v1/customers/{identifier}")
def delete_customer(call: Call) -> Reply:
    ident = call.params["identifier"]
    holders = _holders(call.workspace, _kind(ident), ident)
    if holders:
        call.workspace.delete_person(holders[0])
    return OK  # deleting nobody also answers 200


# --- v2 ---------------------------------------------------------------------------------
class _OpError(Exception):
    def __init__(self, field: str, message: str, reason: str = "invalid") -> None:
        super().__init__(message)
        self.item = {"reason": reason, "field": field, "message": message}


def _person_by(ws: Workspace, idents: Any, field: str, *, create: bool) -> Person | None:
    if not isinstance(idents, dict) or len(idents) != 1:
        raise _OpError(field, "identifiers must hold exactly one of id, email, cio_id")
    ((kind, value),) = idents.items()
    if kind not in ("id", "email", "cio_id") or not isinstance(value, str | int) or value == "":
        raise _OpError(field, "identifiers must hold exactly one of id, email, cio_id")
    found = _holders(ws, kind, str(value))
    if found:
        return found[0]
    if not create:
        return None
    if kind == "cio_id":
        raise _OpError(field, f"no person with cio_id {value}")
    text = str(value)
    return ws.create_person(text if kind == "id" else None, text if kind == "email" else None)


def _object_ref(ws: Workspace, idents: Any) -> tuple[str, str | None]:
    """(object_type_id, object_id or None when a cio_object_id matches nothing)."""
    if isinstance(idents, dict) and set(idents) == {"cio_object_id"}:
        for type_id, objs in ws.misc.objects.items():
            for object_id, obj in objs.items():
                if obj["cio_object_id"] == idents["cio_object_id"]:
                    return type_id, object_id
        return "", None
    if not isinstance(idents, dict) or set(idents) != {"object_type_id", "object_id"}:
        raise _OpError("identifiers", "give object_type_id and object_id, or cio_object_id")
    type_id, object_id = idents["object_type_id"], idents["object_id"]
    if not isinstance(type_id, str) or not type_id.isdigit():
        raise _OpError("identifiers.object_type_id", "object_type_id must be a string integer")
    if type_id not in ws.misc.objects:
        raise _OpError("identifiers.object_type_id", f"object type {type_id} does not exist")
    if not isinstance(object_id, str) or not object_id or len(object_id.encode()) > MAX_NAME_BYTES:
        raise _OpError("identifiers.object_id", "object_id must be a string of 1 to 150 bytes")
    return type_id, object_id


def _relationships(op: dict[str, Any], required: bool) -> list[dict[str, Any]]:
    rels = op.get("cio_relationships")
    if rels is None and not required:
        return []
    if not isinstance(rels, list) or (required and not rels):
        raise _OpError("cio_relationships", "cio_relationships must be a non-empty array")
    if not all(isinstance(r, dict) for r in rels):
        raise _OpError("cio_relationships", "each relationship must be an object")
    return rels


def _object_op(ws: Workspace, op: dict[str, Any]) -> None:
    action = op.get("action")
    type_id, object_id = _object_ref(ws, op.get("identifiers"))
    if action == "delete":
        if object_id is not None and object_id in ws.misc.objects[type_id]:
            ws.delete_object(type_id, object_id)
        return
    if action not in ("identify", "add_relationships", "delete_relationships"):
        raise _OpError("action", f"unsupported action {action!r} for type object")
    if object_id is None:
        raise _OpError("identifiers.cio_object_id", "no object has this cio_object_id")
    rels = _relationships(op, required=action != "identify")
    attrs = op.get("attributes", {})
    if action == "identify":
        if not isinstance(attrs, dict):
            raise _OpError("attributes", "attributes must be an object")
        ws.put_object(type_id, object_id, attrs)
    for index, rel in enumerate(rels):
        field = f"cio_relationships[{index}].identifiers"
        create = action != "delete_relationships"
        person = _person_by(ws, rel.get("identifiers"), field, create=create)
        if person is not None:
            verb = "delete_relationships" if action == "delete_relationships" else "add"
            _relate(ws, person, type_id, object_id, verb, rel.get("relationship_attributes"))


def _person_op(ws: Workspace, op: dict[str, Any]) -> None:
    action = op.get("action")
    if action not in ("identify", "delete", "add_relationships", "delete_relationships"):
        raise _OpError("action", f"unsupported action {action!r} for type person")
    person = _person_by(ws, op.get("identifiers"), "identifiers", create=action == "identify")
    if person is None:
        return
    if action == "delete":
        ws.delete_person(person)
        return
    if action == "identify":
        attrs = op.get("attributes", {})
        if not isinstance(attrs, dict) or _check_attributes(attrs):
            raise _OpError("attributes", "attributes must be an object within the size limits")
        person = ws.update_person(person, attrs)
    verb = "delete_relationships" if action == "delete_relationships" else "add"
    for rel in _relationships(op, required=action != "identify"):
        ids = rel.get("identifiers")
        type_id, object_id = _object_ref(ws, ids)
        if object_id is not None:
            _relate(ws, person, type_id, object_id, verb, rel.get("relationship_attributes"))


def _apply(ws: Workspace, op: Any, limit: int = MAX_ENTITY_BYTES) -> None:
    if not isinstance(op, dict):
        raise _OpError("", "each operation must be an object")
    if len(json.dumps(op).encode()) > limit:
        raise _OpError("", "operation is larger than 32 KB", "too_large")
    kind = op.get("type")
    if kind == "object":
        _object_op(ws, op)
    elif kind == "person":
        _person_op(ws, op)
    else:  # UNCONFIRMED: the sandbox does not simulate delivery operations
        raise _OpError("type", f"type must be person or object, got {kind!r}")


@route("track", "POST", "/api/v2/entity")
def entity(call: Call) -> Reply:
    try:
        _apply(call.workspace, call.body)
    except _OpError as exc:
        raise HttpError(400, {"errors": [exc.item]}) from None
    return OK


@route("track", "POST", "/api/v2/batch")
def batch(call: Call) -> Reply:
    body = call.json_object()
    items = body.get("batch")
    if not isinstance(items, list) or not items:
        raise HttpError(
            400,
            {
                "errors": [
                    {
                        "reason": "invalid",
                        "field": "batch",
                        "message": "batch must be a non-empty array",
                    }
                ]
            },
        )
    if len(json.dumps(body).encode()) > MAX_BATCH_BYTES:
        raise HttpError(
            400,
            {
                "errors": [
                    {
                        "reason": "too_large",
                        "field": "batch",
                        "message": "batch is larger than 500 KB",
                    }
                ]
            },
        )
    errors = []
    for index, op in enumerate(items):
        try:
            _apply(call.workspace, op)
        except _OpError as exc:
            errors.append({"batch_index": index, **exc.item})
    return Reply(207, {"errors": errors}) if errors else OK
