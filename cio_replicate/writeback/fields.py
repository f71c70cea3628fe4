"""Typing of input values (CSV text or table values) into API field values.

An empty cell means "not given": it is left out of the request, so an UPDATE never
blanks a field by accident. Values read from a database table may already be typed
(int, bool, dict/list from a JSON column): they are accepted as they are.
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection
from datetime import datetime
from typing import Any

from ..catalog.model import FieldType
from .checks import InvalidValue

_URL = re.compile(r"https?://[^\s/$.?#][^\s]*", re.IGNORECASE)
_TRUE = ("true", "1", "yes", "t", "y")
_FALSE = ("false", "0", "no", "f", "n")


def is_empty(value: Any) -> bool:
    return value is None or (isinstance(value, str) and value == "")


def coerce(name: str, kind: FieldType, value: Any, choices: Collection[str] = ()) -> Any:
    """Convert one given (non-empty) value; InvalidValue names the field."""
    if kind == "any":
        return _attribute(value)
    if kind == "text":
        return value if isinstance(value, str) else _text(value)
    if kind in ("int", "time"):
        return _int(name, value)
    if kind == "bool":
        return _bool(name, value)
    if kind == "url":
        text = str(value).strip()
        if not _URL.fullmatch(text):
            raise InvalidValue(f"{name} must be an http(s) URL, got {text!r}")
        return text
    if kind == "text_list":
        items = _json(name, value, list) if _looks_json(value, "[") else str(value).split(",")
        out = [str(i).strip() for i in items if str(i).strip()]
        if not out:
            raise InvalidValue(f"{name} must list at least one value")
        bad = [i for i in out if choices and i not in choices]
        if bad:
            raise InvalidValue(f"{name}: {bad[0]!r} is not one of the allowed values")
        return out
    if kind == "json_array":
        return _json(name, value, list)
    if kind == "json":
        return _json(name, value, (list, dict))
    return _json(name, value, dict)


def _text(value: Any) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def _int(name: str, value: Any) -> int:
    if isinstance(value, bool):
        raise InvalidValue(f"{name} must be an integer, got {value}")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    text = str(value).strip()
    if re.fullmatch(r"[+-]?\d+", text):
        return int(text)
    raise InvalidValue(f"{name} must be an integer, got {text!r}")


def _bool(name: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise InvalidValue(f"{name} must be true or false, got {value!r}")


def _looks_json(value: Any, opener: str) -> bool:
    return isinstance(value, list | dict) or str(value).lstrip().startswith(opener)


def _json(name: str, value: Any, expect: type | tuple[type, ...]) -> Any:
    if not isinstance(value, list | dict):
        try:
            value = json.loads(str(value))
        except json.JSONDecodeError as exc:
            raise InvalidValue(
                f"{name} is not valid JSON ({exc.msg} at position {exc.pos})"
            ) from None
    if not isinstance(value, expect):
        kind = "array" if expect is list else "object" if expect is dict else "array or object"
        raise InvalidValue(f"{name} must be a JSON {kind}")
    return value


def _attribute(value: Any) -> Any:
    """A person attribute: Track v1 takes strings, integers and booleans."""
    if isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return int(value) if value.is_integer() else str(value)
    return _text(value)
