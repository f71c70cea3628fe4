"""Validate request bodies against Customer.io's own Track OpenAPI schemas."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

SPEC = (
    Path(__file__).resolve().parents[3]
    / "shared/reference/openapi/customerio-journeys-track.openapi.json"
)


@cache
def _registry() -> Registry[Any]:
    if not SPEC.exists():
        pytest.skip(f"the Track OpenAPI file is not at {SPEC}")
    spec = _fix_one_of(json.loads(SPEC.read_text()))
    return Registry().with_resource(
        "urn:track", Resource.from_contents(spec, default_specification=DRAFT202012)
    )


def validate(pointer: str, body: Any) -> None:
    """``pointer`` like ``components/schemas/sendemail``; raises ValidationError."""
    Draft202012Validator({"$ref": f"urn:track#/{pointer}"}, registry=_registry()).validate(body)


def request_schema(path: str, method: str) -> str:
    escaped = path.replace("~", "~0").replace("/", "~1")
    return f"paths/{escaped}/{method}/requestBody/content/application~1json/schema"


def _fix_one_of(node: Any) -> Any:
    """Give one-property oneOf branches their missing ``required``.

    ``v2_cio_relationships`` offers ``{id}``, ``{email}``, ``{cio_id}`` as a oneOf
    without ``required``, so every value matches all three and the spec's own
    examples fail it; requiring the one property is what the spec means.
    """
    if isinstance(node, dict):
        branches = node.get("oneOf")
        if isinstance(branches, list) and all(
            isinstance(b, dict) and len(b.get("properties", {})) == 1 and "required" not in b
            for b in branches
        ):
            for branch in branches:
                branch["required"] = list(branch["properties"])
        for value in node.values():
            _fix_one_of(value)
    elif isinstance(node, list):
        for value in node:
            _fix_one_of(value)
    return node
