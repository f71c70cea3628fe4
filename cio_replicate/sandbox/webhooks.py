"""Reporting webhooks sent by the sandbox: delivery events, signed as Customer.io signs them.

    sender = WebhookSender(sb, "http://127.0.0.1:8080/reporting", "signing-key")
    sender.send_one()          # one event, posted now; its status (0: not reached)
    sender.start(rate=2.0)     # a thread sending 2 events/s until sender.stop()

Each event moves one delivery a step on (delivered, opened, clicked, converted), in the
workspace too, so ``GET /v1/messages`` agrees with what was sent. Body ``{event_id,
object_type, metric, timestamp, data}`` with ``data.delivery_id``, ``data.identifiers``
and the parent ids; the signature is HMAC-SHA256 of ``v0:<X-CIO-Timestamp>:<raw body>``,
hex, in ``X-CIO-Signature`` (reporting-webhooks reference). A failed post is sent again
before any later event, as Customer.io holds later events back behind a failed one.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import random
import threading
import time
from typing import Any

import httpx

from .core import Sandbox

STEPS = ("delivered", "opened", "clicked", "converted")
CHANNELS = {"twilio": "sms", "live_notification": "in_app"}
"""Message ``type`` -> the webhook's ``object_type`` where they differ."""


def signature(signing_key: str, timestamp: str, body: bytes) -> str:
    message = b"v0:" + timestamp.encode() + b":" + body
    return hmac.new(signing_key.encode(), message, hashlib.sha256).hexdigest()


class WebhookSender:
    def __init__(
        self,
        sandbox: Sandbox,
        url: str,
        signing_key: str,
        *,
        seed: int = 0,
        client: httpx.Client | None = None,
    ) -> None:
        self.sandbox = sandbox
        self.url = url
        self.signing_key = signing_key
        self.rng = random.Random(seed)
        self.client = client or httpx.Client(timeout=4.0)  # Customer.io waits 4 s
        self.sent: list[dict[str, Any]] = []
        self._held: dict[str, Any] | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def next_event(self) -> dict[str, Any]:
        """The next event: a random delivery's next step, applied to the workspace."""
        ws = self.sandbox.workspace
        with ws.lock:
            message: dict[str, Any] = {}
            metric = "converted"
            for _ in range(20):
                message = ws.messages.get(self.rng.randrange(ws.messages.total))
                held = message["metrics"]
                if "sent" not in held:
                    continue
                metric = next((m for m in STEPS if m not in held), "converted")
                if metric not in held:
                    break
            now = ws.now()
            ws.set_message_metric(message["id"], metric, now)
        data: dict[str, Any] = {
            "delivery_id": message["id"],
            "identifiers": message["customer_identifiers"],
            "customer_id": message["customer_id"] or "",
            "action_id": message["action_id"],
        }
        for parent in ("campaign_id", "newsletter_id", "broadcast_id"):
            if message.get(parent) is not None:
                data[parent] = message[parent]
        if metric == "opened":
            data.update(proxied=False, prefetched=False, synthetic=False)
        return {
            "event_id": f"01{self.rng.getrandbits(80):020X}",
            "object_type": CHANNELS.get(message["type"], message["type"]),
            "metric": metric,
            "timestamp": now,
            "data": data,
        }

    def send_one(self) -> int:
        """Post the held event (or a new one); its status, 0 when the URL is not reached."""
        event = self._held or self.next_event()
        body = json.dumps(event).encode()
        stamp = str(int(time.time()))  # when it is sent (the event's own time is the sandbox's)
        headers = {
            "Content-Type": "application/json",
            "X-CIO-Timestamp": stamp,
            "X-CIO-Signature": signature(self.signing_key, stamp, body),
        }
        try:
            status = self.client.post(self.url, content=body, headers=headers).status_code
        except httpx.HTTPError:
            status = 0
        self._held = None if status == 200 else event
        if status == 200:
            self.sent.append(event)
        return status

    def start(self, rate: float = 1.0) -> None:
        def loop() -> None:
            while not self._stop.wait(1.0 / rate):
                self.send_one()

        self._thread = threading.Thread(target=loop, name="sandbox-webhooks", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(10)
        self.client.close()
