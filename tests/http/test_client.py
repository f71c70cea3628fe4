"""The client against fake servers: hosts, auth, encoding, error mapping, fan-out, secrets."""

from __future__ import annotations

import base64
import logging
import threading
import time
from collections.abc import Callable

import httpx
import pytest

from cio_replicate.errors import ApiError, AuthError, NotFoundError
from cio_replicate.http import CioClient, budget_for, render_path
from cio_replicate.logs import setup_logging

from .conftest import APP_KEY, SITE_ID, TRACK_KEY, FakeClock, FakeServer, customerio_settings, ok

MakeClient = Callable[..., CioClient]


def test_requests_go_to_the_region_hosts_with_the_right_auth(
    make_client: MakeClient, clock: FakeClock
) -> None:
    server = FakeServer(lambda r, n: ok({}), clock)
    for region, app_host, track_host in (
        ("us", "api.customer.io", "track.customer.io"),
        ("eu", "api-eu.customer.io", "track-eu.customer.io"),
    ):
        client = make_client(server, region=region)
        client.app("GET", "/v1/campaigns", params={"x": 1})
        client.track("PUT", "/api/v1/customers/p1", json={"email": "a@b.c"})
        app_req, track_req = server.requests[-2:]
        assert str(app_req.url) == f"https://{app_host}/v1/campaigns?x=1"
        assert app_req.headers["authorization"] == f"Bearer {APP_KEY}"
        assert str(track_req.url) == f"https://{track_host}/api/v1/customers/p1"
        basic = base64.b64encode(f"{SITE_ID}:{TRACK_KEY}".encode()).decode()
        assert track_req.headers["authorization"] == f"Basic {basic}"
        assert app_req.headers["user-agent"].startswith("cio-replicate/")


def test_base_url_overrides_replace_the_region_hosts(
    make_client: MakeClient, clock: FakeClock
) -> None:
    server = FakeServer(lambda r, n: ok({}), clock)
    client = make_client(
        server, app_api_url="http://127.0.0.1:8080/", track_api_url="http://127.0.0.1:8081"
    )
    client.app("GET", "/v1/campaigns")
    client.track("GET", "/api/v1/accounts/region")
    assert [str(r.url) for r in server.requests] == [
        "http://127.0.0.1:8080/v1/campaigns",
        "http://127.0.0.1:8081/api/v1/accounts/region",
    ]


def test_path_segments_are_percent_encoded(make_client: MakeClient, clock: FakeClock) -> None:
    server = FakeServer(lambda r, n: ok({}), clock)
    client = make_client(server)
    path = render_path("/v1/customers/{customer_id}/attributes", {"customer_id": "a+b@x.io/1 2"})
    client.app("GET", path)
    assert server.requests[0].url.raw_path == b"/v1/customers/a%2Bb%40x.io%2F1%202/attributes"
    with pytest.raises(ApiError, match="campaign_id"):
        render_path("/v1/campaigns/{campaign_id}", {})


def test_sends_and_broadcast_triggers_draw_from_their_own_budgets() -> None:
    assert budget_for("app", "POST", "/v1/send/email") == "transactional"
    assert budget_for("app", "POST", "/v1/campaigns/7/triggers") == "broadcast_trigger"
    assert budget_for("app", "GET", "/v1/campaigns/7/triggers") == "app"
    assert budget_for("app", "GET", "/v1/campaigns") == "app"
    assert budget_for("track", "POST", "/api/v1/customers/1/events") == "track"


def test_broadcast_triggers_are_spaced_ten_seconds_apart(
    make_client: MakeClient, clock: FakeClock
) -> None:
    server = FakeServer(lambda r, n: ok({"id": n}), clock)
    client = make_client(server)
    for _ in range(3):
        client.app("POST", "/v1/campaigns/7/triggers", json={})
    client.app("GET", "/v1/campaigns")
    gaps = [b - a for a, b in zip(server.times, server.times[1:], strict=False)]
    assert gaps[0] >= 10 and gaps[1] >= 10
    assert gaps[2] < 1  # the App budget is not held up by the trigger budget


def test_401_on_the_app_api_explains_key_region_and_allow_list(
    make_client: MakeClient, clock: FakeClock
) -> None:
    body = {"errors": [{"detail": "invalid credentials", "status": "401"}]}
    server = FakeServer(lambda r, n: httpx.Response(401, json=body), clock)
    client = make_client(server, region="eu")
    with pytest.raises(AuthError) as info:
        client.app("GET", "/v1/workspaces")
    message = str(info.value)
    for needle in (
        "App API key",
        "not the tracking key",
        "api-eu.customer.io",
        "'eu'",
        "IP allow-list",
    ):
        assert needle in message
    assert "invalid credentials" in message
    assert info.value.exit_code == 3
    assert len(server.requests) == 1  # never retried


