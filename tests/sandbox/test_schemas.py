"""Sample payloads validate against Customer.io's own OpenAPI component schemas.

Deliberate deviations (the real service is looser than its spec in these places):
- messages: `action_id`, `parent_action_id`, `content_id` are null when they do not apply
  (the spec types them integer); newsletter deliveries of type `inbox` also appear in
  /v1/messages (messageType lacks `inbox`), so they are checked as newsletter messages.
- actions: `parent_action_id` is null on a campaign's first action.
- actionObject and activityObject.data are `oneOf`s whose branches overlap (an SMS action
  also matches the email branch; attribute-change data also matches the delivery branch), so
  each action is checked against the branch of its `type` and activity data with `anyOf`.
- activity types `_o:<object_type_id>:create` carry the real type id (`_o:1:create`).
"""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import httpx
import pytest
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from cio_replicate.sandbox import Sandbox

SPEC = Path("/work/shared/reference/openapi/customerio-journeys-track.openapi.json")
NULLABLE_INT = {"type": ["integer", "null"]}


def _spec() -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(SPEC.read_text())
    schemas = doc["components"]["schemas"]
    for name in ("action_id", "parent_action_id", "content_id"):
        schemas[name] = {**schemas[name], "type": ["integer", "null"]}
    data = schemas["activityObject"]["properties"]["data"]
    data["anyOf"] = data.pop("oneOf")
    return doc


DOC = _spec() if SPEC.exists() else None
pytestmark = pytest.mark.skipif(DOC is None, reason=f"{SPEC} not present")


def validator(name: str, branch: int | None = None) -> Draft202012Validator:
    assert DOC is not None
    registry = Registry().with_resource(
        "urn:cio", Resource.from_contents(DOC, default_specification=DRAFT202012)
    )
    ref: dict[str, Any] = {"$ref": f"urn:cio#/components/schemas/{name}"}
    if branch is not None:
        ref = copy.deepcopy(DOC["components"]["schemas"][name]["oneOf"][branch])
        ref = json.loads(json.dumps(ref).replace('"#/components', '"urn:cio#/components'))
    return Draft202012Validator(ref, registry=registry)


def check(name: str, instance: Any, branch: int | None = None) -> None:
    errors = sorted(validator(name, branch).iter_errors(instance), key=str)
    assert not errors, f"{name}: {errors[0].message} at {list(errors[0].absolute_path)}"


@pytest.fixture(scope="module")
def demo() -> httpx.Client:
    from cio_replicate.sandbox import APP_API_KEY

    sb = Sandbox("demo", seed=2)
    return httpx.Client(
        transport=sb.transport(),
        base_url="https://api.customer.io",
        headers={"Authorization": f"Bearer {APP_API_KEY}"},
    )


ACTION_BRANCH = {
    "email": 0,
    "push": 0,
    "in_app": 0,
    "slack": 0,
    "twilio": 1,
    "whatsapp": 2,
    "webhook": 3,
}


def test_campaigns_and_actions(demo: httpx.Client) -> None:
    campaigns = demo.get("/v1/campaigns").json()["campaigns"]
    assert {c["type"] for c in campaigns} >= {"segment", "event", "date", "webhook"}
    for campaign in campaigns:
        check("campaignObject", campaign)
        for action in demo.get(f"/v1/campaigns/{campaign['id']}/actions").json()["actions"]:
            check("actionObject", action, ACTION_BRANCH[action["type"]])


def test_broadcasts_actions_triggers(demo: httpx.Client) -> None:
    for broadcast in demo.get("/v1/broadcasts").json()["broadcasts"]:
        check("broadcastObject", broadcast)
        for action in demo.get(f"/v1/broadcasts/{broadcast['id']}/actions").json()["actions"]:
            check("broadcastActionObject", action, ACTION_BRANCH[action["type"]])
        for trigger in demo.get(f"/v1/broadcasts/{broadcast['id']}/triggers").json()["triggers"]:
            check("broadcastTriggerObject", trigger)


