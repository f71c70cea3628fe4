"""The mutation interface and the clock: what tests (and the write routes) build on."""

from __future__ import annotations

import httpx
import pytest

from cio_replicate.sandbox import Sandbox

from .walk import walk

ALL = {"filter": {"attribute": {"field": "cio_id", "operator": "exists"}}}


def test_clock_is_fixed_until_advanced(sb: Sandbox) -> None:
    start = sb.clock.now()
    assert sb.clock.now() == start
    assert sb.clock.advance(90) == start + 90
    assert sb.clock() == float(start + 90)
    with pytest.raises(ValueError):
        sb.clock.advance(-1)


def test_update_person_bumps_timestamps_and_is_served(sb: Sandbox, app: httpx.Client) -> None:
    ws = sb.workspace
    person = ws.people.find_by_id("user-2")
    assert person is not None
    sb.clock.advance(3600)
    updated = ws.update_person(person, {"plan": "enterprise", "Favorite Color": None})
    assert updated.updated == sb.clock.now()
    body = app.get("/v1/customers/user-2/attributes").json()["customer"]
    assert body == ws.customer(updated, "user-2")
    assert body["attributes"]["plan"] == "enterprise"
    assert body["timestamps"]["plan"] == sb.clock.now()
    assert "Favorite Color" not in body["attributes"]


def test_new_people_come_last_and_deleted_people_vanish(sb: Sandbox, app: httpx.Client) -> None:
    ws = sb.workspace
    sb.clock.advance(10)
    new = ws.create_person(id="new-person", email="New@Example.com", attributes={"plan": "pro"})
    assert new.created_at == sb.clock.now()
    gone = ws.people.find_by_id("user-1")
    assert gone is not None
    ws.delete_person(gone)
    people = walk(app, "POST", "/v1/customers", "identifiers", {"limit": 10}, ALL).records
    assert people[-1] == {"id": "new-person", "email": "New@Example.com", "cio_id": new.cio_id}
    assert all(p["id"] != "user-1" for p in people)
    assert len(people) == sb.workspace.scale.people
    assert app.get("/v1/customers/user-1/attributes").status_code == 404
    found = app.get("/v1/customers", params={"email": "new@example.com"}).json()["results"]
    assert found == [new.identifiers()]


def test_shared_emails_return_every_person(app: httpx.Client) -> None:
    # person index 11 shares person 10's address (generated data)
    results = app.get("/v1/customers", params={"email": "person11@example.com"}).json()["results"]
    assert len(results) == 2 and len({r["cio_id"] for r in results}) == 2


def test_new_message_comes_first_and_metrics_keep_created(sb: Sandbox, app: httpx.Client) -> None:
    ws = sb.workspace
    person = ws.people.find_by_id("user-4")
    assert person is not None
    sb.clock.advance(60)
    msg = ws.add_transactional_delivery(1, person)
    assert msg["created"] == sb.clock.now()
    newest = app.get("/v1/messages", params={"limit": 1}).json()["messages"][0]
    assert newest == msg
    sb.clock.advance(300)
    ws.set_message_metric(msg["id"], "opened")
    again = app.get(f"/v1/messages/{msg['id']}").json()["message"]
    assert again["created"] == msg["created"]
    assert again["metrics"]["opened"] == sb.clock.now()
    mine = app.get("/v1/customers/user-4/messages").json()["messages"]
    assert mine[0]["id"] == msg["id"]
    tx = app.get("/v1/transactional/1/messages").json()["messages"]
    assert tx[0]["id"] == msg["id"]


def test_metric_change_on_a_generated_message(sb: Sandbox, app: httpx.Client) -> None:
    old = app.get("/v1/messages", params={"limit": 1, "start_ts": 0}).json()["messages"][0]
    sb.workspace.set_message_metric(old["id"], "converted", 1_767_000_000)
    new = app.get(f"/v1/messages/{old['id']}").json()["message"]
    assert new["metrics"]["converted"] == 1_767_000_000
    assert new["created"] == old["created"]


