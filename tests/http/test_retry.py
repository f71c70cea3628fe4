"""Retries against fake servers: Retry-After, storms, the total wait bound, failures."""

from __future__ import annotations

import random
from collections.abc import Callable
from email.utils import format_datetime

import httpx
import pytest

from cio_replicate.clock import from_unix
from cio_replicate.connect import open_client
from cio_replicate.errors import ApiError, ConnectionFailedError, RetryExhaustedError
from cio_replicate.http import CioClient, RetryPolicy, classify, parse_retry_after

from .conftest import FakeClock, FakeServer, customerio_settings, ok

MakeClient = Callable[..., CioClient]


def test_parse_retry_after_accepts_seconds_and_http_dates() -> None:
    now = 1_767_225_600.0
    assert parse_retry_after("3", now) == 3.0
    assert parse_retry_after(format_datetime(from_unix(now + 42), usegmt=True), now) == 42.0
    assert parse_retry_after(format_datetime(from_unix(now - 5), usegmt=True), now) == 0.0
    assert parse_retry_after("soon", now) is None
    assert parse_retry_after(None, now) is None


def test_classify_splits_retryable_from_final_statuses() -> None:
    assert [classify(s) for s in (200, 408, 429, 500, 503, 599)] == ["ok"] + ["retry"] * 5
    assert [classify(s) for s in (401, 403, 404, 400, 422, 301)] == [
        "auth",
        "auth",
        "not_found",
        "client_error",
        "client_error",
        "redirect",
    ]


def test_full_jitter_backoff_stays_within_the_exponential_ceiling() -> None:
    policy = RetryPolicy(base_delay=0.5, max_delay=60)
    rng = random.Random(7)
    waits = [policy.backoff(n, rng) for n in range(1, 12) for _ in range(20)]
    assert all(0 <= w <= 60 for w in waits)
    assert max(policy.backoff(3, rng) for _ in range(200)) <= 2.0
    assert len({round(w, 6) for w in waits}) > 100  # jittered, not a fixed schedule


def test_retry_after_seconds_is_honoured(make_client: MakeClient, clock: FakeClock) -> None:
    def reply(request: httpx.Request, n: int) -> httpx.Response:
        if n == 1:
            body = {"errors": [{"detail": "rate limited to 10 requests per 1s", "status": "429"}]}
            return httpx.Response(429, json=body, headers={"Retry-After": "7"})
        return ok({"campaigns": []})

    server = FakeServer(reply, clock)
    client = make_client(server)
    assert client.app("GET", "/v1/campaigns") == {"campaigns": []}
    assert server.times[1] - server.times[0] >= 7.0
    assert 7.0 in clock.sleeps
    stats = client.log.snapshot()
    assert (stats.calls, stats.retries, stats.throttled) == (2, 1, 1)
    assert stats.retry_wait_seconds == 7.0


def test_retry_after_http_date_is_honoured(make_client: MakeClient, clock: FakeClock) -> None:
    def reply(request: httpx.Request, n: int) -> httpx.Response:
        if n == 1:
            when = format_datetime(from_unix(clock() + 30), usegmt=True)
            return httpx.Response(503, headers={"Retry-After": when})
        return ok({"ok": True})

    server = FakeServer(reply, clock)
    client = make_client(server)
    assert client.app("GET", "/v1/workspaces") == {"ok": True}
    assert server.times[1] - server.times[0] >= 30.0
    assert client.log.throttled == 0 and client.log.retries == 1


def test_a_429_holds_the_shared_budget_for_other_requests(clock: FakeClock) -> None:
    def reply(request: httpx.Request, n: int) -> httpx.Response:
        if n == 1:
            return httpx.Response(429, headers={"Retry-After": "5"})
        return ok({})

    server = FakeServer(reply, clock)
    sent_b = False

    def sleep(seconds: float) -> None:
        nonlocal sent_b
        if not sent_b:  # while /v1/a sleeps off its 429, another worker sends /v1/b
            sent_b = True
            client.app("GET", "/v1/b")
        clock.sleep(seconds)

    settings = customerio_settings()
    with open_client(settings, transport=server.transport(), clock=clock, sleep=sleep) as client:
        client.app("GET", "/v1/a")
    paths = [r.url.path for r in server.requests]
    assert paths == ["/v1/a", "/v1/b", "/v1/a"]
    assert server.times[1] >= server.times[0] + 5  # /v1/b waited for the hold


