"""Segments, collections, exports, snippets, reporting webhooks, sender identities, object
types and objects: materialised at build time (small at every scale), from the seed."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from .constants import DAY, EPOCH
from .rand import frac, key, mix, pick
from .scales import Scale

WEBHOOK_EVENTS = (
    "email_sent",
    "email_delivered",
    "email_opened",
    "email_clicked",
    "email_bounced",
    "customer_unsubscribed",
    "push_sent",
    "sms_delivered",
)
OBJECT_TYPES = (
    ("Companies", "Company", "companies", "company", "building"),
    ("Accounts 🏦", "Account", "accounts", "account", "bank"),
    ("Projects", "Project", "projects", "project", "folder"),
)
SEGMENT_NAMES = (
    "Active users",
    "Pro plan",
    "Manual VIP list",
    "Churn risk ⚠️",
    'Newsletter "subscribers"',
    "Dormant; 90d",
)


CollectionData = list[dict[str, Any]] | dict[str, Any]
"""What a collection stores: a list of objects, or an object (reference 4.9)."""


@dataclass
class MiscData:
    segments: dict[int, dict[str, Any]] = field(default_factory=dict)
    segment_share: dict[int, float] = field(default_factory=dict)
    collections: dict[int, dict[str, Any]] = field(default_factory=dict)
    collection_data: dict[int, CollectionData] = field(default_factory=dict)
    collection_seq: int = 0
    """The highest collection id ever given (ids are not reused after a delete)."""
    exports: dict[int, dict[str, Any]] = field(default_factory=dict)
    snippets: dict[str, dict[str, Any]] = field(default_factory=dict)
    webhooks: dict[int, dict[str, Any]] = field(default_factory=dict)
    senders: dict[int, dict[str, Any]] = field(default_factory=dict)
    object_types: dict[str, dict[str, Any]] = field(default_factory=dict)
    objects: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)  # type -> id -> obj


def _stamp(seed: int, label: str, k: int) -> tuple[int, int]:
    h = mix(seed, key(label), k)
    created = EPOCH - 500 * DAY + h % (450 * DAY)
    return created, created + mix(h, 3) % (EPOCH - created - 3600)


def collection_meta(
    cid: int, name: str, data: CollectionData, created: int, updated: int
) -> dict[str, Any]:
    """A collection's record; an object as data counts as one row (UNCONFIRMED)."""
    rows = data if isinstance(data, list) else [data]
    schema = sorted({k for row in rows for k in row})
    size = len(json.dumps(data, ensure_ascii=False).encode())
    return {
        "id": cid,
        "name": name,
        "bytes": size,
        "rows": len(rows),
        "schema": schema,
        "created_at": created,
        "updated_at": updated,
    }


def object_record(seed: int, type_id: str, k: int, n: int) -> dict[str, Any]:
    h = mix(seed, key("object"), int(type_id), k)
    slug = OBJECT_TYPES[(int(type_id) - 1) % len(OBJECT_TYPES)][3]
    object_id = f"{slug}-{k + 1}" if k != 1 else f"{slug} ünï/çødé #2"
    created = EPOCH - 400 * DAY + (k * 390 * DAY) // max(n, 1)
    newer = k >= (n * 2) // 3
    attrs: dict[str, Any] = {
        "name": pick(("Acme Corp", "Globex", "Initech", "Umbrella ☂️", "Société Générale"), h)
        + f" {k + 1}",
        "plan": pick(("free", "pro", "enterprise"), h, 1),
        "seats": pick(("fifty", "many", ""), h, 2) if newer else 5 + h % 500,
        "Industry Type": pick(("SaaS", "Retail", None), h, 3),
        "founded.year": 1950 + h % 70,
        "active": bool(h & 1),
    }
    attrs = {a: v for a, v in attrs.items() if v is not None}
    return {
        "object_type_id": type_id,
        "object_id": object_id,
        "cio_object_id": f"o{int(type_id)}{k + 1:07x}",
        "created": created,
        "updated": created,
        "attributes": attrs,
        "timestamps": dict.fromkeys(attrs, created),
    }


