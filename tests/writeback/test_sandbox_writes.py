"""The sandbox's write endpoints: request and error shapes, effects read back through the API."""

from __future__ import annotations

import base64
from typing import Any

import httpx
import pytest

from cio_replicate.sandbox import APP_API_KEY, SITE_ID, TRACK_API_KEY, Sandbox


class Api:
    def __init__(self, sandbox: Sandbox) -> None:
        self._app = httpx.Client(
            transport=sandbox.transport(),
            base_url="https://api.customer.io",
            headers={"Authorization": f"Bearer {APP_API_KEY}"},
        )
        self._track = httpx.Client(
            transport=sandbox.transport(),
            base_url="https://track.customer.io",
            auth=(SITE_ID, TRACK_API_KEY),
        )

    def app(self, method: str, path: str, body: Any = None, **params: Any) -> httpx.Response:
        return self._app.request(method, path, json=body, params=params or None)

    def track(self, method: str, path: str, body: Any = None) -> httpx.Response:
        return self._track.request(method, path, json=body)

    def people(self, field: str, value: str) -> list[dict[str, Any]]:
        flt = {"attribute": {"field": field, "operator": "eq", "value": value}}
        response = self.app("POST", "/v1/customers", {"filter": flt})
        assert response.status_code == 200
        found: list[dict[str, Any]] = response.json()["identifiers"]
        return found

    def attributes(self, cio_id: str) -> dict[str, Any]:
        response = self.app("GET", f"/v1/customers/cio_{cio_id}/attributes", id_type="cio_id")
        assert response.status_code == 200, response.text
        customer: dict[str, Any] = response.json()["customer"]
        return customer


@pytest.fixture
def api(sandbox: Sandbox) -> Api:
    return Api(sandbox)


# --- Track v1 people ------------------------------------------------------------------


def test_identify_creates_a_person_with_a_new_cio_id(api: Api) -> None:
    assert api.people("id", "newbie") == []
    response = api.track("PUT", "/api/v1/customers/newbie", {"email": "n@example.com", "plan": "x"})
    assert (response.status_code, response.json()) == (200, {})
    (person,) = api.people("id", "newbie")
    assert person["email"] == "n@example.com" and person["cio_id"]
    assert api.attributes(person["cio_id"])["attributes"]["plan"] == "x"


def test_identify_by_cio_id_changes_identifiers(api: Api) -> None:
    (ann,) = api.people("id", "user-1")
    response = api.track("PUT", f"/api/v1/customers/cio_{ann['cio_id']}", {"email": "new@x.io"})
    assert response.status_code == 200
    assert api.people("email", "new@x.io") == [{**ann, "email": "new@x.io"}]


def test_identify_conflicting_identifiers_answers_200_and_changes_nothing(api: Api) -> None:
    (one,) = api.people("id", "user-1")
    (two,) = api.people("id", "user-2")
    before = api.attributes(one["cio_id"])
    # path = person 1, body email = person 2's: an Attribute Update Failure
    response = api.track("PUT", "/api/v1/customers/user-1", {"email": two["email"], "plan": "z"})
    assert (response.status_code, response.json()) == (200, {})
    assert api.attributes(one["cio_id"]) == before
    # the same through cio_: giving person 1 the id of person 2
    response = api.track("PUT", f"/api/v1/customers/cio_{one['cio_id']}", {"id": "user-2"})
    assert response.status_code == 200
    assert api.attributes(one["cio_id"]) == before
    assert [p["cio_id"] for p in api.people("id", "user-2")] == [two["cio_id"]]


def test_identify_unknown_cio_id_is_dropped(api: Api, sandbox: Sandbox) -> None:
    count = sandbox.workspace.people.count()
    response = api.track("PUT", "/api/v1/customers/cio_ffffff0", {"plan": "x"})
    assert (response.status_code, response.json()) == (200, {})
    assert sandbox.workspace.people.count() == count


def test_identify_unknown_path_with_known_email_updates_that_person(api: Api) -> None:
    (one,) = api.people("id", "user-1")
    response = api.track("PUT", "/api/v1/customers/brand-new-id", {"email": one["email"]})
    assert response.status_code == 200
    assert api.people("id", "brand-new-id") == [{**one, "id": "brand-new-id"}]


def test_identify_with_update_flag_never_creates(api: Api) -> None:
    api.track("PUT", "/api/v1/customers/ghost", {"_update": True, "plan": "x"})
    assert api.people("id", "ghost") == []


def test_identify_errors_use_the_track_v1_shape(api: Api) -> None:
    response = api.track("PUT", "/api/v1/customers/x", {"notes": "y" * 1001})
    assert response.status_code == 400
    assert response.json() == {"meta": {"errors": ["attribute 'notes' is longer than 1000 bytes"]}}
    assert api.people("id", "x") == []


def test_delete_person_removes_them_and_deleting_nobody_is_200(api: Api) -> None:
    (one,) = api.people("id", "user-1")
    response = api.track("DELETE", f"/api/v1/customers/cio_{one['cio_id']}")
    assert (response.status_code, response.json()) == (200, {})
    assert api.people("id", "user-1") == []
    assert api.track("DELETE", "/api/v1/customers/nobody").status_code == 200


