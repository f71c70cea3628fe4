"""Reporting webhook events, pure: the signature check, the body's parse, the metric rule.

Customer.io signs each POST with HMAC-SHA256 over ``v0:<X-CIO-Timestamp>:<raw body>``
(the webhook's signing key, hex digest in ``X-CIO-Signature``). The body is one event:
``{event_id, object_type, metric, timestamp, data}``; ``data`` holds ``delivery_id``,
``identifiers {id, email, cio_id}``, the parent ids and, for opens, ``proxied``,
``prefetched``, ``synthetic`` (``../shared/reference/customerio-events-and-metrics.md`` §2).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

MAX_AGE = 300
"""Seconds a signed timestamp stays valid (older: a replay, refused); the same ahead."""
MAX_BODY = 10 * 1024 * 1024
"""Bytes of one event (``with_content`` events carry the message's body)."""
PARENT_IDS = (
    "campaign_id",
    "newsletter_id",
    "broadcast_id",
    "action_id",
    "transactional_message_id",
)
_NAME = re.compile(r"^[a-z][a-z0-9_]{0,63}$")

Verdict = Literal["ok", "unsigned", "bad_signature", "stale"]


class Malformed(ValueError):
    """The body is no reporting event (answered 400, nothing stored)."""


def sign(key: str, timestamp: str, body: bytes) -> str:
    """The hex HMAC-SHA256 of ``v0:<timestamp>:<body>`` under ``key``."""
    message = b"v0:" + timestamp.encode() + b":" + body
    return hmac.new(key.encode(), message, hashlib.sha256).hexdigest()


def verify(
    key: str, timestamp: str | None, signature: str | None, body: bytes, now: float
) -> Verdict:
    """Is this request signed with ``key``, within :data:`MAX_AGE` of ``now``?

    The signature is compared in constant time, before the time is looked at, so a
    forged request learns nothing from the answer's timing or its reason.
    """
    if not timestamp or not signature:
        return "unsigned"
    expected = sign(key, timestamp, body)
    if not hmac.compare_digest(expected, signature.strip().lower()):
        return "bad_signature"
    try:
        sent = int(timestamp.strip())
    except ValueError:
        return "bad_signature"
    return "ok" if abs(now - sent) <= MAX_AGE else "stale"


@dataclass(frozen=True)
class Event:
    """One verified event, as stored in ``reporting_events``."""

    event_id: str
    object_type: str
    metric: str
    timestamp: int
    delivery_id: str | None
    payload: Mapping[str, Any]

    def record(self, received_at: float, applied_at: float | None) -> dict[str, Any]:
        """The row's fields (API names; the mapper makes them columns)."""
        data = self.payload.get("data")
        data = data if isinstance(data, Mapping) else {}
        ids = data.get("identifiers")
        ids = ids if isinstance(ids, Mapping) else {}
        record: dict[str, Any] = {
            "event_id": self.event_id,
            "metric": self.metric,
            "object_type": self.object_type,
            "timestamp": self.timestamp,
            "delivery_id": self.delivery_id,
            "customer_id": _text(ids.get("id")) or _text(data.get("customer_id")),
            "email": _text(ids.get("email")),
            "cio_id": _text(ids.get("cio_id")),
            "identifiers": dict(ids) if ids else None,
        }
        for name in PARENT_IDS:
            record[name] = _int(data.get(name))
        record.update(payload=dict(self.payload), received_at=received_at, applied_at=applied_at)
        return record


def parse(body: bytes) -> Event:
    """A verified body -> :class:`Event`; :class:`Malformed` says what is wrong."""
    try:
        payload = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise Malformed(f"the body is not JSON ({exc})") from None
    if not isinstance(payload, dict):
        raise Malformed("the body is not a JSON object")
    event_id = payload.get("event_id")
    if not isinstance(event_id, str) or not event_id.strip() or len(event_id) > 255:
        raise Malformed("event_id must be a non-empty string of at most 255 characters")
    names = {}
    for field in ("object_type", "metric"):
        value = payload.get(field)
        if not isinstance(value, str) or not _NAME.match(value):
            raise Malformed(f"{field} must be a lower-case name such as 'email' or 'opened'")
        names[field] = value
    timestamp = payload.get("timestamp")
    if isinstance(timestamp, bool) or not isinstance(timestamp, int) or not 0 < timestamp < 2**37:
        raise Malformed("timestamp must be unix seconds (an integer)")
    data = payload.get("data", {})
    if not isinstance(data, dict):
        raise Malformed("data must be a JSON object")
    delivery = data.get("delivery_id")
    if delivery is not None and (not isinstance(delivery, str | int) or isinstance(delivery, bool)):
        raise Malformed("data.delivery_id must be a string")
    delivery_id = str(delivery) if delivery not in (None, "") else None
    return Event(event_id, names["object_type"], names["metric"], timestamp, delivery_id, payload)


def merge_metric(metrics: Any, metric: str, at: int) -> dict[str, Any] | None:
    """A delivery's ``metrics`` with ``metric`` at ``at``, or None if nothing changes.

    First occurrence wins: the time is set when the metric is absent, or held later
    than ``at`` (an earlier event arrived late); a held earlier time stays.
    """
    current = dict(metrics) if isinstance(metrics, Mapping) else {}
    held = current.get(metric)
    if isinstance(held, int | float) and not isinstance(held, bool) and held <= at:
        return None
    current[metric] = at
    return current


def _text(value: Any) -> str | None:
    if value is None or value == "":
        return None
    return value if isinstance(value, str) else str(value)


def _int(value: Any) -> int | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None