def test_401_on_the_track_api_names_site_id_and_tracking_key(
    make_client: MakeClient, clock: FakeClock
) -> None:
    server = FakeServer(lambda r, n: httpx.Response(401), clock)
    client = make_client(server)
    with pytest.raises(AuthError) as info:
        client.track("GET", "/api/v1/accounts/region")
    message = str(info.value)
    assert "site id" in message and "tracking API key" in message
    assert "track.customer.io" in message


def test_403_names_the_key_scope_and_the_path(make_client: MakeClient, clock: FakeClock) -> None:
    server = FakeServer(lambda r, n: httpx.Response(403), clock)
    client = make_client(server)
    with pytest.raises(AuthError, match=r"scope does not include /v1/messages"):
        client.app("GET", "/v1/messages")


def test_404_is_not_found(make_client: MakeClient, clock: FakeClock) -> None:
    server = FakeServer(lambda r, n: httpx.Response(404), clock)
    client = make_client(server)
    with pytest.raises(NotFoundError) as info:
        client.app("GET", "/v1/campaigns/9/actions")
    assert info.value.status == 404 and info.value.path == "/v1/campaigns/9/actions"


@pytest.mark.parametrize(
    ("status", "body", "detail"),
    [
        (
            400,
            {"errors": [{"detail": "limit must be <= 100", "status": "400"}]},
            "limit must be <= 100",
        ),
        (403, {"meta": {"error": "Account is not authorized for transactional"}}, "not authorized"),
        (
            400,
            {"meta": {"errors": ["email is invalid", "id too long"]}},
            "email is invalid; id too long",
        ),
        (
            400,
            {"errors": [{"reason": "invalid", "field": "type", "message": "bad type"}]},
            "type: bad type",
        ),
        (422, "<html>Unprocessable</html>", "<html>Unprocessable</html>"),
    ],
)
def test_client_errors_carry_the_api_detail(
    make_client: MakeClient, clock: FakeClock, status: int, body: object, detail: str
) -> None:
    def reply(request: httpx.Request, n: int) -> httpx.Response:
        if isinstance(body, str):
            return httpx.Response(status, text=body)
        return httpx.Response(status, json=body)

    client = make_client(FakeServer(reply, clock))
    with pytest.raises(ApiError) as info:
        client.app("POST", "/v1/send/email", json={})
    assert detail in str(info.value)
    assert info.value.status == status


def test_fan_out_keeps_input_order_and_bounds_concurrency(
    make_client: MakeClient, clock: FakeClock
) -> None:
    in_flight = 0
    peak = 0
    lock = threading.Lock()

    def reply(request: httpx.Request, n: int) -> httpx.Response:
        nonlocal in_flight, peak
        with lock:
            in_flight += 1
            peak = max(peak, in_flight)
        time.sleep(0.01)  # a slow server, so that requests overlap
        with lock:
            in_flight -= 1
        return ok({"id": request.url.path.rsplit("/", 1)[1]})

    client = make_client(FakeServer(reply, clock), concurrency=3)
    results = list(client.fan_out(lambda i: client.app("GET", f"/v1/campaigns/{i}"), range(30)))
    assert results == [{"id": str(i)} for i in range(30)]
    assert 1 < peak <= 3


def test_fan_out_propagates_the_first_error(make_client: MakeClient, clock: FakeClock) -> None:
    def reply(request: httpx.Request, n: int) -> httpx.Response:
        return httpx.Response(404) if request.url.path.endswith("/3") else ok({})

    client = make_client(FakeServer(reply, clock), concurrency=4)
    seen = []
    with pytest.raises(NotFoundError, match="/v1/campaigns/3"):
        for result in client.fan_out(lambda i: client.app("GET", f"/v1/campaigns/{i}"), range(10)):
            seen.append(result)
    assert len(seen) == 3


def test_secrets_never_appear_in_reprs_logs_or_errors(
    make_client: MakeClient, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    setup_logging(verbose=2)
    logging.getLogger("cio_replicate").propagate = True  # let caplog see the records
    try:
        server = FakeServer(
            lambda r, n: httpx.Response(401, json={"errors": [{"detail": APP_KEY}]}), clock
        )
        client = make_client(server)
        with (
            caplog.at_level(logging.DEBUG, logger="cio_replicate"),
            pytest.raises(AuthError) as info,
        ):
            client.app("GET", "/v1/workspaces")
        texts = [
            repr(customerio_settings()),
            str(customerio_settings()),
            repr(client),
            str(info.value),
            repr(client.log.entries),
            caplog.text,
        ]
    finally:
        setup_logging()
    assert "/v1/workspaces" in caplog.text  # the request was logged
    for text in texts:
        assert APP_KEY not in text and TRACK_KEY not in text
        assert "Bearer" not in text and "Basic" not in text
