"""Delivery metrics series of campaigns, actions, broadcasts, newsletters and
transactional messages, and their links (reference section 4, and
customerio-events-and-metrics.md section 4).

Counts are a pure function of (seed, parent kind, parent id, period), zero before the
parent's creation day and after the clock's day, plus what tests add with :meth:`bump`
(a recent day that keeps changing). Two calendars, as the API has them:

- v2 (``version=2``; campaigns and campaign actions): periods of ``res`` in ``tz``
  (only ``UTC`` and fixed offsets are simulated; ``daily`` and ``hourly``), from the
  period holding ``start`` to the one holding ``end``;
- v1 (``period`` + ``steps``): the last ``steps`` periods up to the current one, days
  starting at 00:00 EST (UTC-5, no daylight saving: "Days start at 00:00 EST").
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from .rand import mix

DAY = 86_400
HOUR = 3_600
EST = -5 * HOUR
"""The v1 calendar: "Days start at 00:00 EST" (the reference's ``steps`` text)."""

V1_METRICS = (
    "attempted",
    "bounced",
    "clicked",
    "converted",
    "created",
    "deferred",
    "delivered",
    "drafted",
    "failed",
    "opened",
    "sent",
    "spammed",
    "suppressed",
    "undeliverable",
    "topic_unsubscribed",
    "unsubscribed",
)
V2_METRICS = (
    *V1_METRICS,
    "human_clicked",
    "prefetch_clicked",
    "human_opened",
    "prefetch_opened",
)
LINK_METRICS = ("clicked", "human_clicked", "machine_clicked")
V1_MAX_STEPS = {"hours": 24, "days": 45, "weeks": 12, "months": 121}
V1_LENGTH = {"hours": HOUR, "days": DAY, "weeks": 7 * DAY}
V2_LENGTH = {"hourly": HOUR, "daily": DAY}

_KIND = {"campaign": 1, "campaign_action": 2, "broadcast": 3, "broadcast_action": 4,
         "newsletter": 5, "transactional": 6, "link": 7}  # fmt: skip


def period_start(ts: int, length: int, offset: int = 0) -> int:
    """Start (unix) of the period of ``length`` seconds holding ``ts``, in a zone ``offset``."""
    return ((ts + offset) // length) * length - offset


@dataclass(frozen=True)
class Bump:
    kind: str
    parent_id: int
    ts: int
    metric: str
    n: int


@dataclass
class MetricsStore:
    seed: int
    bumps: list[Bump] = field(default_factory=list)
    """Counts added by tests (a recent day that keeps changing)."""

    def bump(self, kind: str, parent_id: int, ts: int, metric: str, n: int = 1) -> None:
        """Count ``n`` more ``metric`` at ``ts`` (in whichever period holds it)."""
        self.bumps.append(Bump(kind, parent_id, ts, metric, n))

    def count(
        self,
        kind: str,
        parent_id: int,
        metric: str,
        start: int,
        length: int,
        created: int,
        now: int,
    ) -> int:
        """One metric of one period (``start`` .. ``start + length``)."""
        if start + length <= created or start > now:
            return 0
        h = mix(self.seed, _KIND[kind], parent_id, start, *metric.encode())
        busy = metric in ("sent", "delivered", "created", "attempted")
        base = h % (40 if busy else 7) if length >= DAY else h % 3
        extra = sum(
            b.n
            for b in self.bumps
            if (b.kind, b.parent_id, b.metric) == (kind, parent_id, metric)
            and start <= b.ts < start + length
        )
        return base + extra

    def series(
        self,
        kind: str,
        parent_id: int,
        metrics: Sequence[str],
        starts: Sequence[int],
        length: int,
        created: int,
        now: int,
    ) -> dict[str, list[int]]:
        return {
            m: [self.count(kind, parent_id, m, s, length, created, now) for s in starts]
            for m in metrics
        }

    def links(self, kind: str, parent_id: int) -> list[dict[str, Any]]:
        """The tracked links of a parent's messages (0 to 3)."""
        n = mix(self.seed, _KIND[kind], parent_id, 99) % 4
        base = _KIND[kind] * 100_000 + parent_id * 10
        return [
            {"id": base + i, "href": f"https://example.com/{kind}/{parent_id}/l{i}?utm=ü"}
            for i in range(n)
        ]
