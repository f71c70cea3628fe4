"""Authentication on both APIs, regions, hosts, and the shape of error answers."""

from __future__ import annotations

import httpx
import pytest

from cio_replicate.sandbox import APP_API_KEY, SITE_ID, TRACK_API_KEY, Sandbox

APP = {"Authorization": f"Bearer {APP_API_KEY}"}


def get(sb: Sandbox, url: str, **kwargs: object) -> httpx.Response:
    with httpx.Client(transport=sb.transport()) as client:
        return client.get(url, **kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer wrong"},
        {"Authorization": f"Basic {APP_API_KEY}"},
        {"Authorization": f"Bearer {TRACK_API_KEY}"},
    ],
)
def test_app_api_401_body(sb: Sandbox, headers: dict[str, str]) -> None:
    response = get(sb, "https://api.customer.io/v1/campaigns", headers=headers)
    assert response.status_code == 401
    (error,) = response.json()["errors"]
    assert error["status"] == "401" and error["detail"] and error["code"] == "invalid_credentials"
    assert sb.requests[-1].status == 401 and sb.requests[-1].api == "app"


@pytest.mark.parametrize(
    "auth", [None, (SITE_ID, "wrong"), ("othersite", TRACK_API_KEY), (SITE_ID, APP_API_KEY)]
)
def test_track_api_401_has_no_body(sb: Sandbox, auth: tuple[str, str] | None) -> None:
    response = get(sb, "https://track.customer.io/api/v1/accounts/region", auth=auth)
    assert response.status_code == 401
    assert response.content == b""


def test_app_key_on_the_other_regions_host_is_401() -> None:
    us, eu = Sandbox("tiny", region="us"), Sandbox("tiny", region="eu")
    assert get(us, "https://api-eu.customer.io/v1/campaigns", headers=APP).status_code == 401
    assert get(eu, "https://api.customer.io/v1/campaigns", headers=APP).status_code == 401
    assert get(eu, "https://api-eu.customer.io/v1/campaigns", headers=APP).status_code == 200


def test_track_region_discovery_per_region() -> None:
    auth = (SITE_ID, TRACK_API_KEY)
    us, eu = Sandbox("tiny", region="us"), Sandbox("tiny", region="eu")
    assert (
        get(us, "https://track-eu.customer.io/api/v1/accounts/region", auth=auth).status_code == 401
    )
    body = get(eu, "https://track.customer.io/api/v1/accounts/region", auth=auth).json()
    assert body["region"] == "eu" and body["url"] == "https://track-eu.customer.io"
    assert isinstance(body["environment_id"], int)


def test_unknown_hosts_do_not_resolve(sb: Sandbox) -> None:
    with pytest.raises(httpx.ConnectError):
        get(sb, "https://api.customer.example/v1/campaigns", headers=APP)


def test_loopback_host_serves_both_apis(sb: Sandbox) -> None:
    assert get(sb, "http://127.0.0.1:9/v1/segments", headers=APP).status_code == 200
    region = get(sb, "http://localhost:9/api/v1/accounts/region", auth=(SITE_ID, TRACK_API_KEY))
    assert region.status_code == 200


def test_paths_belong_to_their_api_host(sb: Sandbox) -> None:
    auth = (SITE_ID, TRACK_API_KEY)
    assert get(sb, "https://api.customer.io/api/v1/accounts/region", auth=auth).status_code == 404
    assert get(sb, "https://track.customer.io/v1/campaigns", headers=APP).status_code == 404


def test_unknown_path_404_and_wrong_method_405(app: httpx.Client) -> None:
    missing = app.get("/v1/no_such_thing")
    assert missing.status_code == 404 and missing.json()["errors"][0]["status"] == "404"
    wrong = app.request("PATCH", "/v1/campaigns")
    assert wrong.status_code == 405
    assert "GET" in wrong.headers["Allow"]
    assert wrong.json()["errors"][0]["status"] == "405"


@pytest.mark.parametrize(
    "path",
    [
        "/v1/campaigns/99999",
        "/v1/campaigns/abc",
        "/v1/campaigns/2/actions/1",
        "/v1/broadcasts/2",
        "/v1/newsletters/3/contents/1",
        "/v1/messages/not-a-delivery",
        "/v1/segments/999/membership",
        "/v1/customers/nobody/attributes",
        "/v1/customers/a0000001/attributes?id_type=cio_id",
        "/v1/objects/9/x/attributes",
        "/v1/reporting_webhooks/77",
    ],
)
def test_missing_records_are_404(app: httpx.Client, path: str) -> None:
    response = app.get(path)
    assert response.status_code == 404, path
    assert response.json()["errors"][0]["status"] == "404"


def test_bad_requests_are_400_with_the_app_error_body(app: httpx.Client) -> None:
    cases = [
        app.post("/v1/customers", json={"filter": {"attribute": {"field": "x", "operator": "lt"}}}),
        app.post("/v1/customers", json={"filter": {"and": [], "or": []}}),
        app.post("/v1/customers", json={}),
        app.post(
            "/v1/customers", content=b"{not json", headers={"Content-Type": "application/json"}
        ),
        app.post("/v1/customers/attributes", json={"ids": [str(i) for i in range(101)]}),
        app.get("/v1/customers"),
        app.get("/v1/customers/user-1/attributes", params={"id_type": "phone_book"}),
        app.get("/v1/messages", params={"type": "pigeon"}),
        app.get("/v1/messages", params={"start_ts": "yesterday"}),
        app.post("/v1/objects", json={}),
    ]
    for response in cases:
        assert response.status_code == 400, response.request.url
        (error,) = response.json()["errors"]
        assert error["status"] == "400" and error["detail"]


def test_request_log_records_what_was_asked(sb: Sandbox, app: httpx.Client) -> None:
    app.post("/v1/customers", params={"limit": 3}, json={"filter": {"segment": {"id": 1}}})
    app.get("/v1/campaigns/2")
    search, campaign = sb.requests[-2:]
    assert (search.api, search.method, search.path) == ("app", "POST", "/v1/customers")
    assert search.query == {"limit": "3"} and search.body == {"filter": {"segment": {"id": 1}}}
    assert search.status == 200 and search.host == "api.customer.io"
    assert (campaign.path, campaign.body, campaign.status) == ("/v1/campaigns/2", None, 200)
