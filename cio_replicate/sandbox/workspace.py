"""The simulated workspace: generated data, read accessors and the mutation interface.

Reads return exactly the JSON objects the API serves (tests use them to compute expected
rows without HTTP). Mutations stamp times from the sandbox clock: updates bump
`updated`/`updated_at` (and `deduplicate_id`), creations get created = now.

Mutation API (used by writes.py and by tests; call under `ws.lock` from concurrent code):
    create_person / update_person / delete_person        (people.Person values)
    add_to_segment / remove_from_segment / create_segment / delete_segment
    create_collection / update_collection / delete_collection
    put_snippet / delete_snippet
    create_webhook / update_webhook / delete_webhook
    put_object / delete_object / relate / unrelate
    update_record("campaign_actions"|"broadcast_actions"|"contents"|"campaigns"|..., id, fields)
    add_message(source, person) / add_transactional_delivery(tid, person)
    set_message_metric(message_id, metric, ts=None -> now)   (never touches `created`)
    add_activity(person, type, name, data) / create_export(type, description)
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping
from typing import Any

from .constants import ENVIRONMENT_ID, Region
from .content import Source, build_content, dedup
from .deliveries import ActivityStore, MessageStore
from .metrics import MetricsStore
from .misc import CollectionData, build_misc, collection_meta
from .objects import ObjectsMixin
from .people import Ident, PeopleStore, Person, customer_object
from .rand import frac, key
from .scales import Scale, get_scale
from .simclock import SandboxClock

UPDATED_FIELD = {
    "campaigns": "updated",
    "campaign_actions": "updated",
    "broadcasts": "updated",
    "broadcast_actions": "updated",
    "newsletters": "updated",
    "contents": "updated",
    "transactional": "updated_at",
    "segments": "updated_at",
    "collections": "updated_at",
    "exports": "updated_at",
    "webhooks": None,
    "senders": None,
    "triggers": None,
}


class Workspace(ObjectsMixin):
    def __init__(
        self,
        scale: str | Scale = "tiny",
        seed: int = 1,
        *,
        clock: SandboxClock | None = None,
        region: Region = "us",
    ) -> None:
        self.scale = scale if isinstance(scale, Scale) else get_scale(scale)
        self.seed = seed
        self.clock = clock or SandboxClock()
        self.region: Region = region
        self.lock = threading.RLock()
        self.content = build_content(seed, self.scale, self.scale.segments)
        self.misc = build_misc(seed, self.scale)
        self.people = PeopleStore(seed, self.scale.people)
        self.messages = MessageStore(seed, self.scale.messages, self.people, self.content.sources)
        self.activities = ActivityStore(seed, self.scale.activities, self.people, self.messages)
        self.metrics = MetricsStore(seed)
        self.seg_added: dict[int, set[int]] = {}
        self.seg_removed: dict[int, set[int]] = {}
        self.object_order = {t: list(objs) for t, objs in self.misc.objects.items()}
        self.rel_added: dict[tuple[str, str, int], dict[str, Any]] = {}
        self.rel_removed: set[tuple[str, str, int]] = set()

    def now(self) -> int:
        return self.clock.now()

    # generic records ---------------------------------------------------------------
    def table(self, name: str) -> dict[Any, dict[str, Any]]:
        source: Any = self.content if hasattr(self.content, name) else self.misc
        table: dict[Any, dict[str, Any]] = getattr(source, name)
        return table

    def records(self, name: str) -> list[dict[str, Any]]:
        """All records of a small table, sorted by id (snippets by name)."""
        return [self.table(name)[k] for k in sorted(self.table(name))]

    def record(self, name: str, record_id: Any) -> dict[str, Any] | None:
        return self.table(name).get(record_id)

    def touch(self, name: str, rec: dict[str, Any]) -> dict[str, Any]:
        field_name = UPDATED_FIELD.get(name)
        now = self.now()
        if field_name:
            rec[field_name] = now
        if "deduplicate_id" in rec:
            rec["deduplicate_id"] = dedup(rec["id"], now)
        return rec

    def update_record(self, name: str, record_id: Any, fields: Mapping[str, Any]) -> dict[str, Any]:
        rec = self.table(name)[record_id]
        rec.update(fields)
        return self.touch(name, rec)

    def campaign_actions(self, campaign_id: int) -> list[dict[str, Any]]:
        ids = [a["id"] for a in self.content.campaigns[campaign_id]["actions"]]
        return [self.content.campaign_actions[i] for i in ids]

    def broadcast_actions(self, broadcast_id: int) -> list[dict[str, Any]]:
        ids = [a["id"] for a in self.content.broadcasts[broadcast_id]["actions"]]
        return [self.content.broadcast_actions[i] for i in ids]

    def triggers(self, broadcast_id: int) -> list[dict[str, Any]]:
        return [t for t in self.records("triggers") if t["broadcast_id"] == broadcast_id]

    def newsletter_contents(self, newsletter_id: int) -> list[dict[str, Any]]:
        ids = self.content.newsletters[newsletter_id]["content_ids"]
        return [self.content.contents[i] for i in ids]

    def sources_of(self, kind: str, parent_id: int) -> list[Source]:
        return [s for s in self.messages.sources if s.kind == kind and s.parent_id == parent_id] + [
            m["_source"]
            for m in self.messages.added
            if m["_source"].kind == kind and m["_source"].parent_id == parent_id
        ]

    # people ------------------------------------------------------------------------
    def customer(self, person: Person, requested_id: str | None = None) -> dict[str, Any]:
        return customer_object(person, requested_id)

    def iter_people(self, start: int = 0) -> Iterator[Person]:
        return self.people.iter_from(start)

    def create_person(
        self,
        id: str | None = None,
        email: str | None = None,
        attributes: Mapping[str, Any] | None = None,
    ) -> Person:
        if id is None and email is None:
            raise ValueError("a person needs an id or an email")
        return self.people.create(id, email, dict(attributes or {}), self.now())

    def update_person(self, person: Person, changes: Mapping[str, Any]) -> Person:
        current = self.people.get(person.index)
        if current is None:
            raise KeyError(f"person {person.cio_id} does not exist")
        return self.people.update(current, changes, self.now())

    def delete_person(self, person: Person) -> None:
        self.people.delete(person)

    # segments ----------------------------------------------------------------------
    def is_member(self, index: int, segment_id: int) -> bool:
        if index in self.people.deleted or index >= self.people.total:
            return False
        if index in self.seg_added.get(segment_id, ()):
            return True
        if index in self.seg_removed.get(segment_id, ()) or index >= self.people.base:
            return False
        share = self.misc.segment_share.get(segment_id, 0.0)
        return frac(self.seed, key("member"), segment_id, index) < share

    def segment_members(self, segment_id: int, start: int = 0) -> Iterator[tuple[int, Ident]]:
        """(index, identifiers) of the members, in person order, from index `start`."""
        for index in range(max(start, 0), self.people.total):
            if self.is_member(index, segment_id):
                ident = self.people.ident(index)
                if ident is not None:
                    yield index, ident

    def segment_count(self, segment_id: int) -> int:
        return sum(1 for i in range(self.people.total) if self.is_member(i, segment_id))

    def person_segments(self, person: Person) -> list[dict[str, Any]]:
        return [s for s in self.records("segments") if self.is_member(person.index, s["id"])]

    def add_to_segment(self, segment_id: int, people: list[Person]) -> None:
        for person in people:
            self.seg_added.setdefault(segment_id, set()).add(person.index)
            self.seg_removed.setdefault(segment_id, set()).discard(person.index)

    def remove_from_segment(self, segment_id: int, people: list[Person]) -> None:
        for person in people:
            self.seg_removed.setdefault(segment_id, set()).add(person.index)
            self.seg_added.setdefault(segment_id, set()).discard(person.index)

    def create_segment(self, name: str, description: str = "") -> dict[str, Any]:
        sid = max(self.misc.segments, default=0) + 1
        now = self.now()
        rec = {
            "id": sid,
            "deduplicate_id": dedup(sid, now),
            "name": name,
            "description": description,
            "state": "finished",
            "progress": None,
            "type": "manual",
            "tags": None,
            "created_at": now,
            "updated_at": now,
        }
        self.misc.segments[sid] = rec
        return rec

    def delete_segment(self, segment_id: int) -> None:
        del self.misc.segments[segment_id]

    # collections, snippets, webhooks, exports --------------------------------------
    def create_collection(self, name: str, data: CollectionData) -> dict[str, Any]:
        """A new collection; ids are never reused (a deleted one's id stays gone)."""
        cid = max(self.misc.collection_seq, max(self.misc.collections, default=0)) + 1
        self.misc.collection_seq = cid
        now = self.now()
        self.misc.collection_data[cid] = data
        self.misc.collections[cid] = collection_meta(cid, name, data, now, now)
        return self.misc.collections[cid]

    def update_collection(
        self, cid: int, name: str | None = None, data: CollectionData | None = None
    ) -> dict[str, Any]:
        old = self.misc.collections[cid]
        rows = self.misc.collection_data[cid] if data is None else data
        self.misc.collection_data[cid] = rows
        rec = collection_meta(cid, name or old["name"], rows, old["created_at"], self.now())
        self.misc.collections[cid] = rec
        return rec

    def delete_collection(self, cid: int) -> None:
        del self.misc.collections[cid]
        del self.misc.collection_data[cid]

    def put_snippet(self, name: str, value: str) -> dict[str, Any]:
        rec: dict[str, Any] = {
            "name": name.strip(),
            "value": value.strip(),
            "updated_at": self.now(),
        }
        self.misc.snippets[name.strip()] = rec
        return rec

    def delete_snippet(self, name: str) -> None:
        del self.misc.snippets[name]

    def create_webhook(self, fields: Mapping[str, Any]) -> dict[str, Any]:
        wid = max(self.misc.webhooks, default=0) + 1
        rec = {
            "id": wid,
            "type": "webhook",
            "disabled": False,
            "full_resolution": False,
            "with_content": False,
            **fields,
        }
        rec["id"] = wid
        self.misc.webhooks[wid] = rec
        return rec

    def update_webhook(self, wid: int, fields: Mapping[str, Any]) -> dict[str, Any]:
        rec = self.misc.webhooks[wid]
        rec.update({k: v for k, v in fields.items() if k not in ("id", "type")})
        return rec

    def delete_webhook(self, wid: int) -> None:
        del self.misc.webhooks[wid]

    def create_export(
        self, export_type: str, description: str = "", total: int = 0
    ) -> dict[str, Any]:
        eid = max(self.misc.exports, default=0) + 1
        now = self.now()
        rec = {
            "id": eid,
            "user_id": 7,
            "user_email": "owner@example.com",
            "total": total,
            "deduplicate_id": dedup(eid, now),
            "type": export_type,
            "failed": False,
            "description": description,
            "downloads": 0,
            "created_at": now,
            "updated_at": now,
            "status": "done",
        }
        self.misc.exports[eid] = rec
        return rec

    # messages and activities -------------------------------------------------------
    def add_message(
        self,
        source: Source,
        person: Person,
        metrics: dict[str, int] | None = None,
        *,
        visible_after: int = 0,
    ) -> dict[str, Any]:
        """A message created now; ``visible_after`` seconds: the listings show it only
        that much later (still with this ``created``), as an eventually consistent index."""
        visible = self.now() + visible_after if visible_after > 0 else None
        return self.messages.add(source, person, self.now(), metrics, visible_at=visible)

    def add_transactional_delivery(
        self, transactional_id: int, person: Person, subject: str = "Your one-time code"
    ) -> dict[str, Any]:
        src = Source(
            "transactional", transactional_id, None, None, None, transactional_id, "email", subject
        )
        return self.add_message(src, person)

    def message(self, message_id: str) -> dict[str, Any] | None:
        j = self.messages.index_of(message_id)
        return None if j is None else self.messages.get(j)

    def set_message_metric(
        self, message_id: str, metric: str, ts: int | None = None
    ) -> dict[str, Any]:
        j = self.messages.index_of(message_id)
        if j is None:
            raise KeyError(message_id)
        return self.messages.set_metric(j, metric, self.now() if ts is None else ts)

    def add_activity(
        self,
        person: Person,
        atype: str,
        name: str | None = None,
        data: dict[str, Any] | None = None,
        *,
        visible_after: int = 0,
    ) -> dict[str, Any]:
        """An activity stamped now; ``visible_after``: listed only that many seconds later."""
        visible = self.now() + visible_after if visible_after > 0 else None
        return self.activities.add(
            person, self.now(), atype, name, dict(data or {}), visible_at=visible
        )

    def workspace_info(self) -> dict[str, Any]:
        return {
            "id": ENVIRONMENT_ID,
            "name": f"Sandbox ({self.scale.name})",
            "messages_sent": self.messages.total,
            "billable_messages_sent": self.messages.total,
            "people": self.people.count(),
            "object_types": len(self.misc.object_types),
            "objects": sum(len(o) for o in self.misc.objects.values()),
        }
