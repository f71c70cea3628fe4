"""Cursor pagination as the reference describes it.

`start` in, `next` out. Tokens are opaque standard-base64 JSON ({"k": listing, "v": position});
a token from another listing, or garbage, is a 400 with the App error body. The last page
carries `"next": ""` (present and empty: "absent or empty when there are no more results").
A page is cut by looking one record ahead, so a full last page is not followed by an empty one.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from .constants import LIMITS, PageLimit
from .router import Call, app_error

T = TypeVar("T")


def make_cursor(kind: str, value: Any) -> str:
    raw = json.dumps({"k": kind, "v": value}, separators=(",", ":")).encode()
    return base64.b64encode(raw).decode()


def read_cursor(call: Call, kind: str) -> Any:
    """The position encoded in `start`, or None on the first page."""
    token = call.query.get("start")
    if token is None or token == "":
        return None
    try:
        data = json.loads(base64.b64decode(token.encode(), validate=True))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise app_error(400, "start is not a valid pagination token") from None
    if not isinstance(data, dict) or data.get("k") != kind or "v" not in data:
        raise app_error(400, "start is not a valid pagination token for this listing")
    return data["v"]


def parse_limit(call: Call, listing: str | PageLimit) -> int:
    rule = LIMITS[listing] if isinstance(listing, str) else listing
    raw = call.query.get("limit")
    if raw is None or raw == "":
        return rule.default
    try:
        value = int(raw)
    except ValueError:
        raise app_error(400, "limit must be an integer") from None
    if value < 1:
        raise app_error(400, "limit must be greater than or equal to 1")
    if value > rule.maximum:
        raise app_error(400, f"limit must be less than or equal to {rule.maximum}")
    return value


def take_page(
    items: Iterable[T], limit: int, position: Callable[[T], Any]
) -> tuple[list[T], Any | None]:
    """Up to `limit` items and the position to continue after (None when exhausted)."""
    page: list[T] = []
    for item in items:
        if len(page) == limit:
            return page, position(page[-1])
        page.append(item)
    return page, None


def next_token(kind: str, position: Any | None) -> str:
    return "" if position is None else make_cursor(kind, position)


def page_after_id(
    call: Call, kind: str, records: list[dict[str, Any]], limit: int, *, descending: bool = False
) -> tuple[list[dict[str, Any]], str]:
    """Keyset paging over small materialised lists sorted by integer `id`."""
    after = read_cursor(call, kind)
    ordered = sorted(records, key=lambda r: int(r["id"]), reverse=descending)
    if after is not None:
        if not isinstance(after, int):
            raise app_error(400, "start is not a valid pagination token for this listing")
        if descending:
            ordered = [r for r in ordered if int(r["id"]) < after]
        else:
            ordered = [r for r in ordered if int(r["id"]) > after]
    page, pos = take_page(ordered, limit, lambda r: int(r["id"]))
    return page, next_token(kind, pos)
