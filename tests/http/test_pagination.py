"""Cursor pagination against a fake paging server."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

import httpx
import pytest

from cio_replicate.errors import ApiError
from cio_replicate.http import CioClient

from .conftest import FakeClock, FakeServer, ok

MakeClient = Callable[..., CioClient]


def pages_server(pages: Mapping[str | None, dict[str, Any]], clock: FakeClock) -> FakeServer:
    """Serves pages[start] (start None = first page)."""
    return FakeServer(lambda request, n: ok(pages[request.url.params.get("start")]), clock)


def starts(server: FakeServer) -> list[str | None]:
    return [r.url.params.get("start") for r in server.requests]


def test_follows_next_as_start_and_passes_the_page_size(
    make_client: MakeClient, clock: FakeClock
) -> None:
    server = pages_server(
        {
            None: {"messages": [{"id": 1}, {"id": 2}], "next": "abc"},
            "abc": {"messages": [{"id": 3}], "next": 17},  # integer offsets exist too
            "17": {"messages": [{"id": 4}], "next": ""},
        },
        clock,
    )
    client = make_client(server)
    params = {"type": "email"}
    pages = list(
        client.paginate("GET", "/v1/messages", envelope="messages", params=params, page_size=2)
    )
    assert [r["id"] for p in pages for r in p.records] == [1, 2, 3, 4]
    assert [p.number for p in pages] == [1, 2, 3]
    assert [p.next for p in pages] == ["abc", "17", None]
    assert starts(server) == [None, "abc", "17"]
    assert all(
        r.url.params["limit"] == "2" and r.url.params["type"] == "email" for r in server.requests
    )
    assert params == {"type": "email"}  # the caller's params are not mutated


def test_stops_on_a_missing_next(make_client: MakeClient, clock: FakeClock) -> None:
    server = pages_server({None: {"campaigns": [{"id": 1}]}}, clock)
    pages = list(make_client(server).paginate("GET", "/v1/campaigns", envelope="campaigns"))
    assert len(pages) == 1 and len(server.requests) == 1
    assert "limit" not in server.requests[0].url.params


def test_stops_on_an_empty_page_even_with_a_next(make_client: MakeClient, clock: FakeClock) -> None:
    server = pages_server(
        {
            None: {"activities": [{"id": "a"}], "next": "p2"},
            "p2": {"activities": [], "next": "p3"},
            "p3": {"activities": [{"id": "never"}]},
        },
        clock,
    )
    client = make_client(server)
    records = [
        r
        for p in client.paginate("GET", "/v1/activities", envelope="activities")
        for r in p.records
    ]
    assert records == [{"id": "a"}]
    assert starts(server) == [None, "p2"]


def test_the_same_cursor_twice_is_a_loop_error(make_client: MakeClient, clock: FakeClock) -> None:
    server = pages_server(
        {
            None: {"messages": [{"id": 1}], "next": "A"},
            "A": {"messages": [{"id": 2}], "next": "B"},
            "B": {"messages": [{"id": 3}], "next": "A"},
        },
        clock,
    )
    client = make_client(server)
    with pytest.raises(ApiError, match=r"GET /v1/messages: pagination loop.*'A'"):
        list(client.paginate("GET", "/v1/messages", envelope="messages"))
    assert starts(server) == [None, "A", "B"]


def test_a_post_search_keeps_its_body_and_pages_with_query_params(
    make_client: MakeClient, clock: FakeClock
) -> None:
    server = FakeServer(
        lambda r, n: ok({"identifiers": [{"id": str(n)}], "next": "x" if n == 1 else None}), clock
    )
    client = make_client(server)
    body = {"filter": {"and": []}}
    pages = list(
        client.paginate("POST", "/v1/customers", envelope="identifiers", json=body, page_size=100)
    )
    assert len(pages) == 2
    assert [json.loads(r.content) for r in server.requests] == [body, body]
    assert starts(server) == [None, "x"]


def test_a_missing_envelope_is_an_error_naming_the_key(
    make_client: MakeClient, clock: FakeClock
) -> None:
    server = FakeServer(lambda r, n: httpx.Response(200, json={"other": []}), clock)
    with pytest.raises(ApiError, match=r"expected a 'campaigns' list"):
        list(make_client(server).paginate("GET", "/v1/campaigns", envelope="campaigns"))
