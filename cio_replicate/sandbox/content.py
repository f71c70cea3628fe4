"""Campaigns, their actions, broadcasts (+ actions, triggers), newsletters (+ contents) and
transactional templates: small enough to materialise, built deterministically from the seed.

Ids are integers with gaps (never assume contiguous ids). Campaign and broadcast ids share one
space (both are campaigns in Customer.io); action ids are unique across the workspace.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Literal

from .constants import ACTIONS_PAGE_SIZE, DAY, EPOCH
from .rand import key, mix, pick
from .scales import Scale

CAMPAIGN_TYPES = ("segment", "event", "date", "webhook", "relationship", "object", "form")
ACTION_TYPES = ("email", "twilio", "webhook", "push", "email", "in_app", "whatsapp", "slack")
NEWSLETTER_TYPES = ("email", "email", "push", "webhook", "twilio", "in_app", "email", "inbox")
TAGS: tuple[tuple[str, ...], ...] = (
    ("onboarding",),
    (),
    ("promo", "Q1 2026"),
    ("ünïcode", "🚀"),
    ("retention",),
)
SUBJECTS = (
    "Welcome aboard 👋",
    "Your receipt",
    "Ça va ? Nouveautés",
    "Last chance: 50% off",
    "We miss you",
    "Résumé de la semaine",
    "",
)


@dataclass(frozen=True)
class Source:
    """Where a delivery comes from: one campaign/broadcast action, newsletter variant or template."""

    kind: Literal["campaign", "broadcast", "newsletter", "transactional"]
    parent_id: int
    action_id: int | None
    parent_action_id: int | None
    content_id: int | None
    template_id: int
    type: str
    subject: str


@dataclass
class ContentData:
    campaigns: dict[int, dict[str, Any]] = field(default_factory=dict)
    campaign_actions: dict[int, dict[str, Any]] = field(default_factory=dict)
    broadcasts: dict[int, dict[str, Any]] = field(default_factory=dict)
    broadcast_actions: dict[int, dict[str, Any]] = field(default_factory=dict)
    triggers: dict[int, dict[str, Any]] = field(default_factory=dict)
    newsletters: dict[int, dict[str, Any]] = field(default_factory=dict)
    contents: dict[int, dict[str, Any]] = field(default_factory=dict)
    transactional: dict[int, dict[str, Any]] = field(default_factory=dict)
    sources: list[Source] = field(default_factory=list)


def dedup(record_id: int | str, updated: int) -> str:
    return f"{record_id}:{updated}"


def _times(seed: int, label: str, k: int, oldest_days: int = 600) -> tuple[int, int]:
    h = mix(seed, key(label), k)
    created = EPOCH - oldest_days * DAY + (h % ((oldest_days - 30) * DAY))
    updated = created + mix(h, 1) % (EPOCH - created - 3600)
    return created, updated


def action_record(
    seed: int,
    action_id: int,
    atype: str,
    parent: tuple[str, int],
    prev: int | None,
    created: int,
    updated: int,
) -> dict[str, Any]:
    h = mix(seed, key("action"), action_id)
    rec: dict[str, Any] = {
        "id": action_id,
        parent[0]: parent[1],
        "deduplicate_id": dedup(action_id, updated),
        "name": f"{atype.title()} step {action_id}",
        "created": created,
        "updated": updated,
        "body": f"<p>Hello {{{{customer.first_name}}}} — step {action_id} ✉️</p>",
        "type": atype,
        "sending_state": pick(("automatic", "automatic", "draft", "off"), h),
        "language": "",
    }
    if parent[0] == "campaign_id":
        rec["parent_action_id"] = prev
    if atype == "email":
        rec.update(
            layout="<html><body>{{content}}</body></html>",
            from_id=1 + h % 3,
            **{"from": "Sandbox Team <team@example.com>"},
            reply_to="help@example.com",
            reply_to_id=None if h & 1 else 2,
            preprocessor="premailer",
            recipient="{{customer.email}}",
            subject=pick(SUBJECTS, h, 2),
            cc="",
            bcc="",
            fake_bcc=False,
            preheader_text="A short preview",
            body_amp="",
            headers=json.dumps([{"name": "X-Sandbox", "value": str(action_id)}]),
        )
    elif atype == "twilio":
        rec.update(image_url="", recipient="{{customer.phone}}")
    elif atype == "webhook":
        rec.update(
            url=f"https://hooks.example.com/{action_id}?q=a&b=ü",
            method="post",
            headers=json.dumps([{"name": "Content-Type", "value": "application/json"}]),
        )
    elif atype == "whatsapp":
        rec.update(
            body_json='{"type":"text"}',
            sender_identity_id=1,
            send_to_unsubscribed=False,
            tracked=True,
            recipient="{{customer.phone}}",
        )
    return rec


def build_content(seed: int, scale: Scale, n_segments: int) -> ContentData:
    data = ContentData()
    next_action = 100
    for k in range(scale.campaigns):
        cid = 2 + 3 * k
        created, updated = _times(seed, "campaign", cid)
        ctype = CAMPAIGN_TYPES[k % len(CAMPAIGN_TYPES)]
        state = ("running", "running", "stopped", "draft")[k % 4] if k else "running"
        n_actions = ACTIONS_PAGE_SIZE + 2 if k == 0 else 2 + k % 3
        actions = []
        prev: int | None = None
        for a in range(n_actions):
            atype = ACTION_TYPES[(k + a) % len(ACTION_TYPES)]
            a_created = created + a * 60
            rec = action_record(
                seed,
                next_action,
                atype,
                ("campaign_id", cid),
                prev,
                a_created,
                max(updated - a, a_created),
            )
            data.campaign_actions[next_action] = rec
            actions.append({"id": next_action, "type": atype})
            if state != "draft":
                data.sources.append(
                    Source(
                        "campaign",
                        cid,
                        next_action,
                        prev,
                        None,
                        next_action,
                        atype,
                        str(rec.get("subject", "")),
                    )
                )
            prev = next_action
            next_action += 1 + k % 2
        camp: dict[str, Any] = {
            "id": cid,
            "deduplicate_id": dedup(cid, updated),
            "name": f"Automation {cid}: {ctype}",
            "description": pick(("", "Onboarding flow", "Re-engage — “lapsed” users"), seed, cid),
            "type": ctype,
            "created": created,
            "updated": updated,
            "active": state == "running",
            "state": state,
            "actions": actions,
            "first_started": 0 if state == "draft" else created + DAY,
            "tags": list(pick(TAGS, seed, cid)),
            "created_by": "owner@example.com",
        }
        if ctype != "webhook":
            camp["filter_segment_ids"] = [1 + (k % n_segments)] if k % 2 else []
        if ctype == "segment":
            camp["trigger_segment_ids"] = [1 + ((k + 1) % n_segments)]
            camp["msg_templates"] = [{"id": a["id"], "type": "email"} for a in actions[:1]]
        elif ctype == "event":
            camp["event_name"] = pick(("purchase", "Signed Up", "cart.abandoned"), seed, cid)
        elif ctype == "date":
            camp.update(
                frequency="yearly",
                date_attribute="created_at",
                timezone="Europe/Berlin",
                use_customer_timezone=True,
                start_hour=9,
                start_minutes=30,
            )
        elif ctype == "webhook":
            camp["webhook_id"] = 1
        elif ctype in ("relationship", "object"):
            camp.update(
                object_type_id=1,
                filter_object_attributes="",
                filter_relationship_attributes="",
                audience={"type": 0, "person_filters": {}, "relationship_filters": {}},
            )
            trig = (
                "relationship_attribute_triggers"
                if ctype == "relationship"
                else "object_attribute_triggers"
            )
            camp[trig] = {"attribute": "plan"}
        data.campaigns[cid] = camp
    next_trigger = 1
    for k in range(scale.broadcasts):
        bid = 1001 + 2 * k
        created, updated = _times(seed, "broadcast", bid)
        state = "draft" if k == 2 else "running"
        actions = []
        for a in range(1 + k % 2):
            atype = ("email", "push", "webhook")[(k + a) % 3]
            rec = action_record(
                seed, next_action, atype, ("broadcast_id", bid), None, created, updated
            )
            data.broadcast_actions[next_action] = rec
            actions.append({"id": next_action, "type": atype})
            if state != "draft":
                data.sources.append(
                    Source(
                        "broadcast",
                        bid,
                        next_action,
                        None,
                        None,
                        next_action,
                        atype,
                        str(rec.get("subject", "")),
                    )
                )
            next_action += 1
        data.broadcasts[bid] = {
            "id": bid,
            "deduplicate_id": dedup(bid, updated),
            "name": f"API broadcast {bid}",
            "type": "triggered_broadcast",
            "created": created,
            "updated": updated,
            "active": state == "running",
            "state": state,
            "actions": actions,
            "msg_template_ids": [{"id": a["id"], "type": a["type"]} for a in actions],
            "first_started": 0 if state == "draft" else created + DAY,
            "tags": list(pick(TAGS, seed, bid)),
        }
        if state != "draft":
            for t in range(1 + k % 3):
                at = created + DAY * (t + 2)
                data.triggers[next_trigger] = {
                    "id": next_trigger,
                    "broadcast_id": bid,
                    "created_at": at,
                    "processed_at": at + 42,
                }
                next_trigger += 1
    next_content = 200
    for k in range(scale.newsletters):
        nid = 3 + 4 * k
        created, updated = _times(seed, "newsletter", nid)
        ntype = NEWSLETTER_TYPES[k % len(NEWSLETTER_TYPES)]
        sent = k % 5 != 4
        content_ids = []
        for v in range(1 + (k % 3 == 0) + (k % 6 == 0)):
            lang = ("", "fr", "de")[v]
            rec = content_record(seed, next_content, nid, ntype, lang, created, updated)
            data.contents[next_content] = rec
            content_ids.append(next_content)
            if sent:
                data.sources.append(
                    Source(
                        "newsletter",
                        nid,
                        None,
                        None,
                        next_content,
                        next_content,
                        ntype,
                        str(rec.get("subject", "")),
                    )
                )
            next_content += 1
        news: dict[str, Any] = {
            "id": nid,
            "deduplicate_id": dedup(nid, updated),
            "name": f"Newsletter #{nid} — {pick(('Spring', 'Ünïcode', 'Weekly'), seed, nid)}",
            "content_ids": content_ids,
            "type": ntype,
            "created": created,
            "updated": updated,
            "tags": list(pick(TAGS, seed, nid)),
            "recipient_segment_ids": [1 + k % n_segments],
        }
        if sent:
            news["sent_at"] = updated
        if k % 2:
            news["subscription_topic_id"] = 1 + k % 2
        data.newsletters[nid] = news
    for k in range(scale.transactional):
        tid = 1 + k + k // 2
        created, updated = _times(seed, "transactional", tid)
        data.transactional[tid] = {
            "id": tid,
            "name": pick(("Password reset", "Receipt", "Magic link 🔑"), seed, tid) + f" {tid}",
            "description": "" if k % 2 else "Sent from the app backend",
            "send_to_unsubscribed": True,
            "link_tracking": bool(k % 2),
            "open_tracking": True,
            "hide_message_body": k == 1,
            "queue_drafts": False,
            "created_at": created,
            "updated_at": updated,
        }
        data.sources.append(
            Source("transactional", tid, None, None, None, tid, "email", "Your one-time code")
        )
    return data


def content_record(
    seed: int, cid: int, nid: int, ntype: str, lang: str, created: int, updated: int
) -> dict[str, Any]:
    h = mix(seed, key("content"), cid)
    return {
        "id": cid,
        "newsletter_id": nid,
        "deduplicate_id": dedup(cid, updated),
        "name": f"Variant {cid}" + (f" ({lang})" if lang else ""),
        "layout": "<html><body>{{content}}</body></html>" if ntype == "email" else "",
        "body": f"<h1>Issue {nid}</h1><p>{'Bonjour' if lang == 'fr' else 'Hello'} 👋</p>",
        "body_amp": "",
        "language": lang,
        "type": ntype,
        "from": "News <news@example.com>",
        "from_id": 1,
        "reply_to": "news@example.com",
        "reply_to_id": None if h & 1 else 2,
        "preprocessor": "premailer",
        "recipient": "{{customer.email}}",
        "subject": pick(SUBJECTS, h),
        "cc": "",
        "bcc": "",
        "fake_bcc": False,
        "preheader_text": "",
        "headers": json.dumps([]),
    }
