"""Write routes of the simulated App API (reference §5.3-5.7).

Transactional send: writes_send.py; Track writes: writes_track.py.

Written from the API reference only (never from the tool's own writeback code), on the
workspace's mutation interface. Error bodies: App ``{"errors":[{"detail","status"}]}``,
transactional send ``{"meta":{"error": ...}}``. Deletes answer 204 with no body (the
reference leaves their bodies UNCONFIRMED). Choices where the reference is silent are
marked UNCONFIRMED below.
"""

from __future__ import annotations

import json
import re
from typing import Any

from . import writes_send, writes_track  # noqa: F401  (register their routes)
from .misc import CollectionData
from .router import Call, Reply, app_error, route

SNIPPET_NAME_MAX = 150
SNIPPET_VALUE_MAX = 16000
COLLECTION_MAX = 10 * 1024 * 1024
COLLECTION_ROW_MAX = 10 * 1024
WEBHOOK_CHANNELS = {
    "email": "drafted attempted sent delivered opened clicked converted bounced dropped "
    "deferred spammed failed unsubscribed undeliverable",
    "in_app": "drafted attempted sent opened clicked converted failed undeliverable",
    "push": "drafted attempted sent delivered opened clicked converted bounced dropped failed "
    "undeliverable",
    "slack": "drafted attempted sent clicked converted failed",
    "sms": "drafted attempted sent delivered clicked converted bounced dropped failed "
    "undeliverable replied",
    "whatsapp": "drafted attempted sent delivered opened clicked converted bounced dropped "
    "failed undeliverable replied",
    "webhook": "drafted attempted sent clicked converted failed undeliverable",
}
WEBHOOK_EVENTS = {f"{c}_{m}" for c, ms in WEBHOOK_CHANNELS.items() for m in ms.split()} | {
    "customer_subscribed",
    "customer_unsubscribed",
    "customer_subscription_preferences_changed",
}
CONTENT_FIELDS = {
    "body": str,
    "body_amp": str,
    "body_plain": str,
    "body_json": str,
    "subject": str,
    "preheader_text": str,
    "recipient": str,
    "from_id": int,
    "reply_to_id": int,
}
ACTION_FIELDS = {
    **CONTENT_FIELDS,
    "image_url": str,
    "url": str,
    "method": str,
    "sending_state": str,
    "send_to_unsubscribed": bool,
    "tracked": bool,
    "sender_identity_id": int,
}
NO_CONTENT = Reply(204, None)


def _record(call: Call, table: str, param: str, what: str) -> dict[str, Any]:
    rec = call.workspace.record(table, call.int_param(param))
    if rec is None:
        raise app_error(404, f"The {what} you requested does not exist.")
    return rec


# segments ------------------------------------------------------------------------------
@route("app", "POST", "/v1/segments")
def create_segment(call: Call) -> Reply:
    inner = call.json_object().get("segment")
    if not isinstance(inner, dict):
        raise app_error(400, 'body must be {"segment": {"name": ..., "description": ...}}')
    name = call.require_str(inner, "name")
    description = inner.get("description") or ""
    if not isinstance(description, str):
        raise app_error(400, "description must be a string")
    return Reply(200, {"segment": call.workspace.create_segment(name, description)})


@route("app", "DELETE", "/v1/segments/{segment_id}")
def delete_segment(call: Call) -> Reply:
    rec = _record(call, "segments", "segment_id", "segment")
    if rec.get("type") != "manual":  # UNCONFIRMED: the API documents deleting manual segments
        raise app_error(
            400, f"segment {rec['id']} is {rec.get('type')}; only manual segments can be deleted"
        )
    call.workspace.delete_segment(rec["id"])
    return NO_CONTENT


# snippets ------------------------------------------------------------------------------
def _snippet_fields(call: Call) -> tuple[str, str]:
    body = call.json_object()
    name = call.require_str(body, "name").strip()
    value = body.get("value")
    if not isinstance(value, str) or not value.strip():
        raise app_error(400, "value is required")
    if len(name) > SNIPPET_NAME_MAX:
        raise app_error(400, f"name is longer than {SNIPPET_NAME_MAX} characters")
    if len(value.strip()) > SNIPPET_VALUE_MAX:
        raise app_error(400, f"value is longer than {SNIPPET_VALUE_MAX} characters")
    return name, value


@route("app", "PUT", "/v1/snippets")
def put_snippet(call: Call) -> Reply:
    name, value = _snippet_fields(call)
    return Reply(200, {"snippet": call.workspace.put_snippet(name, value)})


@route("app", "POST", "/v1/snippets")
def post_snippet(call: Call) -> Reply:
    name, value = _snippet_fields(call)
    if call.workspace.record("snippets", name) is not None:  # UNCONFIRMED status
        raise app_error(409, f"a snippet named {name!r} already exists")
    return Reply(200, {"snippet": call.workspace.put_snippet(name, value)})


@route("app", "DELETE", "/v1/snippets/{snippet_name}")
def delete_snippet(call: Call) -> Reply:
    name = call.params["snippet_name"]
    if call.workspace.record("snippets", name) is None:
        raise app_error(404, f"The snippet {name!r} does not exist.")
    call.workspace.delete_snippet(name)
    return NO_CONTENT