def test_a_storm_of_5xx_timeouts_and_truncated_bodies_is_survived(
    make_client: MakeClient, clock: FakeClock
) -> None:
    rng = random.Random(3)
    failures = [
        lambda: httpx.Response(500, text="oops"),
        lambda: httpx.Response(502),
        lambda: httpx.Response(503, json={"errors": [{"detail": "busy"}]}),
        lambda: httpx.Response(504),
        lambda: httpx.Response(408),
        lambda: httpx.Response(200, content=b'{"campaigns": [{"id": 1}, {"id"'),
        lambda: httpx.Response(200, content=b""),
    ]

    def reply(request: httpx.Request, n: int) -> httpx.Response:
        roll = rng.random()
        if roll < 0.1:
            raise httpx.ReadTimeout("read timed out", request=request)
        if roll < 0.2:
            raise httpx.RemoteProtocolError("peer closed connection", request=request)
        if roll < 0.5:
            return rng.choice(failures)()
        return ok({"campaigns": [{"id": int(request.url.path.rsplit("/", 1)[1])}]})

    server = FakeServer(reply, clock)
    client = make_client(server)
    results = [client.app("GET", f"/v1/campaigns/{i}") for i in range(60)]
    assert results == [{"campaigns": [{"id": i}]} for i in range(60)]
    stats = client.log.snapshot()
    assert stats.calls == len(server.requests)
    assert stats.retries == stats.calls - 60 and stats.retries > 20
    errors = {e.error for e in client.log.entries if e.error}
    assert any("ReadTimeout" in e for e in errors)
    assert any("RemoteProtocolError" in e for e in errors)
    assert "truncated or invalid JSON body" in errors


def test_total_wait_bound_raises_retry_exhausted(make_client: MakeClient, clock: FakeClock) -> None:
    server = FakeServer(lambda r, n: httpx.Response(503, json={"errors": [{"detail": "down"}]}))
    client = make_client(server, max_retry_wait=10)
    with pytest.raises(RetryExhaustedError) as info:
        client.app("GET", "/v1/campaigns")
    message = str(info.value)
    assert "GET /v1/campaigns" in message and "HTTP 503: down" in message
    assert "max_retry_wait" in message
    assert sum(clock.sleeps) <= 10
    assert client.log.calls == len(server.requests) >= 2


def test_a_long_retry_after_beyond_the_bound_gives_up_at_once(
    make_client: MakeClient, clock: FakeClock
) -> None:
    server = FakeServer(lambda r, n: httpx.Response(429, headers={"Retry-After": "50"}))
    client = make_client(server, max_retry_wait=20)
    with pytest.raises(RetryExhaustedError, match="HTTP 429"):
        client.app("GET", "/v1/campaigns")
    assert len(server.requests) == 1 and clock.sleeps == []


def test_unreachable_host_is_a_connection_error_naming_host_and_settings(
    make_client: MakeClient, clock: FakeClock
) -> None:
    def reply(request: httpx.Request, n: int) -> httpx.Response:
        raise httpx.ConnectError("[Errno 111] Connection refused", request=request)

    server = FakeServer(reply)
    client = make_client(server, region="eu")
    with pytest.raises(ConnectionFailedError) as info:
        client.app("GET", "/v1/workspaces")
    message = str(info.value)
    assert "api-eu.customer.io" in message and "Connection refused" in message
    assert "CIO_APP_API_URL" in message and "region" in message
    assert len(server.requests) == RetryPolicy().connect_attempts


@pytest.mark.parametrize(
    "failure",
    [
        lambda r: httpx.Response(502),
        lambda r: httpx.Response(200, content=b'{"delivery_id": '),
        lambda r: (_ for _ in ()).throw(httpx.ReadTimeout("read timed out", request=r)),
    ],
    ids=["502", "truncated", "read-timeout"],
)
def test_a_post_that_may_have_been_applied_is_not_resent(
    make_client: MakeClient, clock: FakeClock, failure: Callable[[httpx.Request], httpx.Response]
) -> None:
    server = FakeServer(lambda r, n: failure(r) if n == 1 else ok({}), clock)
    client = make_client(server)
    with pytest.raises(
        ApiError, match="not retried because the POST may already have been applied"
    ):
        client.app("POST", "/v1/send/email", json={"to": "a@b.c"})
    assert len(server.requests) == 1


def test_a_post_that_was_surely_not_processed_is_retried(
    make_client: MakeClient, clock: FakeClock
) -> None:
    def reply(request: httpx.Request, n: int) -> httpx.Response:
        if n == 1:
            raise httpx.ConnectError("refused", request=request)
        if n == 2:
            return httpx.Response(429, headers={"Retry-After": "1"})
        return ok({"delivery_id": "d1"})

    server = FakeServer(reply, clock)
    client = make_client(server)
    assert client.app("POST", "/v1/send/email", json={}) == {"delivery_id": "d1"}
    assert len(server.requests) == 3


def test_posts_marked_idempotent_are_retried_and_the_client_knows_no_search_paths(
    make_client: MakeClient, clock: FakeClock
) -> None:
    server = FakeServer(lambda r, n: httpx.Response(503) if n % 2 else ok({"ids": []}), clock)
    client = make_client(server)
    for path in ("/v1/customers", "/v1/customers/attributes", "/v1/objects", "/v1/segments"):
        assert client.app("POST", path, json={}, idempotent=True) == {"ids": []}
    assert len(server.requests) == 8
    # the caller says which POSTs are reads: unmarked, even a search is sent once
    with pytest.raises(ApiError, match="not retried"):
        client.app("POST", "/v1/customers", json={})
    assert len(server.requests) == 9
