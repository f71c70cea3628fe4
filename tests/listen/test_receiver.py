"""POST /reporting: signatures, bodies, duplicates, and what reaches reporting_events."""

from __future__ import annotations

import json
import time

from .conftest import KEY, Receiver, event, signed


def test_signed_event_is_stored_with_its_fields(receiver: Receiver) -> None:
    assert receiver.post(event("ev-1", "d-1")) == 200
    (row,) = receiver.events()
    assert row["event_id"] == "ev-1"
    assert (row["metric"], row["object_type"], row["delivery_id"]) == ("opened", "email", "d-1")
    assert int(row["timestamp"].timestamp()) == 1_700_000_000
    assert (row["customer_id"], row["email"], row["cio_id"]) == (
        "person-1",
        "ann@example.com",
        "cio1",
    )
    assert (row["campaign_id"], row["action_id"], row["newsletter_id"]) == (7, 11, None)
    assert row["payload"] == event("ev-1", "d-1")
    assert row["applied_at"] is None  # no delivery table holds d-1


def test_bad_missing_or_stale_signatures_store_nothing(receiver: Receiver) -> None:
    body, headers = signed(event("ev-bad", "d-1"), key="another-key")
    assert receiver.client.post("/reporting", content=body, headers=headers).status_code == 401
    body, headers = signed(event("ev-stale", "d-1"), at=int(time.time()) - 301)
    assert receiver.client.post("/reporting", content=body, headers=headers).status_code == 401
    body, headers = signed(event("ev-future", "d-1"), at=int(time.time()) + 301)
    assert receiver.client.post("/reporting", content=body, headers=headers).status_code == 401
    assert receiver.client.post("/reporting", content=body).status_code == 401
    # a body changed after signing
    body, headers = signed(event("ev-x", "d-1"))
    tampered = body.replace(b"ev-x", b"ev-y")
    assert receiver.client.post("/reporting", content=tampered, headers=headers).status_code == 401
    assert receiver.events() == []
    # a signature 4 minutes old is still good
    assert receiver.post(event("ev-ok", "d-1"), at=int(time.time()) - 240) == 200
    assert [r["event_id"] for r in receiver.events()] == ["ev-ok"]


def test_malformed_bodies_are_400_and_store_nothing(receiver: Receiver) -> None:
    good = event("ev-1", "d-1")
    for body in (
        b"not json",
        b"[]",
        json.dumps({k: v for k, v in good.items() if k != "event_id"}).encode(),
        json.dumps({**good, "timestamp": "yesterday"}).encode(),
        json.dumps({**good, "metric": "Opened; DROP TABLE"}).encode(),
        json.dumps({**good, "data": []}).encode(),
    ):
        assert receiver.post(body) == 400, body
    assert receiver.events() == []


def test_duplicates_are_acknowledged_and_stored_once(receiver: Receiver) -> None:
    for _ in range(3):
        assert receiver.post(event("ev-dup", "d-1")) == 200
    assert [r["event_id"] for r in receiver.events()] == ["ev-dup"]


def test_healthz_and_unknown_paths(receiver: Receiver) -> None:
    assert receiver.client.get("/healthz").json() == {"ok": True}
    assert receiver.client.get("/reporting").status_code == 405
    assert receiver.client.get("/nope").status_code == 404
    assert KEY not in receiver.client.get("/healthz").text


def test_customer_events_have_no_delivery(receiver: Receiver) -> None:
    payload = event("ev-c", None, metric="unsubscribed") | {"object_type": "customer"}
    assert receiver.post(payload) == 200
    (row,) = receiver.events()
    assert (row["object_type"], row["delivery_id"], row["metric"]) == (
        "customer",
        None,
        "unsubscribed",
    )
