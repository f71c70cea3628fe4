"""Walk a paginated sandbox listing the way a client must: `start` <- `next` until empty."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx


@dataclass(frozen=True)
class Walk:
    records: list[Any]
    pages: list[dict[str, Any]]


def walk(
    client: httpx.Client,
    method: str,
    path: str,
    envelope: str,
    params: dict[str, Any] | None = None,
    json: Any = None,
    max_pages: int = 10_000,
) -> Walk:
    query = dict(params or {})
    records: list[Any] = []
    pages: list[dict[str, Any]] = []
    for _ in range(max_pages):
        response = client.request(method, path, params=query, json=json)
        assert response.status_code == 200, (path, response.status_code, response.text[:300])
        body = response.json()
        pages.append(body)
        records.extend(body[envelope])
        if not body.get("next"):
            return Walk(records, pages)
        assert body["next"] != query.get("start"), "cursor did not move"
        query["start"] = body["next"]
    raise AssertionError(f"{path}: more than {max_pages} pages")
