"""First checks: every read endpoint answers with its envelope; auth on both APIs."""

from __future__ import annotations

import httpx
import pytest

from cio_replicate.sandbox import Sandbox

ENVELOPES = [
    ("/v1/campaigns", "campaigns"),
    ("/v1/broadcasts", "broadcasts"),
    ("/v1/newsletters", "newsletters"),
    ("/v1/segments", "segments"),
    ("/v1/messages", "messages"),
    ("/v1/transactional", "messages"),
    ("/v1/collections", "collections"),
    ("/v1/exports", "exports"),
    ("/v1/snippets", "snippets"),
    ("/v1/reporting_webhooks", "reporting_webhooks"),
    ("/v1/activities", "activities"),
    ("/v1/sender_identities", "sender_identities"),
    ("/v1/object_types", "types"),
    ("/v1/workspaces", "workspaces"),
]


@pytest.mark.parametrize(("path", "envelope"), ENVELOPES)
def test_list_envelopes_are_non_empty(app: httpx.Client, path: str, envelope: str) -> None:
    response = app.get(path)
    assert response.status_code == 200
    assert response.json()[envelope]


def test_app_api_rejects_a_wrong_key(sb: Sandbox) -> None:
    with httpx.Client(transport=sb.transport(), base_url="https://api.customer.io") as client:
        response = client.get("/v1/campaigns", headers={"Authorization": "Bearer nope"})
    assert response.status_code == 401
    assert response.json()["errors"][0]["status"] == "401"


def test_track_region(track: httpx.Client) -> None:
    body = track.get("/api/v1/accounts/region").json()
    assert body == {"url": "https://track.customer.io", "region": "us", "environment_id": 91532}
