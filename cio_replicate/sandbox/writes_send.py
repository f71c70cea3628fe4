"""POST /v1/send/email of the simulated App API (reference §5.8).

Validation as the reference describes it, errors as ``{"meta":{"error": ...}}``; a
send creates a delivery under its transactional message and answers
``{"delivery_id", "queued_at"}``.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from email.utils import getaddresses
from typing import Any

from .content import Source
from .people import Person
from .router import Call, HttpError, Reply, route

MAX_RECIPIENTS = 15
MAX_ATTACHMENTS = 2 * 1024 * 1024
MAX_SEND_AHEAD = 90 * 86400
# UNCONFIRMED: Customer.io does not publish its reserved header list.
RESERVED_HEADERS = {"from", "to", "cc", "bcc", "subject", "reply-to", "sender", "date"}
RESERVED_HEADERS |= {"message-id", "return-path", "content-type", "mime-version", "received"}
RESERVED_HEADERS |= {"content-transfer-encoding", "dkim-signature", "in-reply-to", "references"}
RESERVED_HEADERS |= {"list-unsubscribe", "list-unsubscribe-post"}


# transactional email -------------------------------------------------------------------
def send_error(status: int, message: str) -> HttpError:
    return HttpError(status, {"meta": {"error": message}})


def _recipients(body: dict[str, Any]) -> int:
    total = 0
    for name in ("to", "cc", "bcc"):
        value = body.get(name)
        if value is None:
            continue
        if not isinstance(value, str):
            raise send_error(400, f"{name} must be a string of comma-separated addresses")
        found = [addr for _, addr in getaddresses([value]) if addr]
        if any("@" not in a for a in found):
            raise send_error(400, f"{name} contains an invalid address")
        total += len(found)
    return total


def _check_send(call: Call, body: dict[str, Any]) -> None:
    if not isinstance(body.get("to"), str) or not body["to"].strip():
        raise send_error(400, "to is required")
    if _recipients(body) > MAX_RECIPIENTS:
        raise send_error(
            400, f"too many recipients: at most {MAX_RECIPIENTS} across to, cc and bcc"
        )
    if "transactional_message_id" not in body:
        missing = [f for f in ("body", "subject", "from") if not body.get(f)]
        if missing:
            raise send_error(400, f"{', '.join(missing)} required without transactional_message_id")
    send_at = body.get("send_at")
    if send_at is not None:
        if not isinstance(send_at, int) or isinstance(send_at, bool):
            raise send_error(400, "send_at must be a unix timestamp")
        if send_at > call.workspace.now() + MAX_SEND_AHEAD:
            raise send_error(400, "send_at can be at most 90 days in the future")
    data = body.get("message_data")
    if data is not None and not isinstance(data, dict):
        raise send_error(400, "message_data must be an object")
    _check_attachments(body.get("attachments"))
    _check_headers(body.get("headers"))


def _check_attachments(attachments: Any) -> None:
    if attachments is None:
        return
    if not isinstance(attachments, dict):
        raise send_error(400, "attachments must be an object of filename to base64 content")
    total = 0
    for filename, content in attachments.items():
        if "." not in filename or not isinstance(content, str):
            raise send_error(400, f"attachment {filename!r} needs an extension and base64 content")
        try:
            total += len(base64.b64decode(content, validate=True))
        except (binascii.Error, ValueError):
            raise send_error(400, f"attachment {filename!r} is not valid base64") from None
    if total >= MAX_ATTACHMENTS:
        raise send_error(413, "attachments are too large: the total must be under 2 MB")


def _check_headers(headers: Any) -> None:
    """A JSON string of [{name, value}] (the spec) or an object map (the clients)."""
    if headers is None:
        return
    if isinstance(headers, str):
        try:
            headers = json.loads(headers)
        except ValueError:
            raise send_error(400, "headers must be JSON") from None
    if isinstance(headers, list):
        if not all(isinstance(h, dict) and set(h) == {"name", "value"} for h in headers):
            raise send_error(400, "headers must be objects with name and value")
        headers = {h["name"]: h["value"] for h in headers}
    if not isinstance(headers, dict):
        raise send_error(400, "headers must be an array of {name, value}")
    for name, value in headers.items():
        if not isinstance(value, str) or not all(
            re.fullmatch(r"[\x21-\x7e]+", s) for s in (name, value)
        ):
            raise send_error(400, f"header {name!r}: names and values must be ASCII without spaces")
        if name.lower() in RESERVED_HEADERS:
            raise send_error(400, f"header {name!r} is reserved")


def _template(call: Call, ref: Any) -> dict[str, Any]:
    records = call.workspace.records("transactional")
    if isinstance(ref, int) and not isinstance(ref, bool):
        found = [r for r in records if r["id"] == ref]
    elif isinstance(ref, str):
        found = [r for r in records if r["name"].lower() == ref.lower()]
    else:
        raise send_error(400, "transactional_message_id must be an integer or a trigger name")
    if not found:
        raise send_error(404, f"transactional message {ref!r} not found")
    return found[0]


def _recipient_person(call: Call, body: dict[str, Any]) -> Person:
    """The person the delivery belongs to; created when unknown (UNCONFIRMED)."""
    idents = body.get("identifiers")
    if idents is None:  # the stored spec does not require identifiers: use the first `to`
        idents = {"email": getaddresses([body["to"]])[0][1]}
    if not isinstance(idents, dict) or len(idents) != 1:
        raise send_error(400, "identifiers must hold exactly one of id, email or cio_id")
    ((kind, value),) = idents.items()
    if kind not in ("id", "email", "cio_id") or not isinstance(value, str | int) or value == "":
        raise send_error(400, "identifiers must hold exactly one of id, email or cio_id")
    people = call.workspace.people
    person = people.find(str(value), kind)
    if person is None:
        if kind == "cio_id":
            raise send_error(400, f"no person with cio_id {value}")
        text = str(value)
        person = call.workspace.create_person(
            text if kind == "id" else None, text if kind == "email" else None
        )
    return person


@route("app", "POST", "/v1/send/email")
def send_email(call: Call) -> Reply:
    body = call.json_object()
    _check_send(call, body)
    person = _recipient_person(call, body)
    ws = call.workspace
    if "transactional_message_id" in body:
        template = _template(call, body["transactional_message_id"])
        subject = body.get("subject") or f"{template['name']}"
        delivery = ws.add_transactional_delivery(template["id"], person, subject)
    else:  # no template: a delivery of no transactional message
        source = Source("transactional", 0, None, None, None, 0, "email", body["subject"])
        delivery = ws.add_message(source, person)
    return Reply(200, {"delivery_id": delivery["id"], "queued_at": ws.now()})