# --- Track v2 -------------------------------------------------------------------------


def _object(api: Api, type_id: str, object_id: str) -> httpx.Response:
    return api.app("GET", f"/v1/objects/{type_id}/{object_id}/attributes")


def test_entity_object_identify_relate_and_delete(api: Api) -> None:
    ident = {"object_type_id": "1", "object_id": "vehicle_5"}
    body = {
        "type": "object",
        "identifiers": ident,
        "action": "identify",
        "attributes": {"Make": "Volkswagen"},
        "cio_relationships": [{"identifiers": {"id": "user-3"}}],
    }
    assert api.track("POST", "/api/v2/entity", body).json() == {}
    assert _object(api, "1", "vehicle_5").status_code == 200
    (three,) = api.people("id", "user-3")
    rels = api.app("GET", "/v1/customers/user-3/relationships").json()["cio_relationships"]
    assert "vehicle_5" in [r["identifiers"]["object_id"] for r in rels]
    drop = {"type": "object", "identifiers": ident, "action": "delete_relationships"}
    drop["cio_relationships"] = [{"identifiers": {"cio_id": three["cio_id"]}}]
    assert api.track("POST", "/api/v2/entity", drop).status_code == 200
    rels = api.app("GET", "/v1/customers/user-3/relationships").json()["cio_relationships"]
    assert "vehicle_5" not in [r["identifiers"]["object_id"] for r in rels]
    delete = {"type": "object", "identifiers": ident, "action": "delete"}
    assert api.track("POST", "/api/v2/entity", delete).status_code == 200
    assert _object(api, "1", "vehicle_5").status_code == 404


def test_entity_error_shape(api: Api) -> None:
    bad = {"type": "object", "identifiers": {"object_type_id": "99", "object_id": "a"}}
    response = api.track("POST", "/api/v2/entity", {**bad, "action": "identify"})
    assert response.status_code == 400
    assert response.json() == {
        "errors": [
            {
                "reason": "invalid",
                "field": "identifiers.object_type_id",
                "message": "object type 99 does not exist",
            }
        ]
    }


def test_batch_partial_failure_is_207_and_applies_good_items(api: Api) -> None:
    good = {
        "type": "object",
        "identifiers": {"object_type_id": "1", "object_id": "ok-1"},
        "action": "identify",
    }
    bad = {"type": "object", "identifiers": {"object_type_id": "1"}, "action": "identify"}
    response = api.track("POST", "/api/v2/batch", {"batch": [bad, good]})
    assert response.status_code == 207
    (error,) = response.json()["errors"]
    assert error["batch_index"] == 0 and set(error) == {"batch_index", "reason", "field", "message"}
    assert _object(api, "1", "ok-1").status_code == 200


# --- App API --------------------------------------------------------------------------


def test_segments_create_and_delete(api: Api) -> None:
    created = api.app("POST", "/v1/segments", {"segment": {"name": "VIP", "description": "d"}})
    assert created.status_code == 200
    segment = created.json()["segment"]
    assert (segment["name"], segment["type"]) == ("VIP", "manual")
    assert api.app("DELETE", f"/v1/segments/{segment['id']}").status_code == 204
    names = [s["name"] for s in api.app("GET", "/v1/segments").json()["segments"]]
    assert "VIP" not in names
    assert api.app("DELETE", f"/v1/segments/{segment['id']}").status_code == 404
    missing = api.app("POST", "/v1/segments", {"segment": {}})
    assert missing.json() == {"errors": [{"detail": "name is required", "status": "400"}]}


def test_snippets_put_post_delete(api: Api) -> None:
    put = api.app("PUT", "/v1/snippets", {"name": " sig ", "value": " v1 "})
    assert put.json()["snippet"]["name"] == "sig" and put.json()["snippet"]["value"] == "v1"
    assert api.app("POST", "/v1/snippets", {"name": "sig", "value": "v2"}).status_code == 409
    assert api.app("DELETE", "/v1/snippets/sig").status_code == 204
    assert api.app("DELETE", "/v1/snippets/sig").status_code == 404
    too_long = api.app("PUT", "/v1/snippets", {"name": "n", "value": "x" * 16001})
    assert too_long.status_code == 400


def test_collections_crud(api: Api) -> None:
    created = api.app("POST", "/v1/collections", {"name": "events", "data": [{"a": 1}]})
    cid = created.json()["collection"]["id"]
    assert created.json()["collection"]["rows"] == 1
    updated = api.app("PUT", f"/v1/collections/{cid}", {"data": [{"a": 1}, {"a": 2}]})
    assert updated.json()["collection"]["rows"] == 2
    assert api.app("GET", f"/v1/collections/{cid}/content").json() == [{"a": 1}, {"a": 2}]
    assert api.app("DELETE", f"/v1/collections/{cid}").status_code == 204
    assert api.app("GET", f"/v1/collections/{cid}").status_code == 404
    both = api.app("POST", "/v1/collections", {"name": "x", "data": [], "url": "https://a.b/c"})
    assert both.status_code == 400


