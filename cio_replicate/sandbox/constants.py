"""Fixed facts of the simulated workspace: credentials, hosts, page limits, time origin.

Everything here comes from the API reference (/work/shared/reference/customerio-api.md).
Page maxima the reference leaves UNCONFIRMED are capped at 100 (team contract), with a
default of 50.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

APP_API_KEY: Final = "sandbox-app-api-key-0123456789abcdef"
TRACK_API_KEY: Final = "sandbox-track-api-key-fedcba9876543210"
SITE_ID: Final = "sandboxsite01"
ENVIRONMENT_ID: Final = 91532

Region = Literal["us", "eu"]
Api = Literal["app", "track"]

APP_HOSTS: Final[dict[str, Region]] = {"api.customer.io": "us", "api-eu.customer.io": "eu"}
TRACK_HOSTS: Final[dict[str, Region]] = {"track.customer.io": "us", "track-eu.customer.io": "eu"}
LOOPBACK_HOSTS: Final = frozenset({"127.0.0.1", "localhost", "::1", "[::1]", "testserver"})
TRACK_URL: Final[dict[Region, str]] = {
    "us": "https://track.customer.io",
    "eu": "https://track-eu.customer.io",
}

# The sandbox clock starts here (2026-01-01T00:00:00Z); every generated record is older.
EPOCH: Final = 1_767_225_600
DAY: Final = 86_400
MESSAGE_WINDOW: Final = 183 * DAY  # /v1/messages without start_ts/end_ts: last 6 months


@dataclass(frozen=True)
class PageLimit:
    default: int
    maximum: int
    confirmed: bool


UNCONFIRMED: Final = PageLimit(default=50, maximum=100, confirmed=False)
LIMITS: Final[dict[str, PageLimit]] = {
    "customers_search": PageLimit(50, 1000, True),  # POST /v1/customers
    "messages": PageLimit(50, 1000, True),  # GET /v1/messages
    "activities": PageLimit(10, 100, True),  # GET /v1/activities
    "segment_membership": PageLimit(1000, 30000, True),
    "customer_messages": UNCONFIRMED,
    "customer_activities": UNCONFIRMED,
    "customer_relationships": UNCONFIRMED,
    "parent_messages": UNCONFIRMED,  # campaign/broadcast/newsletter/transactional messages
    "newsletters": UNCONFIRMED,
    "sender_identities": UNCONFIRMED,
    "objects": UNCONFIRMED,
    "object_relationships": UNCONFIRMED,
}
ATTRIBUTES_BATCH_MAX: Final = 100  # POST /v1/customers/attributes ids
ACTIONS_PAGE_SIZE: Final = 10  # GET /v1/campaigns/{id}/actions: fixed server page size
