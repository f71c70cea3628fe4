"""Cursor pagination, in one place.

Customer.io pages with an opaque cursor: the request carries ``start=<token>``
(omitted on the first call), the response carries ``next``. Paging stops on a
missing/empty ``next`` or an empty page; the same cursor twice is an error
(a server-side loop would otherwise page forever).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from ..errors import ApiError

Fetch = Callable[[dict[str, Any]], Any]
"""Sends one request with the given query parameters; returns the parsed body."""


@dataclass(frozen=True)
class Page:
    records: list[Any]
    next: str | None
    """The cursor for the following page; None on the last page."""
    raw: Mapping[str, Any]
    """The whole response body (e.g. for side lists such as ``ids``)."""
    number: int
    """1-based page number."""


def records_of(body: Any, envelope: str | None, where: str) -> list[Any]:
    """The list of records in a response body (``body[envelope]``, or the body)."""
    if envelope is None:
        if body is None:
            return []
        return list(body) if isinstance(body, list) else [body]
    if not isinstance(body, dict) or envelope not in body:
        shape = sorted(body) if isinstance(body, dict) else type(body).__name__
        raise ApiError(f"{where}: expected a {envelope!r} list in the response, got {shape}")
    value = body[envelope]
    if value is None:
        return []
    if not isinstance(value, list):
        raise ApiError(f"{where}: {envelope!r} is a {type(value).__name__}, expected a list")
    return value


def cursor_of(body: Any) -> str | None:
    """The ``next`` cursor as a string; None when missing or empty."""
    if not isinstance(body, dict):
        return None
    value = body.get("next")
    if value is None or value == "":
        return None
    return str(value)


def paginate(
    fetch: Fetch,
    *,
    envelope: str | None,
    params: Mapping[str, Any] | None = None,
    page_size: int | None = None,
    limit_param: str = "limit",
    where: str = "request",
) -> Iterator[Page]:
    """Yield pages until the cursor runs out. ``where`` names the request in errors."""
    base = dict(params or {})
    if page_size is not None:
        base[limit_param] = page_size
    seen: set[str] = set()
    cursor: str | None = None
    number = 0
    while True:
        query = dict(base)
        if cursor is not None:
            query["start"] = cursor
        body = fetch(query)
        number += 1
        records = records_of(body, envelope, where)
        following = cursor_of(body)
        raw = body if isinstance(body, dict) else {}
        yield Page(records=records, next=following, raw=raw, number=number)
        if not records or following is None:
            return
        if following in seen:
            raise ApiError(
                f"{where}: pagination loop, the cursor {following[:40]!r} came back "
                f"twice (page {number})"
            )
        seen.add(following)
        cursor = following
