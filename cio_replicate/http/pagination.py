"""Cursor pagination, in one place.

Customer.io pages with an opaque cursor: the request carries ``start=<token>``
(omitted on the first call), the response carries ``next``. Paging stops on a
missing/empty ``next`` or an empty page. Two kinds of server-side loop, which
would otherwise page forever, are errors: the same cursor twice, and pages that
repeat earlier pages of the listing under ever-new cursors (REPEATS in a row).

A page whose envelope is null, missing or not a list, or a body that is not a
JSON object, is malformed (:func:`envelope_problem`): the client retries it
like a truncated body, and never reads it as an empty list (a full refresh
would swap its table to empty).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from ..errors import ApiError

Fetch = Callable[[dict[str, Any]], Any]
"""Sends one request with the given query parameters; returns the parsed body."""
Check = Callable[[Any], str | None]
"""Judges a parsed body: what is wrong with it, or None when it is well-formed."""

REPEATS = 3
"""Pages in a row that repeat earlier pages of the listing before it counts as a loop."""


@dataclass(frozen=True)
class Page:
    records: list[Any]
    next: str | None
    """The cursor for the following page; None on the last page."""
    raw: Mapping[str, Any]
    """The whole response body (e.g. for side lists such as ``ids``)."""
    number: int
    """1-based page number."""


def _kind(value: Any) -> str:
    return "null" if value is None else f"a {type(value).__name__}"


def envelope_problem(body: Any, envelope: str | None) -> str | None:
    """Why ``body`` is not a page of ``envelope`` records, or None when it is one."""
    if envelope is None:
        return None
    if not isinstance(body, dict):
        return f"the body is {_kind(body)}, expected a JSON object with a {envelope!r} list"
    if envelope not in body:
        keys = ", ".join(sorted(map(str, body))[:10]) or "none"
        return f"expected a {envelope!r} list in the response, got keys: {keys}"
    value = body[envelope]
    if not isinstance(value, list):
        return f"{envelope!r} is {_kind(value)}, expected a list"
    return None


def records_of(body: Any, envelope: str | None, where: str) -> list[Any]:
    """The list of records in a response body (``body[envelope]``, or the body)."""
    if envelope is None:
        if body is None:
            return []
        return list(body) if isinstance(body, list) else [body]
    problem = envelope_problem(body, envelope)
    if problem is not None:
        raise ApiError(f"{where}: malformed response: {problem}")
    value: list[Any] = body[envelope]
    return value


def signature(records: list[Any]) -> int:
    """A page's fingerprint: its length and the records at both ends (cheap for any size)."""
    return hash((len(records), repr(records[0]), repr(records[-1])))


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
    pages_seen: set[int] = set()
    repeats = 0
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
        if records:
            sig = signature(records)
            repeats = repeats + 1 if sig in pages_seen else 0
            pages_seen.add(sig)
            if repeats >= REPEATS:
                raise ApiError(
                    f"{where}: pagination loop, {repeats} pages in a row (up to page {number}) "
                    "repeat records already read under new cursors: the listing does not advance"
                )
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
