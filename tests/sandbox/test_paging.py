"""Every paginated listing pages as the reference says: start in, next out, opaque tokens,
documented default and maximum `limit`, over-max -> 400 with the App error body, and the last
page carries an empty `next`. Expected contents come from the workspace accessors."""

from __future__ import annotations

import base64
from typing import Any

import httpx
import pytest

from cio_replicate.sandbox import Sandbox
from cio_replicate.sandbox.constants import ACTIONS_PAGE_SIZE, MESSAGE_WINDOW

from .walk import walk

ALL_PEOPLE = {"filter": {"and": [{"attribute": {"field": "cio_id", "operator": "exists"}}]}}


def message_ids(sb: Sandbox, **match: Any) -> list[str]:
    """Expected ids, newest first, computed without HTTP."""
    store = sb.workspace.messages
    out = []
    for j in range(store.total - 1, -1, -1):
        rec = store.get(j)
        if all(rec.get(k) == v for k, v in match.items()):
            out.append(rec["id"])
    return out


# (method, path, envelope, json body, default limit, max limit, expected-count function)
LISTINGS: list[tuple[str, str, str, Any, int, int]] = [
    ("POST", "/v1/customers", "identifiers", ALL_PEOPLE, 50, 1000),
    ("GET", "/v1/messages", "messages", None, 50, 1000),
    ("GET", "/v1/activities", "activities", None, 10, 100),
    ("GET", "/v1/segments/1/membership", "identifiers", None, 1000, 30000),
    ("GET", "/v1/newsletters", "newsletters", None, 50, 100),
    ("GET", "/v1/sender_identities", "sender_identities", None, 50, 100),
    ("POST", "/v1/objects", "identifiers", {"object_type_id": "1"}, 50, 100),
    ("GET", "/v1/campaigns/2/messages", "messages", None, 50, 100),
    ("GET", "/v1/broadcasts/1001/messages", "messages", None, 50, 100),
    ("GET", "/v1/newsletters/3/messages", "messages", None, 50, 100),
    ("GET", "/v1/transactional/1/messages", "messages", None, 50, 100),
    ("GET", "/v1/customers/user-1/messages", "messages", None, 50, 100),
    ("GET", "/v1/customers/user-1/activities", "activities", None, 50, 100),
    ("GET", "/v1/customers/user-2/relationships", "cio_relationships", None, 50, 100),
    ("GET", "/v1/objects/1/company-1/relationships", "cio_relationships", None, 50, 100),
]
IDS = [f"{m} {p}" for m, p, *_ in LISTINGS]


@pytest.fixture(scope="module")
def demo() -> Sandbox:
    return Sandbox("demo", seed=3)


@pytest.fixture
def demo_app(demo: Sandbox) -> httpx.Client:
    from cio_replicate.sandbox import APP_API_KEY

    return httpx.Client(
        transport=demo.transport(),
        base_url="https://api.customer.io",
        headers={"Authorization": f"Bearer {APP_API_KEY}"},
    )


@pytest.mark.parametrize(
    ("method", "path", "envelope", "body", "default", "maximum"), LISTINGS, ids=IDS
)
def test_limits(
    app: httpx.Client, method: str, path: str, envelope: str, body: Any, default: int, maximum: int
) -> None:
    ok = app.request(method, path, params={"limit": maximum}, json=body)
    assert ok.status_code == 200, ok.text
    too_big = app.request(method, path, params={"limit": maximum + 1}, json=body)
    assert too_big.status_code == 400
    error = too_big.json()["errors"][0]
    assert error["status"] == "400" and str(maximum) in error["detail"]
    for bad in ("0", "-1", "ten"):
        assert app.request(method, path, params={"limit": bad}, json=body).status_code == 400


@pytest.mark.parametrize(
    ("method", "path", "envelope", "body", "default", "maximum"), LISTINGS, ids=IDS
)
def test_walk_small_pages_equals_one_big_page(
    demo_app: httpx.Client,
    method: str,
    path: str,
    envelope: str,
    body: Any,
    default: int,
    maximum: int,
) -> None:
    whole = walk(demo_app, method, path, envelope, {"limit": maximum}, json=body)
    small = walk(demo_app, method, path, envelope, {"limit": 7}, json=body)
    assert whole.records, "every listing has records at demo scale"
    assert small.records == whole.records
    assert all(len(page[envelope]) == 7 for page in small.pages[:-1])
    assert 1 <= len(small.pages[-1][envelope]) <= 7, "no trailing empty page"
    assert small.pages[-1]["next"] == ""
    keys = [repr(sorted(r.items())) if isinstance(r, dict) else r for r in small.records]
    assert len(set(keys)) == len(keys)
    default_page = demo_app.request(method, path, json=body).json()[envelope]
    assert len(default_page) == min(default, len(whole.records))


def test_people_search_lists_everyone_in_order(demo: Sandbox, demo_app: httpx.Client) -> None:
    result = walk(demo_app, "POST", "/v1/customers", "identifiers", {"limit": 1000}, ALL_PEOPLE)
    expected = [p.identifiers() for p in demo.workspace.iter_people()]
    assert result.records == expected
    assert result.pages[0]["ids"] == [i["id"] for i in expected if i["id"] is not None]


