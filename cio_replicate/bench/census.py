"""Count what a sandbox workspace holds, for the API-minimum yardstick.

Reads the sandbox's data directly (its read accessors), never our catalog.
"""

from __future__ import annotations

from collections import Counter

from ..sandbox import Workspace
from ..sandbox.constants import ACTIONS_PAGE_SIZE
from .apimin import Counts


def census(ws: Workspace) -> Counts:
    store = ws.messages
    per_source: Counter[tuple[str, int]] = Counter()
    for j in range(store.total):
        source = store.source_of(j)
        per_source[(source.kind, source.parent_id)] += 1
    deleted = ws.people.deleted
    activities = sum(
        1 for k in range(ws.activities.total) if ws.activities.person_index(k) not in deleted
    )

    def ids(table: str) -> list[int]:
        return [int(r["id"]) for r in ws.records(table)]

    return Counts(
        people=ws.people.count(),
        messages=store.total,
        activities=activities,
        segment_members=tuple(
            sum(1 for i in range(ws.people.total) if ws.is_member(i, sid))
            for sid in ids("segments")
        ),
        campaign_actions=tuple(len(ws.campaign_actions(cid)) for cid in ids("campaigns")),
        actions_page=ACTIONS_PAGE_SIZE,
        broadcast_messages=tuple(per_source[("broadcast", b)] for b in ids("broadcasts")),
        newsletters=len(ws.records("newsletters")),
        newsletter_messages=tuple(per_source[("newsletter", n)] for n in ids("newsletters")),
        transactional_deliveries=tuple(
            per_source[("transactional", t)] for t in ids("transactional")
        ),
        senders=len(ws.records("senders")),
        objects_per_type=tuple(len(objs) for _, objs in sorted(ws.misc.objects.items())),
    )
