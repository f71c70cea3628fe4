"""``webhook setup``: create or update the workspace's reporting webhook for a receiver.

Through the App API (``GET``/``POST /v1/reporting_webhooks``, ``PUT .../{id}``): a webhook
whose endpoint is the URL (else whose name is the name) is updated, else one is created.
The signing key is shown by Customer.io (Data & Integrations > Reporting webhooks), not
returned by the API: the receiver gets it from ``webhook_signing_key``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Literal

from ..catalog.writes import WEBHOOK_EVENTS
from ..errors import ConfigError
from ..http import CioClient

DEFAULT_NAME = "cio-replicate listen"
DELIVERY_EVENTS = tuple(sorted(e for e in WEBHOOK_EVENTS if not e.startswith("customer_")))
"""Every delivery event (the ones that set a delivery's metrics)."""
ALL_EVENTS = tuple(sorted(WEBHOOK_EVENTS))


def choose_events(names: Iterable[str]) -> list[str]:
    """``--event`` values (none: every delivery event; ``all``: the customer ones too)."""
    chosen = list(names)
    if not chosen:
        return list(DELIVERY_EVENTS)
    if chosen == ["all"]:
        return list(ALL_EVENTS)
    unknown = [n for n in chosen if n not in WEBHOOK_EVENTS]
    if unknown:
        raise ConfigError(
            f"unknown event {unknown[0]!r}: use names like email_opened, sms_delivered, "
            f"customer_unsubscribed (or all)",
            key="event",
        )
    return chosen


def setup_webhook(
    client: CioClient,
    url: str,
    *,
    name: str = DEFAULT_NAME,
    events: list[str],
    full_resolution: bool = False,
    with_content: bool = False,
) -> tuple[Literal["created", "updated"], dict[str, Any]]:
    """Create or update the webhook posting ``events`` to ``url``; (what was done, the webhook)."""
    listing = client.app("GET", "/v1/reporting_webhooks")
    hooks = listing.get("reporting_webhooks") if isinstance(listing, dict) else None
    hooks = [h for h in hooks or [] if isinstance(h, dict)]
    match = next((h for h in hooks if h.get("endpoint") == url), None)
    match = match or next((h for h in hooks if h.get("name") == name), None)
    body = {
        "name": name,
        "endpoint": url,
        "events": events,
        "disabled": False,
        "full_resolution": full_resolution,
        "with_content": with_content,
    }
    if match is None:
        return "created", dict(client.app("POST", "/v1/reporting_webhooks", json=body))
    path = f"/v1/reporting_webhooks/{match['id']}"
    return "updated", dict(client.app("PUT", path, json=body, idempotent=True))