def test_newsletters_and_contents(demo: httpx.Client) -> None:
    for newsletter in demo.get("/v1/newsletters", params={"limit": 100}).json()["newsletters"]:
        check("newsletterObject", newsletter)
        for content in demo.get(f"/v1/newsletters/{newsletter['id']}/contents").json()["contents"]:
            check("getContentObject", content)


def test_messages(demo: httpx.Client) -> None:
    messages = demo.get("/v1/messages", params={"limit": 1000, "start_ts": 0}).json()["messages"]
    assert {m["type"] for m in messages} >= {"email", "webhook", "twilio", "push"}
    for message in messages:
        check("newsletterMessageObject" if message["newsletter_id"] else "messageObject", message)


def test_activities(demo: httpx.Client) -> None:
    for activity in demo.get("/v1/activities", params={"limit": 100}).json()["activities"]:
        instance = {
            **activity,
            "type": re.sub(r"^_(o|r):\d+:", r"_\1:<object_type_id>:", activity["type"]),
        }
        check("activityObject", instance)


@pytest.mark.parametrize(
    ("path", "envelope", "schema"),
    [
        ("/v1/segments", "segments", "segmentResponseObject"),
        ("/v1/exports", "exports", "exportObject"),
        ("/v1/collections", "collections", "collectionResponse"),
        ("/v1/transactional", "messages", "transactionalObject"),
        ("/v1/reporting_webhooks", "reporting_webhooks", "reportingWebhook"),
        ("/v1/snippets", "snippets", "snippet"),
        ("/v1/sender_identities?hidden=true", "sender_identities", "senderIdentityObject"),
        ("/v1/workspaces", "workspaces", "workspace"),
    ],
)
def test_simple_objects(demo: httpx.Client, path: str, envelope: str, schema: str) -> None:
    records = demo.get(path).json()[envelope]
    assert records
    for record in records:
        check(schema, record)


def test_customer_attributes(demo: httpx.Client) -> None:
    for pid in ("user-1", "user-2", "user-8", "user-51"):
        check("customerAttributesObject", demo.get(f"/v1/customers/{pid}/attributes").json())


def test_schema_check_can_fail() -> None:
    with pytest.raises(AssertionError):
        check("campaignObject", {"id": "7", "type": "segment"})
    with pytest.raises(AssertionError):
        check("messageObject", {"id": 5, "metrics": {"sent": "yesterday"}})


def _documented(name: str) -> set[str]:
    assert DOC is not None
    return set(DOC["components"]["schemas"][name]["properties"])


def test_metrics_series_and_links(demo: httpx.Client) -> None:
    """Every metric the sandbox answers is a documented one of its version (v2 adds the
    human_/prefetch_ counts), and link items are linkMetrics."""
    campaign = demo.get("/v1/campaigns").json()["campaigns"][0]["id"]
    newsletter = demo.get("/v1/newsletters").json()["newsletters"][0]["id"]
    window = {"version": 2, "start": 1_767_225_600 - 86_400 * 3, "end": 1_767_225_600}
    v2 = demo.get(f"/v1/campaigns/{campaign}/metrics", params=window)
    check("periodMessageMetrics", v2.json()["series"])
    assert set(v2.json()["series"]) == _documented("periodMessageMetrics")
    v1 = demo.get(f"/v1/newsletters/{newsletter}/metrics", params={"steps": 5})
    v1 = v1.json()["metric"]["series"]
    check("periodMessageMetricsDeprecated", v1)
    assert set(v1) == _documented("periodMessageMetricsDeprecated")
    listings = {"campaigns": "campaigns", "newsletters": "newsletters", "transactional": "messages"}
    items = [
        item
        for table, envelope in listings.items()
        for rec in demo.get(f"/v1/{table}").json()[envelope]
        for item in demo.get(f"/v1/{table}/{rec['id']}/metrics/links").json()["links"]
    ]
    assert items
    for item in items:
        check("linkMetrics", item)
        assert set(item["metric"]["series"]) == {"clicked", "human_clicked", "machine_clicked"}
