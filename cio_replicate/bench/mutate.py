"""One day of upstream activity in a sandbox workspace, scaled to its size.

Per day: new people (1/365 of them), attribute changes (1 %), new messages
(1/365 of the year's messages) and opens on recent ones, as many later opens and
clicks on deliveries of the last week (of every kind), new activities
(1/30 of the 30-day window), a campaign and an action edited, a segment
gaining members, a snippet and a collection changed, a new export.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from ..sandbox import Workspace
from ..sandbox.constants import DAY
from ..sandbox.engagement import KINDS, later_engagement


@dataclass(frozen=True)
class Day:
    people_created: int
    people_updated: int
    messages_added: int
    metrics_set: int
    old_engaged: int
    activities_added: int
    records_edited: int

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def one_day(ws: Workspace) -> Day:
    """Advance the clock one day and apply the day's changes."""
    scale = ws.scale
    ws.clock.advance(DAY)
    new_people = max(1, scale.people // 365)
    updates = max(1, scale.people // 100)
    new_messages = max(1, scale.messages // 365)
    new_activities = max(1, scale.activities // 30)
    stride = max(1, ws.people.total // updates)
    with ws.lock:
        created = [
            ws.create_person(
                id=f"bench-{ws.now()}-{n}",
                email=f"bench{n}.{ws.now()}@example.com",
                attributes={"plan": "trial", "source": "benchmark"},
            )
            for n in range(new_people)
        ]
        updated = 0
        for index in range(0, ws.people.total, stride):
            person = ws.people.get(index)
            if person is not None and updated < updates:
                ws.update_person(person, {"plan": "pro", "last_seen_day": ws.now() // DAY})
                updated += 1
        sources = ws.messages.sources
        recipients = created or [p for p in ws.iter_people() if p is not None][:10]
        added = [
            ws.add_message(sources[n % len(sources)], recipients[n % len(recipients)])
            for n in range(new_messages)
        ]
        opened = 0
        for message in added[: max(1, len(added) // 3)]:
            ws.set_message_metric(message["id"], "opened")
            opened += 1
        # Opens and clicks reaching deliveries of earlier days (inside the default window).
        engaged = later_engagement(
            ws, newer_than=6 * DAY, older_than=DAY, per_kind=max(1, opened // len(KINDS))
        )
        for n in range(new_activities):
            ws.add_activity(recipients[n % len(recipients)], "event", "purchase", {"n": n})
        edited = 0
        campaigns = ws.records("campaigns")
        if campaigns:
            ws.update_record("campaigns", campaigns[0]["id"], {"name": "Edited by the benchmark"})
            edited += 1
            actions = ws.campaign_actions(campaigns[0]["id"])
            if actions:
                ws.update_record("campaign_actions", actions[0]["id"], {"subject": "New subject"})
                edited += 1
        segments = ws.records("segments")
        if segments:
            ws.add_to_segment(segments[0]["id"], created)
            edited += 1
        ws.put_snippet("bench_footer", f"changed on day {ws.now() // DAY}")
        collections = ws.records("collections")
        if collections:
            ws.update_collection(collections[0]["id"], data=[{"day": ws.now() // DAY}])
            edited += 1
        ws.create_export("customers", "benchmark export")
        edited += 2
    return Day(new_people, updated, new_messages, opened, len(engaged), new_activities, edited)