def test_messages_default_window_is_six_months(demo: Sandbox, demo_app: httpx.Client) -> None:
    recent = walk(demo_app, "GET", "/v1/messages", "messages", {"limit": 1000}).records
    everything = walk(demo_app, "GET", "/v1/messages", "messages", {"limit": 1000, "start_ts": 0})
    floor = demo.clock.now() - MESSAGE_WINDOW
    assert [m["id"] for m in everything.records] == message_ids(demo)
    assert [m["id"] for m in recent] == [
        m["id"] for m in everything.records if m["created"] >= floor
    ]
    assert 0 < len(recent) < len(everything.records)
    created = [m["created"] for m in everything.records]
    assert created == sorted(created, reverse=True), "newest first"


def test_message_time_filters_are_inclusive(demo_app: httpx.Client) -> None:
    first = demo_app.get("/v1/messages", params={"limit": 3, "start_ts": 0}).json()["messages"]
    ts = first[1]["created"]
    only = walk(demo_app, "GET", "/v1/messages", "messages", {"start_ts": ts, "end_ts": ts})
    assert only.records and {m["created"] for m in only.records} == {ts}


@pytest.mark.parametrize(
    ("path", "params", "match"),
    [
        ("/v1/campaigns/2/messages", {}, {"campaign_id": 2}),
        ("/v1/broadcasts/1001/messages", {}, {"broadcast_id": 1001}),
        ("/v1/newsletters/3/messages", {}, {"newsletter_id": 3}),
        (
            "/v1/transactional/2/messages",
            {},
            {
                "message_template_id": 2,
                "campaign_id": None,
                "newsletter_id": None,
                "broadcast_id": None,
            },
        ),
        ("/v1/messages", {"campaign_id": 5}, {"campaign_id": 5}),
        ("/v1/messages", {"action_id": 101}, {"action_id": 101}),
        ("/v1/messages", {"newsletter_id": 7}, {"newsletter_id": 7}),
        ("/v1/messages", {"type": "webhook"}, {"type": "webhook"}),
    ],
)
def test_message_listings_hold_exactly_their_parents_messages(
    demo: Sandbox,
    demo_app: httpx.Client,
    path: str,
    params: dict[str, Any],
    match: dict[str, Any],
) -> None:
    query = {"limit": 100, "start_ts": 0, **params}
    got = walk(demo_app, "GET", path, "messages", query).records
    assert got and [m["id"] for m in got] == message_ids(demo, **match)


def test_metric_filter(demo_app: httpx.Client) -> None:
    got = walk(
        demo_app,
        "GET",
        "/v1/messages",
        "messages",
        {"start_ts": 0, "metric": "clicked", "limit": 1000},
    )
    assert got.records and all("clicked" in m["metrics"] for m in got.records)


def test_campaign_actions_use_a_fixed_page_size(sb: Sandbox, app: httpx.Client) -> None:
    campaign = sb.workspace.records("campaigns")[0]
    result = walk(app, "GET", f"/v1/campaigns/{campaign['id']}/actions", "actions")
    assert [a["id"] for a in result.records] == [a["id"] for a in campaign["actions"]]
    assert len(result.pages) == 2 and len(result.pages[0]["actions"]) == ACTIONS_PAGE_SIZE
    limited = app.get(f"/v1/campaigns/{campaign['id']}/actions", params={"limit": 5})
    assert limited.status_code == 400


def test_segment_membership_matches_the_count(demo: Sandbox, demo_app: httpx.Client) -> None:
    for segment in demo.workspace.records("segments"):
        path = f"/v1/segments/{segment['id']}/membership"
        members = walk(demo_app, "GET", path, "identifiers", {"limit": 50}).records
        count = demo_app.get(f"/v1/segments/{segment['id']}/customer_count").json()["count"]
        assert len(members) == count > 0
        assert all(
            p["segment_id"] == segment["id"]
            for p in walk(demo_app, "GET", path, "identifiers").pages
        )


def test_cursors_are_opaque_base64_and_checked(app: httpx.Client) -> None:
    page = app.get("/v1/messages", params={"limit": 2, "start_ts": 0}).json()
    token = page["next"]
    base64.b64decode(token, validate=True)
    for bad in ("not-a-token!", base64.b64encode(b'{"k":"activities","v":3}').decode()):
        response = app.get("/v1/messages", params={"start": bad, "start_ts": 0})
        assert response.status_code == 400
        assert response.json()["errors"][0]["status"] == "400"


def test_unpaginated_lists_return_everything(sb: Sandbox, app: httpx.Client) -> None:
    for path, envelope, table in [
        ("/v1/campaigns", "campaigns", "campaigns"),
        ("/v1/broadcasts", "broadcasts", "broadcasts"),
        ("/v1/segments", "segments", "segments"),
        ("/v1/collections", "collections", "collections"),
        ("/v1/exports", "exports", "exports"),
        ("/v1/snippets", "snippets", "snippets"),
        ("/v1/reporting_webhooks", "reporting_webhooks", "webhooks"),
        ("/v1/transactional", "messages", "transactional"),
    ]:
        body = app.get(path).json()
        assert body == {envelope: sb.workspace.records(table)}, path
