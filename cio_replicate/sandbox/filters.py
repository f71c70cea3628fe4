"""The audience filter grammar of POST /v1/customers (and exports / broadcast recipients),
plus the object attribute filter of POST /v1/objects.

People: exactly one of `and` [..], `or` [..], `not` {..}, `segment` {"id"},
`attribute` {"field", "operator": "eq"|"exists", "value"}. Objects: the same combinators over
`object_attribute` {"field", "operator", "value", "type_id"}. A malformed filter -> ValueError
(the route turns it into a 400 with the App error body). Values compare as strings, emails
case-insensitively.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from .people import Person, attribute_text

PersonTest = Callable[[int, Callable[[], Person]], bool]
"""(person index, loader of the full Person) -> match; segment and `cio_id exists` tests never
call the loader, so listing everyone does not build anyone's attributes."""
ObjectTest = Callable[[Mapping[str, Any]], bool]


def _one_key(node: Any) -> tuple[str, Any]:
    if not isinstance(node, dict) or len(node) != 1:
        raise ValueError("each filter node must be an object with exactly one key")
    ((name, value),) = node.items()
    return name, value


def _attribute_test(spec: Any, leaf: str) -> tuple[str, str, str | None]:
    if not isinstance(spec, dict) or not isinstance(spec.get("field"), str):
        raise ValueError(f"{leaf} needs a string field")
    operator = spec.get("operator")
    if operator not in ("eq", "exists"):
        raise ValueError(f"{leaf} operator must be eq or exists")
    value = spec.get("value")
    if operator == "eq" and value is None:
        raise ValueError(f"{leaf} with operator eq needs a value")
    return spec["field"], operator, None if value is None else attribute_text(value)


def person_value(person: Person, field: str) -> str | None:
    if field in ("id", "email", "cio_id"):
        value: Any = getattr(person, field)
    elif field == "unsubscribed":
        value = person.unsubscribed
    elif field == "created_at":
        value = person.created_at
    else:
        value = person.attributes.get(field)
    return None if value is None else attribute_text(value)


def compile_people_filter(node: Any, is_member: Callable[[int, int], bool]) -> PersonTest:
    name, value = _one_key(node)
    if name in ("and", "or"):
        if not isinstance(value, list) or not value:
            raise ValueError(f"{name} must be a non-empty array")
        parts = [compile_people_filter(v, is_member) for v in value]
        if name == "and":
            return lambda i, load: all(t(i, load) for t in parts)
        return lambda i, load: any(t(i, load) for t in parts)
    if name == "not":
        inner = compile_people_filter(value, is_member)
        return lambda i, load: not inner(i, load)
    if name == "segment":
        if not isinstance(value, dict) or not isinstance(value.get("id"), int):
            raise ValueError("segment needs an integer id")
        sid = value["id"]
        return lambda i, load: is_member(i, sid)
    if name == "attribute":
        field, operator, wanted = _attribute_test(value, "attribute")
        if field == "cio_id" and operator == "exists":
            return lambda i, load: True
        if operator == "exists":
            return lambda i, load: person_value(load(), field) is not None
        if field == "email":
            low = (wanted or "").lower()
            return lambda i, load: (load().email or "").lower() == low
        return lambda i, load: person_value(load(), field) == wanted
    raise ValueError(f"unknown filter key {name!r}")


def compile_object_filter(node: Any) -> ObjectTest:
    name, value = _one_key(node)
    if name in ("and", "or"):
        if not isinstance(value, list) or not value:
            raise ValueError(f"{name} must be a non-empty array")
        parts = [compile_object_filter(v) for v in value]
        if name == "and":
            return lambda o: all(t(o) for t in parts)
        return lambda o: any(t(o) for t in parts)
    if name == "not":
        inner = compile_object_filter(value)
        return lambda o: not inner(o)
    if name in ("object_attribute", "attribute"):
        field, operator, wanted = _attribute_test(value, name)

        def test(obj: Mapping[str, Any]) -> bool:
            if field == "object_id":
                raw: Any = obj["object_id"]
            else:
                raw = obj["attributes"].get(field)
            if raw is None:
                return False
            return operator == "exists" or attribute_text(raw) == wanted

        return test
    raise ValueError(f"unknown object filter key {name!r}")