def build_misc(seed: int, scale: Scale) -> MiscData:
    data = MiscData()
    for k in range(scale.segments):
        sid = 1 + k
        created, updated = _stamp(seed, "segment", sid)
        manual = k % 3 == 2
        building = k == 4
        data.segments[sid] = {
            "id": sid,
            "deduplicate_id": f"{sid}:{updated}",
            "name": SEGMENT_NAMES[k % len(SEGMENT_NAMES)] + ("" if k < 6 else f" {sid}"),
            "description": pick(("", "People who did a thing", "Ünïcode — “quotes”"), seed, sid),
            "state": "build" if building else "finished",
            "progress": 40 if building else None,
            "type": "manual" if manual else "dynamic",
            "tags": None if k % 2 else ["lifecycle"],
            "created_at": created,
            "updated_at": updated,
        }
        data.segment_share[sid] = 0.2 + 0.6 * frac(seed, key("share"), sid)
    for k in range(scale.collections):
        cid = 1 + 2 * k
        created, updated = _stamp(seed, "collection", cid)
        n_rows = 3 + k * 4
        rows = [
            {
                "sku": f"SKU-{r}",
                "price": (r * 7) % 100 + 0.99,
                "Product Name": f"Thing №{r} ✨",
                "qty": r if r < n_rows // 2 else f"{r} units",
                "tags": ["a", "b"][: r % 3],
                "meta": {"nested": {"deep": r}},
                "maybe": None if r % 2 else "x",
            }
            for r in range(n_rows)
        ]
        name = ("products", "Store Locations", "coupons_2026")[k % 3] + ("" if k < 3 else str(k))
        data.collections[cid] = collection_meta(cid, name, rows, created, updated)
        data.collection_data[cid] = rows
    for k in range(scale.exports):
        eid = 10 + k
        created, updated = _stamp(seed, "export", eid)
        pending = k == 3
        data.exports[eid] = {
            "id": eid,
            "user_id": 7,
            "user_email": "owner@example.com",
            "total": 0 if pending else 100 + k * 17,
            "deduplicate_id": f"{eid}:{updated}",
            "type": "customers" if k % 2 == 0 else "deliveries",
            "failed": False,
            "description": f"Export {eid}" if k % 2 else "",
            "downloads": k % 3,
            "created_at": created,
            "updated_at": updated,
            "status": "pending" if pending else "done",
        }
    for k in range(scale.snippets):
        name = ("footer", "Legal Text", "signature_🙂", "unsubscribe-link", "address")[k % 5]
        name += "" if k < 5 else f"_{k}"
        _, updated = _stamp(seed, "snippet", k)
        value = (
            "<p>© 2026 Sandbox Inc.</p>",
            "Ünïcode {{customer.first_name}}",
            "🙂",
            "x" * 200,
            "Line 1\nLine 2",
        )[k % 5]
        data.snippets[name] = {"name": name, "value": value, "updated_at": updated}
    for k in range(scale.webhooks):
        wid = 1 + k
        data.webhooks[wid] = {
            "id": wid,
            "name": f"Warehouse hook {wid}",
            "type": "webhook",
            "endpoint": f"https://hooks.example.com/cio/{wid}",
            "disabled": k == 1,
            "full_resolution": bool(k % 2),
            "with_content": False,
            "events": list(WEBHOOK_EVENTS[: 2 + k * 2]),
        }
    for k in range(scale.senders):
        sid = 1 + k
        phone = k % 4 == 3
        email = f"sender{sid}@example.com"
        data.senders[sid] = {
            "id": sid,
            "deduplicate_id": f"{sid}:{EPOCH - DAY * (k + 1)}",
            "name": pick(("Sandbox Team", "Zoë from Sandbox", "Billing"), seed, sid),
            "email": "" if phone else email,
            "address": "" if phone else f"Sandbox <{email}>",
            "template_type": "phone" if phone else "email",
            "auto_generated": k == 0,
            "phone": f"+1555000{sid:04d}" if phone else "",
            "hidden": k % 5 == 4,
        }
    for t in range(scale.object_types):
        tid = str(t + 1)
        name, singular, slug, singular_slug, icon = OBJECT_TYPES[t % len(OBJECT_TYPES)]
        data.object_types[tid] = {
            "id": tid,
            "name": name,
            "singular_name": singular,
            "slug": slug,
            "singular_slug": singular_slug,
            "icon": icon,
            "enabled": True,
        }
        data.objects[tid] = {}
        for k in range(scale.objects_per_type):
            obj = object_record(seed, tid, k, scale.objects_per_type)
            data.objects[tid][obj["object_id"]] = obj
    return data
