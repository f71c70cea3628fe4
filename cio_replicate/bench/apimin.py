"""The fewest App API calls a full replication can make: an independent yardstick.

Computed from what the workspace holds (counted from the sandbox's own data,
not from our catalog) and the page maxima the API reference documents
(customerio-api.md sections 4 and 7; where a maximum is UNCONFIRMED the
sandbox, like the team contract, allows 100). Per group of objects:

- a list endpoint costs ceil(records / max page), at least 1 (the sandbox
  cuts the last page by looking ahead, so a full last page is not followed by
  an empty one);
- a child read per parent, where no bulk endpoint exists, costs at least one
  call per parent, plus the extra pages of parents with more than a page;
- people cost ceil(P / 1000) searches plus ceil(P / 100) attribute batches
  (``POST /v1/customers/attributes``), which also yield the per-attribute rows.

Calls made are classified by the path the sandbox saw, with this module's own
patterns, so a wrong path in the catalog shows up as unclassified calls.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

# Documented maxima (customerio-api.md section 7); UNCONFIRMED ones -> 100.
MAX_CUSTOMER_SEARCH = 1000
MAX_ATTRIBUTE_IDS = 100
MAX_MESSAGES = 1000
MAX_ACTIVITIES = 100
MAX_MEMBERSHIP = 30_000
MAX_UNCONFIRMED = 100


@dataclass(frozen=True)
class Counts:
    """What the workspace holds, per object (per parent where reads go per parent)."""

    people: int
    messages: int
    activities: int
    segment_members: tuple[int, ...]  # per segment
    campaign_actions: tuple[int, ...]  # per campaign
    actions_page: int  # the fixed page size of GET /v1/campaigns/{id}/actions (no `limit`)
    broadcast_messages: tuple[int, ...]  # per broadcast
    newsletters: int
    newsletter_messages: tuple[int, ...]  # per newsletter
    transactional_deliveries: tuple[int, ...]  # per transactional template
    senders: int
    objects_per_type: tuple[int, ...]


@dataclass(frozen=True)
class Group:
    name: str
    objects: str  # which catalog objects the group's rows feed (for the reader)
    patterns: tuple[str, ...]  # "METHOD path-regex"
    incremental_filter: bool  # the API can restrict the read to records since a time


def _pages(records: int, size: int) -> int:
    return max(1, math.ceil(records / size))


def _per_parent(children: Iterable[int], size: int | None) -> int:
    return sum(1 if size is None else _pages(n, size) for n in children)


_ID = r"[^/]+"
GROUPS: tuple[Group, ...] = (
    Group(
        "people",
        "Customers, CustomersAttributes",
        ("POST /v1/customers", "POST /v1/customers/attributes"),
        False,
    ),
    Group("segments", "Segments", ("GET /v1/segments",), False),
    Group(
        "segment membership",
        "SegmentMemberships",
        (f"GET /v1/segments/{_ID}/membership",),
        False,
    ),
    Group("campaigns", "Campaigns", ("GET /v1/campaigns",), False),
    Group("campaign actions", "CampaignActions", (f"GET /v1/campaigns/{_ID}/actions",), False),
    Group("broadcasts", "Broadcasts", ("GET /v1/broadcasts",), False),
    Group("broadcast actions", "BroadcastActions", (f"GET /v1/broadcasts/{_ID}/actions",), False),
    Group("broadcast messages", "BroadcastMessages", (f"GET /v1/broadcasts/{_ID}/messages",), True),
    Group(
        "broadcast triggers", "BroadcastTriggers", (f"GET /v1/broadcasts/{_ID}/triggers",), False
    ),
    Group("newsletters", "Newsletters", ("GET /v1/newsletters",), False),
    Group(
        "newsletter variants", "NewsletterVariants", (f"GET /v1/newsletters/{_ID}/contents",), False
    ),
    Group(
        "newsletter messages",
        "NewsletterMessages",
        (f"GET /v1/newsletters/{_ID}/messages",),
        True,
    ),
    Group("messages", "Messages", ("GET /v1/messages",), True),
    Group("collections", "Collections", ("GET /v1/collections",), False),
    Group("exports", "Exports", ("GET /v1/exports",), False),
    Group("snippets", "Snippets", ("GET /v1/snippets",), False),
    Group("reporting webhooks", "ReportingWebhooks", ("GET /v1/reporting_webhooks",), False),
    Group("transactional", "TransactionalMessages", ("GET /v1/transactional",), False),
    Group(
        "transactional deliveries",
        "TransactionalMessageDeliveries",
        (f"GET /v1/transactional/{_ID}/messages",),
        True,
    ),
    Group("activities", "Activities", ("GET /v1/activities",), False),
    Group("sender identities", "SenderIdentities", ("GET /v1/sender_identities",), False),
    Group("object types", "ObjectTypes", ("GET /v1/object_types",), False),
    Group(
        "objects",
        "Objects",
        ("POST /v1/objects", f"GET /v1/objects/{_ID}/.+/attributes"),  # ids may hold "/"
        False,
    ),
)
OTHER = "other (unclassified)"
_COMPILED = tuple(
    (g.name, re.compile(rf"^{p.split(' ', 1)[0]} {p.split(' ', 1)[1]}$"))
    for g in GROUPS
    for p in g.patterns
)


def minimum(counts: Counts) -> dict[str, int]:
    """The fewest calls per group for a full replication."""
    c = counts
    return {
        "people": _pages(c.people, MAX_CUSTOMER_SEARCH) + math.ceil(c.people / MAX_ATTRIBUTE_IDS),
        "segments": 1,
        "segment membership": _per_parent(c.segment_members, MAX_MEMBERSHIP),
        "campaigns": 1,
        "campaign actions": _per_parent(c.campaign_actions, c.actions_page),
        "broadcasts": 1,
        "broadcast actions": len(c.broadcast_messages),
        "broadcast messages": _per_parent(c.broadcast_messages, MAX_UNCONFIRMED),
        "broadcast triggers": len(c.broadcast_messages),
        "newsletters": _pages(c.newsletters, MAX_UNCONFIRMED),
        "newsletter variants": len(c.newsletter_messages),
        "newsletter messages": _per_parent(c.newsletter_messages, MAX_UNCONFIRMED),
        "messages": _pages(c.messages, MAX_MESSAGES),
        "collections": 1,
        "exports": 1,
        "snippets": 1,
        "reporting webhooks": 1,
        "transactional": 1,
        "transactional deliveries": _per_parent(c.transactional_deliveries, MAX_UNCONFIRMED),
        "activities": _pages(c.activities, MAX_ACTIVITIES),
        "sender identities": _pages(c.senders, MAX_UNCONFIRMED),
        "object types": 1,
        "objects": _per_parent(c.objects_per_type, MAX_UNCONFIRMED) + sum(c.objects_per_type),
    }


def minimum_unchanged(counts: Counts) -> dict[str, int]:
    """The fewest calls for a rerun when nothing changed upstream.

    Where the API filters by time (message listings take ``start_ts``), one
    call per listing answers "nothing new"; so does the first page of
    ``GET /v1/activities``, which lists newest first (peers.md section 0, the
    Airbyte connector's notes), so a reader can stop at the first record older
    than its floor. Everything else has to be read in full again: the API has
    no "changed since" filter for it.
    """
    full = minimum(counts)
    per_listing = {
        "broadcast messages": len(counts.broadcast_messages),
        "newsletter messages": len(counts.newsletter_messages),
        "messages": 1,
        "transactional deliveries": len(counts.transactional_deliveries),
        "activities": 1,
    }
    return {name: per_listing.get(name, calls) for name, calls in full.items()}


def records(counts: Counts) -> dict[str, int]:
    """Records the workspace holds, per group where the count is known."""
    c = counts
    return {
        "people": c.people,
        "segment membership": sum(c.segment_members),
        "campaign actions": sum(c.campaign_actions),
        "broadcast messages": sum(c.broadcast_messages),
        "newsletters": c.newsletters,
        "newsletter messages": sum(c.newsletter_messages),
        "messages": c.messages,
        "transactional deliveries": sum(c.transactional_deliveries),
        "activities": c.activities,
        "sender identities": c.senders,
        "objects": sum(c.objects_per_type),
    }


def classify(method: str, path: str) -> str:
    line = f"{method.upper()} {path}"
    for name, pattern in _COMPILED:
        if pattern.match(line):
            return name
    return OTHER


def tally(requests: Iterable[tuple[str, str]]) -> dict[str, int]:
    """Calls per group from (method, path) pairs."""
    out: dict[str, int] = {}
    for method, path in requests:
        name = classify(method, path)
        out[name] = out.get(name, 0) + 1
    return out


@dataclass(frozen=True)
class Efficiency:
    group: str
    objects: str
    made: int
    least: int

    @property
    def ratio(self) -> float | None:
        return self.made / self.least if self.least else None


def compare(made: Mapping[str, int], least: Mapping[str, int]) -> list[Efficiency]:
    rows = [Efficiency(g.name, g.objects, made.get(g.name, 0), least[g.name]) for g in GROUPS]
    if made.get(OTHER):
        rows.append(Efficiency(OTHER, "", made[OTHER], 0))
    return rows


def totals(rows: Sequence[Efficiency], *, only_made: bool = True) -> tuple[int, int]:
    """(calls made, minimum) over the groups the run actually read."""
    chosen = [r for r in rows if r.made or not only_made]
    return sum(r.made for r in chosen), sum(r.least for r in chosen)