def test_collections_are_strict_about_names_data_and_sizes(api: Api) -> None:
    """Data is a list of objects or an object (reference 4.9), at most 10 MB with no row
    over 10 KB (5.5); a refusal is the App API's error body; ids are never reused."""
    made = api.app("POST", "/v1/collections", {"name": "menu", "data": {"café": "crème"}})
    cid = made.json()["collection"]["id"]
    assert made.json()["collection"]["rows"] == 1
    assert api.app("GET", f"/v1/collections/{cid}/content").json() == {"café": "crème"}
    refused = {
        "no name": {"data": [{"a": 1}]},
        "blank name": {"name": "  ", "data": [{"a": 1}]},
        "no data": {"name": "n"},
        "data a string": {"name": "n", "data": "[{}]"},
        "a row not an object": {"name": "n", "data": [{"a": 1}, 2]},
        "a row over 10 KB": {"name": "n", "data": [{"a": "x" * 10_300}]},
        "over 10 MB": {"name": "n", "data": [{"a": "é" * 4_000} for _ in range(1_400)]},
    }
    for why, body in refused.items():
        answer = api.app("POST", "/v1/collections", body)
        assert answer.status_code == 400, why
        (error,) = answer.json()["errors"]
        assert error["status"] == "400" and error["detail"], why
    assert api.app("PUT", "/v1/collections/999999", {"name": "x"}).status_code == 404
    assert api.app("PUT", f"/v1/collections/{cid}", {"name": ""}).status_code == 400
    assert api.app("DELETE", f"/v1/collections/{cid}").status_code == 204
    again = api.app("POST", "/v1/collections", {"name": "menu", "data": []})
    assert again.json()["collection"]["id"] > cid  # a deleted collection's id is not reused


def test_reporting_webhooks_crud(api: Api) -> None:
    body = {"name": "w", "endpoint": "https://h.example/x", "events": ["email_sent"]}
    created = api.app("POST", "/v1/reporting_webhooks", body)
    wid = created.json()["id"]  # a bare object, no envelope
    assert api.app("PUT", f"/v1/reporting_webhooks/{wid}", {"disabled": True}).json()["disabled"]
    assert api.app("DELETE", f"/v1/reporting_webhooks/{wid}").status_code == 204
    assert api.app("GET", f"/v1/reporting_webhooks/{wid}").status_code == 404
    bad = api.app("POST", "/v1/reporting_webhooks", {**body, "events": ["email_nope"]})
    assert bad.json()["errors"][0]["detail"] == "unknown event 'email_nope'"


def test_variant_and_action_updates(api: Api, sandbox: Sandbox) -> None:
    content = sandbox.workspace.records("contents")[0]
    path = f"/v1/newsletters/{content['newsletter_id']}/contents/{content['id']}"
    response = api.app("PUT", path, {"subject": "New subject", "type": "ignored"})
    assert response.json()["content"]["subject"] == "New subject"
    assert api.app("GET", path).json()["content"]["subject"] == "New subject"
    action = sandbox.workspace.records("campaign_actions")[0]
    path = f"/v1/campaigns/{action['campaign_id']}/actions/{action['id']}"
    assert api.app("PUT", path, {"sending_state": "off"}).json()["action"]["sending_state"] == "off"
    assert api.app("PUT", path, {"from_id": "1"}).status_code == 400
    assert api.app("PUT", "/v1/campaigns/999/actions/1", {"body": "x"}).status_code == 404


# --- transactional send -----------------------------------------------------------------


def test_send_creates_a_delivery_under_its_transactional_message(api: Api) -> None:
    body = {"transactional_message_id": 1, "to": "a@example.com", "identifiers": {"id": "user-1"}}
    response = api.app("POST", "/v1/send/email", body)
    assert response.status_code == 200
    answer = response.json()
    assert set(answer) == {"delivery_id", "queued_at"}
    deliveries = api.app("GET", "/v1/transactional/1/messages", limit=100).json()["messages"]
    assert answer["delivery_id"] in [d["id"] for d in deliveries]


@pytest.mark.parametrize(
    ("change", "status", "error"),
    [
        ({"to": ",".join(f"p{i}@x.io" for i in range(16))}, 400, "too many recipients"),
        ({"transactional_message_id": 999}, 404, "transactional message 999 not found"),
        ({"send_at": 1_767_225_600 + 91 * 86400}, 400, "at most 90 days"),
        ({"headers": '[{"name": "Subject", "value": "x"}]'}, 400, "header 'Subject' is reserved"),
        ({"attachments": {"a.txt": "%%%"}}, 400, "not valid base64"),
        (
            {"attachments": {"a.bin": base64.b64encode(b"x" * 2 * 1024 * 1024).decode()}},
            413,
            "too large",
        ),
    ],
)
def test_send_errors_use_the_meta_error_shape(
    api: Api, change: dict[str, Any], status: int, error: str
) -> None:
    body = {"transactional_message_id": 1, "to": "a@example.com", "identifiers": {"id": "user-1"}}
    response = api.app("POST", "/v1/send/email", {**body, **change})
    assert response.status_code == status
    assert set(response.json()) == {"meta"} and error in response.json()["meta"]["error"]