def test_segment_membership_changes(sb: Sandbox, app: httpx.Client) -> None:
    ws = sb.workspace
    seg = ws.create_segment("Manual 🎯", "made by a test")
    assert seg["created_at"] == sb.clock.now() and seg["type"] == "manual"
    people = [p for p in ws.iter_people()][:3]
    ws.add_to_segment(seg["id"], people)
    ws.remove_from_segment(seg["id"], people[:1])
    members = app.get(f"/v1/segments/{seg['id']}/membership").json()
    assert members["identifiers"] == [p.identifiers() for p in people[1:]]
    segs = app.get(f"/v1/customers/{people[1].cio_id}/segments", params={"id_type": "cio_id"})
    assert segs.status_code == 404, "cio_id path values need the cio_ prefix"
    segs = app.get(f"/v1/customers/cio_{people[1].cio_id}/segments", params={"id_type": "cio_id"})
    assert seg in segs.json()["segments"]


def test_record_updates_bump_updated_and_deduplicate_id(sb: Sandbox, app: httpx.Client) -> None:
    ws = sb.workspace
    action = ws.campaign_actions(2)[0]
    sb.clock.advance(5)
    ws.update_record("campaign_actions", action["id"], {"subject": "New subject ✨"})
    body = app.get(f"/v1/campaigns/2/actions/{action['id']}").json()["action"]
    assert body["subject"] == "New subject ✨" and body["updated"] == sb.clock.now()
    assert body["deduplicate_id"] == f"{action['id']}:{sb.clock.now()}"
    collection = ws.update_collection(1, data=[{"a": 1}, {"a": 2, "b": None}])
    assert collection["rows"] == 2 and collection["schema"] == ["a", "b"]
    assert collection["updated_at"] == sb.clock.now()
    assert app.get("/v1/collections/1/content").json() == [{"a": 1}, {"a": 2, "b": None}]


def test_objects_and_relationships(sb: Sandbox, app: httpx.Client) -> None:
    ws = sb.workspace
    person = ws.people.find_by_id("user-3") or ws.people.find_by_id("user-2")
    assert person is not None
    ws.put_object("1", "acme", {"name": "Acme", "seats": 50})
    ws.relate(person, "1", "acme", {"role": "admin"})
    attrs = app.get("/v1/objects/1/acme/attributes").json()["object"]
    assert attrs["attributes"] == {"name": "Acme", "seats": 50}
    rels = app.get("/v1/objects/1/acme/relationships").json()["cio_relationships"]
    assert rels == [{"identifiers": person.identifiers(), "attributes": {"role": "admin"}}]
    ws.unrelate(person, "1", "acme")
    assert app.get("/v1/objects/1/acme/relationships").json()["cio_relationships"] == []
    ws.delete_object("1", "acme")
    assert app.get("/v1/objects/1/acme/attributes").status_code == 404


def test_export_download_counts(sb: Sandbox, app: httpx.Client) -> None:
    export = sb.workspace.records("exports")[0]
    before = export["downloads"]
    url = app.get(f"/v1/exports/{export['id']}/download").json()["url"]
    assert url.startswith("https://")
    assert app.get(f"/v1/exports/{export['id']}").json()["export"]["downloads"] == before + 1


def test_mutation_rounds_delete_then_restore(sb: Sandbox, app: httpx.Client) -> None:
    """The rounds `sandbox serve --mutate-every` makes: what the APIs then serve."""
    from cio_replicate.sandbox.rounds import rounds

    ws = sb.workspace
    campaigns = {c["id"] for c in app.get("/v1/campaigns").json()["campaigns"]}
    changes = rounds(ws)
    first = next(changes)
    listed = {c["id"] for c in app.get("/v1/campaigns").json()["campaigns"]}
    assert listed == campaigns - {first.campaign_deleted}
    gone = app.get(f"/v1/campaigns/{first.campaign_deleted}/actions")
    assert gone.status_code == 404
    snippets = {s["name"] for s in app.get("/v1/snippets").json()["snippets"]}
    assert first.snippet_deleted not in snippets
    people = walk(app, "POST", "/v1/customers", "identifiers", {"limit": 10}, ALL).records
    assert first.person_deleted not in {p["cio_id"] for p in people}
    changed = next(p for p in people if p["cio_id"] == first.email_changed)
    assert changed["email"].startswith("changed.")
    second = next(changes)
    assert sorted(second.restored) == sorted(first.gone) and not second.gone
    listed = {c["id"] for c in app.get("/v1/campaigns").json()["campaigns"]}
    assert listed == campaigns
    actions = app.get(f"/v1/campaigns/{first.campaign_deleted}/actions").json()["actions"]
    assert actions
    snippets = {s["name"] for s in app.get("/v1/snippets").json()["snippets"]}
    assert first.snippet_deleted in snippets
    assert next(changes).gone  # the third deletes again