# collections ---------------------------------------------------------------------------
def _collection_data(call: Call, body: dict[str, Any]) -> CollectionData | None:
    if "data" in body and "url" in body:
        raise app_error(400, "give either data or url, not both")
    if "url" in body:
        url = body["url"]
        if not isinstance(url, str) or not re.match(r"https?://", url):
            raise app_error(400, "url must be an http(s) URL")
        return []  # the sandbox does not download: the collection starts empty
    if "data" not in body:
        return None
    data = body["data"]
    rows = data if isinstance(data, list) else [data]
    if not isinstance(data, list | dict) or not all(isinstance(row, dict) for row in rows):
        raise app_error(400, "data must be an array of objects, or an object")
    size = len(json.dumps(data, ensure_ascii=False).encode())
    if size > COLLECTION_MAX:
        raise app_error(400, f"collection is {size} bytes; the limit is 10 MB")
    if any(len(json.dumps(row, ensure_ascii=False).encode()) > COLLECTION_ROW_MAX for row in rows):
        raise app_error(400, "a row of the collection is over 10 KB")
    return data


@route("app", "POST", "/v1/collections")
def create_collection(call: Call) -> Reply:
    body = call.json_object()
    name = call.require_str(body, "name")
    data = _collection_data(call, body)
    if data is None:
        raise app_error(400, "data or url is required")
    return Reply(200, {"collection": call.workspace.create_collection(name, data)})


@route("app", "PUT", "/v1/collections/{collection_id}")
def update_collection(call: Call) -> Reply:
    rec = _record(call, "collections", "collection_id", "collection")
    body = call.json_object()
    name = body.get("name")
    if name is not None and (not isinstance(name, str) or not name.strip()):
        raise app_error(400, "name must be a non-empty string")
    data = _collection_data(call, body)
    return Reply(200, {"collection": call.workspace.update_collection(rec["id"], name, data)})


@route("app", "DELETE", "/v1/collections/{collection_id}")
def delete_collection(call: Call) -> Reply:
    call.workspace.delete_collection(
        _record(call, "collections", "collection_id", "collection")["id"]
    )
    return NO_CONTENT


# reporting webhooks --------------------------------------------------------------------
def _webhook_fields(call: Call, body: dict[str, Any], *, create: bool) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    for name in ("name", "endpoint"):
        if name in body or create:
            fields[name] = call.require_str(body, name)
    if "endpoint" in fields and not re.match(r"https?://\S+$", fields["endpoint"]):
        raise app_error(400, "endpoint must be an http(s) URL")
    if "events" in body or create:
        events = body.get("events")
        if not isinstance(events, list) or not events:
            raise app_error(400, "events must be a non-empty array")
        unknown = [e for e in events if e not in WEBHOOK_EVENTS]
        if unknown:
            raise app_error(400, f"unknown event {unknown[0]!r}")
        fields["events"] = list(events)
    for flag in ("disabled", "full_resolution", "with_content"):
        if flag in body:
            if not isinstance(body[flag], bool):
                raise app_error(400, f"{flag} must be a boolean")
            fields[flag] = body[flag]
    return fields


@route("app", "POST", "/v1/reporting_webhooks")
def create_webhook(call: Call) -> Reply:
    fields = _webhook_fields(call, call.json_object(), create=True)
    return Reply(200, call.workspace.create_webhook(fields))


@route("app", "PUT", "/v1/reporting_webhooks/{webhook_id}")
def update_webhook(call: Call) -> Reply:
    rec = _record(call, "webhooks", "webhook_id", "reporting webhook")
    fields = _webhook_fields(call, call.json_object(), create=False)
    return Reply(200, call.workspace.update_webhook(rec["id"], fields))


@route("app", "DELETE", "/v1/reporting_webhooks/{webhook_id}")
def delete_webhook(call: Call) -> Reply:
    call.workspace.delete_webhook(
        _record(call, "webhooks", "webhook_id", "reporting webhook")["id"]
    )
    return NO_CONTENT


# newsletter variants and campaign actions ----------------------------------------------
def _typed_fields(call: Call, allowed: dict[str, type]) -> dict[str, Any]:
    """Writable fields, type-checked; read-only fields in the body are ignored."""
    body = call.json_object()
    fields: dict[str, Any] = {}
    for name, value in body.items():
        kind = allowed.get(name)
        if name == "headers":
            if not isinstance(value, list | str):
                raise app_error(400, "headers must be an array of {name, value}")
            fields[name] = value if isinstance(value, str) else json.dumps(value)
        elif kind is not None:
            fits = isinstance(value, kind) and (kind is bool or not isinstance(value, bool))
            if not fits and not (name == "reply_to_id" and value is None):
                raise app_error(400, f"{name} must be of type {kind.__name__}")
            fields[name] = value
    if not fields:
        raise app_error(400, f"nothing to update: give one of {', '.join(sorted(allowed))}")
    return fields


@route("app", "PUT", "/v1/newsletters/{newsletter_id}/contents/{content_id}")
def update_content(call: Call) -> Reply:
    news = _record(call, "newsletters", "newsletter_id", "newsletter")
    content = call.workspace.record("contents", call.int_param("content_id"))
    if content is None or content["newsletter_id"] != news["id"]:
        raise app_error(404, "The content you requested does not exist.")
    fields = _typed_fields(call, CONTENT_FIELDS)
    return Reply(200, {"content": call.workspace.update_record("contents", content["id"], fields)})


@route("app", "PUT", "/v1/campaigns/{campaign_id}/actions/{action_id}")
def update_action(call: Call) -> Reply:
    campaign = _record(call, "campaigns", "campaign_id", "campaign")
    action = call.workspace.record("campaign_actions", call.int_param("action_id"))
    if action is None or action.get("campaign_id") != campaign["id"]:
        raise app_error(404, "The action you requested does not exist.")
    fields = _typed_fields(call, ACTION_FIELDS)
    if fields.get("sending_state", "automatic") not in ("automatic", "draft", "off"):
        raise app_error(400, "sending_state must be automatic, draft or off")
    rec = call.workspace.update_record("campaign_actions", action["id"], fields)
    return Reply(200, {"action": rec})
