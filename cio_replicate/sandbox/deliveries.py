"""Messages (deliveries) and activities, computed on demand from their index.

Message j (0-based) of the base set: created increases with j (EPOCH - 365 days ... EPOCH),
its source is sources[j % P] and its recipient is base person j % N, so "the messages of a
campaign" and "the messages of a person" are arithmetic progressions that can be walked
without scanning. Listings go newest first (descending index). Messages added later get the
next index and created = clock now, so index order stays time order. Metric changes are an
overlay keyed by index; nothing is materialised for the base set.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from .constants import DAY, EPOCH
from .content import Source
from .message_index import (
    _K_ACT,
    EVENTS,
    FAILURES,
    OPENING,
    base_metrics,
    decode_id,
    descending,
    encode_id,
    has_metric,
    merge_desc,
)
from .people import Ident, PeopleStore, Person, ident_of
from .rand import mix, pick

__all__ = [
    "EVENTS",
    "FAILURES",
    "OPENING",
    "ActivityStore",
    "MessageStore",
    "base_metrics",
    "decode_id",
    "descending",
    "encode_id",
    "has_metric",
    "merge_desc",
]


@dataclass
class MessageStore:
    seed: int
    base: int
    people: PeopleStore
    sources: list[Source]
    t0: int = EPOCH - 365 * DAY
    t1: int = EPOCH - 60
    added: list[dict[str, Any]] = field(default_factory=list)
    metric_overlay: dict[int, dict[str, int]] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return self.base + len(self.added)

    def created(self, j: int) -> int:
        if j >= self.base:
            return int(self.added[j - self.base]["created"])
        return self.t0 + (j * (self.t1 - self.t0)) // max(self.base, 1)

    def message_id(self, j: int) -> str:
        return encode_id(b"dlv", self.seed, j)

    def index_of(self, message_id: str) -> int | None:
        j = decode_id(b"dlv", self.seed, message_id)
        return j if j is not None and j < self.total else None

    def source_of(self, j: int) -> Source:
        if j >= self.base:
            src = self.added[j - self.base]["_source"]
            assert isinstance(src, Source)
            return src
        return self.sources[j % len(self.sources)]

    def get(self, j: int, tracked: bool = False) -> dict[str, Any]:
        if j >= self.base:
            rec = {k: v for k, v in self.added[j - self.base].items() if not k.startswith("_")}
            rec["metrics"] = dict(self.metric_overlay.get(j, rec["metrics"]))
            rec["deduplicate_id"] = f"{rec['id']}:{max(rec['metrics'].values())}"  # last update
            return rec
        src = self.source_of(j)
        person = self.people.base_identity(j % self.people.base)
        created = self.created(j)
        metrics, failure = base_metrics(self.seed, j, created, src.type)
        if j in self.metric_overlay:
            metrics = dict(self.metric_overlay[j])
        rec = self.record(j, src, person, created, metrics, failure)
        if tracked:
            rec["tracked_responses"] = (
                {"Yes": {"id": 1, "ts": metrics["clicked"]}} if "clicked" in metrics else {}
            )
        return rec

    def record(
        self,
        j: int,
        src: Source,
        person: Ident,
        created: int,
        metrics: dict[str, int],
        failure: str | None,
    ) -> dict[str, Any]:
        mid = self.message_id(j)
        if src.type == "email":
            recipient = person.email or ""
        elif src.type == "webhook":
            recipient = "https://hooks.example.com/endpoint"
        elif src.type in ("twilio", "whatsapp"):
            recipient = f"+1555{j % 10_000_000:07d}"
        else:
            recipient = person.device or ""
        last = max(metrics.values())
        return {
            "id": mid,
            "deduplicate_id": f"{mid}:{last}",
            "message_template_id": src.template_id,
            "customer_id": person.id,
            "customer_identifiers": person.identifiers(),
            "recipient": recipient,
            "subject": src.subject if src.type == "email" else "",
            "metrics": metrics,
            "created": created,
            "failure_message": failure,
            "campaign_id": src.parent_id if src.kind == "campaign" else None,
            "action_id": src.action_id,
            "parent_action_id": src.parent_action_id,
            "newsletter_id": src.parent_id if src.kind == "newsletter" else None,
            "content_id": src.content_id,
            "broadcast_id": src.parent_id if src.kind == "broadcast" else None,
            "trigger_event_id": f"01HX{mix(self.seed, j) % 10**12:012d}"
            if src.kind == "campaign" and j % 3 == 0
            else None,
            "forgotten": False,
            "type": src.type,
        }

    def add(
        self,
        src: Source,
        person: Person,
        now: int,
        metrics: dict[str, int] | None = None,
        failure: str | None = None,
        visible_at: int | None = None,
    ) -> dict[str, Any]:
        """A new message created ``now``; ``visible_at``: listed only from then on (a record
        the API's listings show late, with its original ``created``)."""
        j = self.total
        rec = self.record(
            j, src, ident_of(person), now, dict(metrics or {"created": now, "sent": now}), failure
        )
        rec["_source"] = src
        if visible_at is not None:
            rec["_visible_at"] = visible_at
        self.added.append(rec)
        return self.get(j)

    def set_metric(self, j: int, metric: str, ts: int | None) -> dict[str, Any]:
        metrics = dict(self.get(j)["metrics"])
        if ts is None:
            metrics.pop(metric, None)
        else:
            metrics[metric] = ts
        self.metric_overlay[j] = metrics
        return self.get(j)

    # listing ----------------------------------------------------------------
    def time_bounds(self, start_ts: int | None, end_ts: int | None) -> tuple[int, int]:
        """Index range [lo, hi) of messages with start_ts <= created <= end_ts."""
        lo, hi = 0, self.total
        if start_ts is not None:
            lo = bisect.bisect_left(range(self.total), start_ts, key=self.created)
        if end_ts is not None:
            hi = bisect.bisect_right(range(self.total), end_ts, key=self.created)
        return lo, max(lo, hi)

    def candidates(
        self,
        lo: int,
        hi: int,
        *,
        sources: Iterable[Source] | None = None,
        person: Person | None = None,
        now: int | None = None,
    ) -> Iterator[int]:
        """Indices in [lo, hi), newest first, restricted to sources or to one person
        (with ``now``: only the added messages visible by then)."""
        added_part = range(min(hi, self.total) - 1, max(lo, self.base) - 1, -1)
        wanted = set(sources) if sources is not None else None

        def keep_added(j: int) -> bool:
            rec = self.added[j - self.base]
            if now is not None and rec.get("_visible_at", now) > now:
                return False
            if wanted is not None and rec["_source"] not in wanted:
                return False
            return person is None or rec["customer_identifiers"]["cio_id"] == person.cio_id

        yield from (j for j in added_part if keep_added(j))
        top = min(hi, self.base)
        if person is not None:
            if person.index < self.people.base:
                yield from descending(top, lo, person.index, self.people.base)
            return
        if wanted is None:
            yield from descending(top, lo)
            return
        slots = [s for s, src in enumerate(self.sources) if src in wanted]
        P = len(self.sources)
        yield from merge_desc([descending(top, lo, s, P) for s in slots])

    def select(
        self, candidates: Iterator[int], predicate: Callable[[int], bool] | None
    ) -> Iterator[int]:
        return candidates if predicate is None else (j for j in candidates if predicate(j))


@dataclass
class ActivityStore:
    """Activities: base k is person k % N, timestamps spread over the last 30 days."""

    seed: int
    base: int
    people: PeopleStore
    messages: MessageStore
    added: list[dict[str, Any]] = field(default_factory=list)

    @property
    def total(self) -> int:
        return self.base + len(self.added)

    def timestamp(self, k: int) -> int:
        if k >= self.base:
            return int(self.added[k - self.base]["timestamp"])
        return EPOCH - 30 * DAY + (k * (30 * DAY - 60)) // max(self.base, 1)

    def person_index(self, k: int) -> int:
        if k >= self.base:
            return int(self.added[k - self.base]["_person"])
        return k % self.people.base

    def get(self, k: int) -> dict[str, Any]:
        if k >= self.base:
            added = self.added[k - self.base]
            return {key_: v for key_, v in added.items() if not key_.startswith("_")}
        i = k % self.people.base
        person = self.people.base_identity(i)
        h = mix(self.seed, _K_ACT, k)
        rec: dict[str, Any] = {
            "id": encode_id(b"act", self.seed, k),
            "customer_id": person.id,
            "customer_identifiers": person.identifiers(),
            "timestamp": self.timestamp(k),
        }
        kind = h % 6
        rounds = self.messages.base // self.people.base
        if kind in (0, 1) and rounds > 0:
            j = i + self.people.base * (h // 7 % rounds)
            msg = self.messages.get(j)
            rec.update(
                type="sent_email" if kind == 0 else "opened_email",
                delivery_id=msg["id"],
                delivery_type="email",
                data={
                    "delivery_id": msg["id"],
                    "delivered": msg["metrics"].get("delivered"),
                    "opened": "opened" in msg["metrics"],
                },
            )
        elif kind == 2:
            rec.update(
                type="event",
                name=pick(EVENTS, h, 1),
                data={"price": (h % 10_000) / 100, "currency": "EUR", "sku": f"SKU-{h % 97}"},
            )
        elif kind == 3:
            rec.update(
                type="page",
                name="https://example.com/pricing?ref=ü",
                url="https://example.com/pricing?ref=ü",
                data={},
            )
        elif kind == 4:
            rec.update(
                type="attribute_change",
                data={
                    "plan": {
                        "from": pick(("free", ""), h, 2),
                        "to": pick(("pro", "enterprise"), h, 3),
                    }
                },
            )
        else:
            rec.update(type="_o:1:create" if h & 8 else "profile_create", data={})
        return rec

    def add(
        self,
        person: Person,
        now: int,
        atype: str,
        name: str | None,
        data: dict[str, Any],
        visible_at: int | None = None,
    ) -> dict[str, Any]:
        k = self.total
        rec: dict[str, Any] = {
            "id": encode_id(b"act", self.seed, k),
            "customer_id": person.id,
            "customer_identifiers": person.identifiers(),
            "timestamp": now,
            "type": atype,
            "data": data,
            "_person": person.index,
        }
        if name is not None:
            rec["name"] = name
        if visible_at is not None:
            rec["_visible_at"] = visible_at
        self.added.append(rec)
        return self.get(k)

    def candidates(
        self, start: int, person: Person | None = None, now: int | None = None
    ) -> Iterator[int]:
        """Indices below `start`, newest first, optionally of one person (with ``now``:
        only the added activities visible by then)."""
        for k in range(min(start, self.total) - 1, self.base - 1, -1):
            rec = self.added[k - self.base]
            if now is not None and rec.get("_visible_at", now) > now:
                continue
            if person is None or rec["_person"] == person.index:
                yield k
        top = min(start, self.base)
        if person is None:
            yield from descending(top, 0)
        elif person.index < self.people.base:
            yield from descending(top, 0, person.index, self.people.base)
