"""Cursor pagination against a fake paging server."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

import httpx
import pytest

from cio_replicate.errors import ApiError, RetryExhaustedError
from cio_replicate.http import CioClient
from cio_replicate.http.pagination import REPEATS

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


@pytest.mark.parametrize(
    ("body", "said"),
    [
        ({"campaigns": None}, "'campaigns' is null, expected a list"),
        ({"campaigns": "x"}, "'campaigns' is a str, expected a list"),
        ({"campaigns": {"id": 1}}, "'campaigns' is a dict, expected a list"),
        ({"other": []}, "expected a 'campaigns' list in the response, got keys: other"),
        ([{"id": 1}], "the body is a list, expected a JSON object"),
        ("campaigns", "the body is a str, expected a JSON object"),
    ],
)
def test_a_malformed_page_is_retried_then_fails_never_read_as_empty(
    make_client: MakeClient, clock: FakeClock, body: object, said: str
) -> None:
    server = FakeServer(lambda r, n: ok(body), clock)
    client = make_client(server, max_retry_wait=86_400)
    with pytest.raises(RetryExhaustedError, match="GET /v1/campaigns still failing") as caught:
        list(client.paginate("GET", "/v1/campaigns", envelope="campaigns"))
    assert said in str(caught.value) and "malformed response" in str(caught.value)
    assert len(server.requests) == client.policy.max_attempts
    assert client.log.snapshot().retries == client.policy.max_attempts - 1


def test_a_malformed_page_that_heals_is_read_whole(
    make_client: MakeClient, clock: FakeClock
) -> None:
    answers = [
        {"messages": None},
        {"messages": [{"id": 1}], "next": "p2"},
        [{"id": 2}],  # page 2 first comes back as a bare list
        {"messages": [{"id": 2}], "next": ""},
    ]
    server = FakeServer(lambda r, n: ok(answers[n - 1]), clock)
    pages = list(make_client(server).paginate("GET", "/v1/messages", envelope="messages"))
    assert [r["id"] for p in pages for r in p.records] == [1, 2]
    assert starts(server) == [None, None, "p2", "p2"]


def test_pages_repeating_under_new_cursors_are_a_loop_error(
    make_client: MakeClient, clock: FakeClock
) -> None:
    # ever-new cursors (ending after 200 pages, so a client without the guard stops too)
    server = FakeServer(
        lambda r, n: ok({"messages": [{"id": 1}, {"id": 2}], "next": f"c{n}" if n < 200 else ""}),
        clock,
    )
    client = make_client(server)
    with pytest.raises(ApiError, match=r"GET /v1/messages: pagination loop, 3 pages in a row"):
        list(client.paginate("GET", "/v1/messages", envelope="messages"))
    assert len(server.requests) == 1 + REPEATS


def test_a_loop_back_to_an_earlier_page_is_caught_too(
    make_client: MakeClient, clock: FakeClock
) -> None:
    """Pages 1-3 then 1-3 again (and again) under new cursors: a cycle longer than one page."""

    def reply(request: httpx.Request, n: int) -> httpx.Response:
        first = 1 + 2 * ((n - 1) % 3)
        cursor = f"c{n}" if n < 200 else ""
        return ok({"messages": [{"id": first}, {"id": first + 1}], "next": cursor})

    server = FakeServer(reply, clock)
    with pytest.raises(ApiError, match="pagination loop"):
        list(make_client(server).paginate("GET", "/v1/messages", envelope="messages"))
    assert len(server.requests) == 3 + REPEATS


def test_pages_that_advance_are_never_a_loop(make_client: MakeClient, clock: FakeClock) -> None:
    """Only the page ends are compared: pages sharing a first record still advance."""

    def reply(request: httpx.Request, n: int) -> httpx.Response:
        records = [{"id": 0}] + [{"id": i} for i in range(1, n + 1)]
        return ok({"messages": records, "next": f"c{n}" if n < 20 else ""})

    server = FakeServer(reply, clock)
    pages = list(make_client(server).paginate("GET", "/v1/messages", envelope="messages"))
    assert len(pages) == 20
