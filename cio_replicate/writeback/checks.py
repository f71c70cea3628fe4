"""Value checks shared by procedure calls and row imports.

Every check either returns the normalized value or raises ``InvalidValue`` with a
message naming the parameter or field and what is wrong; nothing here does I/O.
Limits come from the reference (customerio-api.md §5.8, §2.1 Track payload limits).
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from email.utils import getaddresses
from typing import Any

MAX_RECIPIENTS = 15
MAX_ATTACHMENTS_BYTES = 2 * 1024 * 1024
MAX_SEND_AHEAD_SECONDS = 90 * 86400
MAX_ID_BYTES = 150
# Headers an email provider sets itself; Customer.io refuses to let a send override them.
# The exact list is not published (UNCONFIRMED): these are the RFC 5322/MIME headers.
RESERVED_HEADERS = frozenset(
    h.lower()
    for h in (
        "From",
        "To",
        "Cc",
        "Bcc",
        "Subject",
        "Reply-To",
        "Sender",
        "Date",
        "Message-ID",
        "In-Reply-To",
        "References",
        "Return-Path",
        "Received",
        "MIME-Version",
        "Content-Type",
        "Content-Transfer-Encoding",
        "DKIM-Signature",
        "List-Unsubscribe",
        "List-Unsubscribe-Post",
    )
)
_HEADER_TOKEN = re.compile(r"[\x21-\x7e]+")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


class InvalidValue(ValueError):
    """A value fails a check; the message is meant for the user as is."""


def parse_json(name: str, text: str | None, expect: type[dict[str, Any]] | type[list[Any]]) -> Any:
    """JSON text that must decode to an object (dict) or an array (list)."""
    if text is None:
        return None
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidValue(f"{name} is not valid JSON ({exc.msg} at position {exc.pos})") from None
    kind = "object" if expect is dict else "array"
    if not isinstance(value, expect):
        raise InvalidValue(f"{name} must be a JSON {kind}, got {type(value).__name__}")
    return value


def recipients(name: str, text: str) -> list[str]:
    """Comma-separated addresses (display names allowed): each must look like an email."""
    found = [addr for _, addr in getaddresses([text])]
    if not found or any(not a for a in found):
        raise InvalidValue(f"{name} must be comma-separated email addresses, got {text!r}")
    bad = [a for a in found if not _EMAIL.fullmatch(a)]
    if bad:
        raise InvalidValue(f"{name}: {text!r} is not a list of email addresses (at {bad[0]!r})")
    return found


def recipient_limit(fields: dict[str, str | None]) -> None:
    """At most 15 recipients across to, cc and bcc together."""
    total = sum(len(recipients(name, value)) for name, value in fields.items() if value)
    if total > MAX_RECIPIENTS:
        names = ", ".join(n for n, v in fields.items() if v)
        raise InvalidValue(
            f"too many recipients: {total} across {names} (at most {MAX_RECIPIENTS} in total)"
        )


def email(name: str, text: str) -> str:
    if not _EMAIL.fullmatch(text.strip()):
        raise InvalidValue(f"{name}: {text!r} is not an email address")
    return text.strip()


def attachments(name: str, text: str | None) -> dict[str, str] | None:
    """JSON object filename -> base64 content; names carry an extension; < 2 MB total."""
    value: dict[str, str] | None = parse_json(name, text, dict)
    if value is None:
        return None
    total = 0
    for filename, content in value.items():
        if not filename or "." not in filename.strip(".") or "/" in filename:
            raise InvalidValue(
                f"{name}: file name {filename!r} needs an extension, like report.pdf"
            )
        if not isinstance(content, str):
            raise InvalidValue(f"{name}: content of {filename!r} must be a base64 string")
        try:
            total += len(base64.b64decode(content, validate=True))
        except (binascii.Error, ValueError):
            raise InvalidValue(f"{name}: content of {filename!r} is not valid base64") from None
    if total >= MAX_ATTACHMENTS_BYTES:
        raise InvalidValue(
            f"{name}: attachments total {total} bytes; the limit is under "
            f"{MAX_ATTACHMENTS_BYTES} bytes (2 MB)"
        )
    return value


def headers(name: str, text: str | None) -> list[dict[str, str]] | None:
    """Headers as a JSON array [{name, value}] (or an object {name: value}).

    Names and values must be ASCII strings without spaces; reserved headers are
    refused. Returns the array form the spec's ``headers`` field carries.
    """
    if text is None:
        return None
    raw = parse_json(name, text, dict) if text.lstrip().startswith("{") else None
    if raw is None:
        items = parse_json(name, text, list)
        raw = {}
        for item in items:
            if not isinstance(item, dict) or set(item) != {"name", "value"}:
                raise InvalidValue(f"{name}: each header must be an object {{name, value}}")
            raw[item["name"]] = item["value"]
    out: list[dict[str, str]] = []
    for key, value in raw.items():
        if not isinstance(key, str) or not isinstance(value, str):
            raise InvalidValue(f"{name}: header {key!r} must have a string value")
        for part, what in ((key, "name"), (value, "value")):
            if not _HEADER_TOKEN.fullmatch(part):
                raise InvalidValue(
                    f"{name}: header {what} {part!r} must be non-empty ASCII without spaces"
                )
        if key.lower() in RESERVED_HEADERS:
            raise InvalidValue(f"{name}: header {key!r} is reserved and cannot be set")
        out.append({"name": key, "value": value})
    return out


def send_at(name: str, value: int | None, now: float) -> int | None:
    """A unix time at most 90 days ahead (a past time means: send now)."""
    if value is None:
        return None
    if value < 0:
        raise InvalidValue(f"{name} must be a unix time in seconds, got {value}")
    if value > now + MAX_SEND_AHEAD_SECONDS:
        days = (value - now) / 86400
        raise InvalidValue(f"{name} is {days:.1f} days ahead; at most 90 days ahead is allowed")
    return value


def relationships(name: str, text: str | None, *, required: bool) -> list[dict[str, Any]] | None:
    """``[{"identifiers": {"id"|"email"|"cio_id": ...}, "relationship_attributes"?: {}}]``."""
    items: list[dict[str, Any]] | None = parse_json(name, text, list)
    if items is None or not items:
        if required:
            raise InvalidValue(f"{name} must list at least one person")
        return None
    for index, item in enumerate(items):
        where = f"{name}[{index}]"
        if not isinstance(item, dict) or not isinstance(item.get("identifiers"), dict):
            raise InvalidValue(f'{where} must be an object with "identifiers"')
        extra = set(item) - {"identifiers", "relationship_attributes"}
        if extra:
            raise InvalidValue(f"{where} has unknown keys: {', '.join(sorted(extra))}")
        idents = item["identifiers"]
        if len(idents) != 1 or next(iter(idents)) not in ("id", "email", "cio_id"):
            raise InvalidValue(f"{where}.identifiers must hold exactly one of id, email, cio_id")
        ident = next(iter(idents.values()))
        if not isinstance(ident, str | int) or isinstance(ident, bool) or str(ident) == "":
            raise InvalidValue(f"{where}.identifiers value must be a non-empty string")
        attrs = item.get("relationship_attributes")
        if attrs is not None and not isinstance(attrs, dict):
            raise InvalidValue(f"{where}.relationship_attributes must be a JSON object")
    return items


def identifier(name: str, value: str, *, max_bytes: int = MAX_ID_BYTES) -> str:
    """A non-empty identifier of at most 150 bytes (UTF-8)."""
    if value == "":
        raise InvalidValue(f"{name} must not be empty")
    if len(value.encode()) > max_bytes:
        raise InvalidValue(f"{name} is longer than {max_bytes} bytes")
    return value


def object_type_id(name: str, value: str) -> str:
    """Track v2 object type ids are string-formatted positive integers ("1")."""
    if not re.fullmatch(r"[1-9]\d*", value):
        raise InvalidValue(f'{name} must be a positive integer like "1", got {value!r}')
    return value
