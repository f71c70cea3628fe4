"""Later engagement: opens and clicks that reach deliveries days after they were created.

A mutation round of the workspace (the benchmark's day, tests): Customer.io adds a
metric to a delivery's ``metrics`` when a person opens or clicks it, with the Unix second
it happened, and counts human opens/clicks of emails (``human_opened``,
``human_clicked``, reference 4.7). ``created`` never changes, so a replica that only
appends new deliveries never sees these.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .message_index import OPENING

if TYPE_CHECKING:
    from .workspace import Workspace

KINDS = ("campaign", "broadcast", "newsletter", "transactional")
"""Where deliveries come from: each kind has its own delivery listing (and /v1/messages)."""
UNREACHED = ("drafted", "failed", "bounced", "undeliverable")
"""A delivery in one of these states was never delivered: nobody opens it."""


@dataclass(frozen=True)
class Engagement:
    message_id: str
    kind: str
    created: int
    metrics: tuple[str, ...]  # the metrics the round set


def engage(ws: Workspace, message_id: str) -> tuple[str, ...]:
    """The next step of one delivery's engagement, stamped now: an open (then a click) for
    channels that track opens, a click for the others; () when there is nothing left."""
    rec = ws.message(message_id)
    if rec is None:
        raise KeyError(message_id)
    metrics: dict[str, Any] = rec["metrics"]
    if "sent" not in metrics or any(m in metrics for m in UNREACHED):
        return ()
    email = rec["type"] == "email"
    if rec["type"] in OPENING and "opened" not in metrics:
        ws.set_message_metric(message_id, "opened")
        if email:
            ws.set_message_metric(message_id, "human_opened", metrics.get("human_opened", 0) + 1)
        return ("opened",)
    if "clicked" not in metrics:
        ws.set_message_metric(message_id, "clicked")
        if email:
            ws.set_message_metric(message_id, "human_clicked", metrics.get("human_clicked", 0) + 1)
        return ("clicked",)
    return ()


def later_engagement(
    ws: Workspace, *, newer_than: int, older_than: int, per_kind: int
) -> list[Engagement]:
    """Opens/clicks, now, on up to ``per_kind`` deliveries of each kind created between
    ``newer_than`` and ``older_than`` seconds ago (newest first). Call under ``ws.lock``."""
    now = ws.now()
    store = ws.messages
    lo, hi = store.time_bounds(now - newer_than, now - older_than)
    done: list[Engagement] = []
    counts = dict.fromkeys(KINDS, 0)
    for j in store.candidates(lo, hi, now=now):
        kind = store.source_of(j).kind
        if counts[kind] >= per_kind:
            if all(n >= per_kind for n in counts.values()):
                break
            continue
        rec = store.get(j)
        metrics = engage(ws, rec["id"])
        if metrics:
            counts[kind] += 1
            done.append(Engagement(rec["id"], kind, int(rec["created"]), metrics))
    return done
