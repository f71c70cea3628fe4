"""The generated data: realistic edge cases, deterministic from the seed, lazy at scale."""

from __future__ import annotations

import tracemalloc
from urllib.parse import quote

import httpx
import pytest

from cio_replicate.sandbox import APP_API_KEY, Sandbox
from cio_replicate.sandbox.scales import SCALES

from .walk import walk


def attributes(sb: Sandbox) -> list[dict[str, str]]:
    ws = sb.workspace
    return [ws.customer(p)["attributes"] for p in ws.iter_people()]


def test_hostile_attribute_names_and_values() -> None:
    rows = attributes(Sandbox("demo", seed=1))
    names = set().union(*rows)
    assert {"Favorite Color", "address.city", 'nick"name', "select", "名前 (ユニコード)"} <= names
    assert {"LifetimeValue", "lifetimevalue"} <= names, "two names differing only by case"
    assert any(len(n) > 100 for n in names)
    values = [v for row in rows for v in row.values()]
    assert all(isinstance(v, str) for v in values), "App API attributes are strings"
    assert "" in values and any(len(v) == 10_000 for v in values)
    assert any(any(ord(c) > 0xFFFF for c in v) for v in values), "emoji"


def test_attribute_only_on_newer_people_and_changing_type() -> None:
    rows = attributes(Sandbox("demo", seed=1))
    with_tier = [i for i, row in enumerate(rows) if "loyalty_tier" in row]
    assert with_tier and min(with_tier) > len(rows) // 2 and len(with_tier) < len(rows)
    old, new = rows[0]["score"], rows[-1]["score"]
    float(old)  # a number on old people
    with pytest.raises(ValueError):
        float(new)  # text on new ones


def test_identifiers_have_nulls_and_odd_values() -> None:
    people = [p.identifiers() for p in Sandbox("tiny").workspace.iter_people()]
    assert any(p["id"] is None for p in people) and any(p["email"] is None for p in people)
    assert all(p["id"] is not None or p["email"] is not None for p in people)
    assert any(p["id"] and not p["id"].isascii() for p in people)
    assert any(p["email"] and p["email"] != p["email"].lower() for p in people)


def test_odd_ids_round_trip_through_paths(sb: Sandbox, app: httpx.Client) -> None:
    for person in sb.workspace.iter_people():
        if person.id is None:
            continue
        response = app.get(f"/v1/customers/{quote(person.id, safe='')}/attributes")
        assert response.status_code == 200, person.id
        assert response.json()["customer"]["identifiers"] == person.identifiers()


def test_same_seed_same_data_other_seed_other_data() -> None:
    def snapshot(seed: int) -> list[object]:
        sb = Sandbox("tiny", seed=seed)
        with httpx.Client(
            transport=sb.transport(),
            base_url="https://api.customer.io",
            headers={"Authorization": f"Bearer {APP_API_KEY}"},
        ) as c:
            return [
                c.get(p).json()
                for p in (
                    "/v1/campaigns",
                    "/v1/messages?start_ts=0",
                    "/v1/customers/user-3/attributes",
                )
            ]

    assert snapshot(5) == snapshot(5)
    assert snapshot(5) != snapshot(6)


@pytest.mark.parametrize("scale", ["tiny", "demo"])
def test_every_object_and_some_children_are_populated(scale: str) -> None:
    sb = Sandbox(scale)
    ws = sb.workspace
    for table in (
        "campaigns",
        "campaign_actions",
        "broadcasts",
        "broadcast_actions",
        "triggers",
        "newsletters",
        "contents",
        "transactional",
        "segments",
        "collections",
        "exports",
        "snippets",
        "webhooks",
        "senders",
        "object_types",
    ):
        assert ws.records(table), table
    assert ws.people.count() == SCALES[scale].people
    assert ws.messages.total == SCALES[scale].messages
    for kind, table in (
        ("campaign", "campaigns"),
        ("broadcast", "broadcasts"),
        ("newsletter", "newsletters"),
        ("transactional", "transactional"),
    ):
        assert any(ws.sources_of(kind, r["id"]) for r in ws.records(table)), kind
    metrics = {m for j in range(ws.messages.total) for m in ws.messages.get(j)["metrics"]}
    assert {"sent", "delivered", "opened", "clicked", "bounced", "failed"} <= metrics


def test_large_scale_is_lazy_and_pages_deep() -> None:
    tracemalloc.start()
    sb = Sandbox("large", seed=1)
    ws = sb.workspace
    assert ws.messages.total == 1_000_000 and ws.people.count() == 100_000
    with httpx.Client(
        transport=sb.transport(),
        base_url="https://api.customer.io",
        headers={"Authorization": f"Bearer {APP_API_KEY}"},
    ) as c:
        oldest = walk(
            c,
            "GET",
            "/v1/messages",
            "messages",
            {"start_ts": 0, "end_ts": ws.messages.created(1500), "limit": 1000},
        ).records
        assert [m["id"] for m in oldest][-1] == ws.messages.message_id(0)
        assert len(oldest) == sum(
            1 for j in range(1600) if ws.messages.created(j) <= ws.messages.created(1500)
        )
        last = c.get("/v1/customers/user-100000/messages").json()["messages"]
        assert len(last) == 10 and all(m["customer_id"] == "user-100000" for m in last)
        ident = c.get("/v1/customers/user-99999/attributes").json()["customer"]["identifiers"]
        assert ident["cio_id"] == "a001869f"
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < 100 * 1024 * 1024, "records are computed on demand, not materialised"
