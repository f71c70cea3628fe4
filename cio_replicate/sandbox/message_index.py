"""Message arithmetic shared by the delivery stores: ids, descending walks, base metrics.

Split out of deliveries.py (see its docstring for the index model).
"""

from __future__ import annotations

import base64
import heapq
import struct
from collections.abc import Iterator, Sequence

from .rand import frac, key, mix, pick

_K_MSG = key("message")
_K_ACT = key("activity")
EVENTS = ("purchase", "Signed Up", "cart.abandoned", "page viewed 👀", "Plan Changed")
FAILURES = ("550 5.1.1 mailbox unavailable", "Recipient address was suppressed", "timeout")
OPENING = frozenset({"email", "push", "in_app", "whatsapp"})


def encode_id(prefix: bytes, seed: int, index: int) -> str:
    raw = prefix + struct.pack(">HQ", seed & 0xFFFF, index) + mix(seed, index).to_bytes(8, "big")
    return base64.urlsafe_b64encode(raw).decode()


def decode_id(prefix: bytes, seed: int, value: str) -> int | None:
    try:
        raw = base64.urlsafe_b64decode(value.encode())
    except (ValueError, UnicodeEncodeError):
        return None
    if len(raw) != len(prefix) + 18 or not raw.startswith(prefix):
        return None
    s, index = struct.unpack(">HQ", raw[len(prefix) : len(prefix) + 10])
    return index if s == seed & 0xFFFF and encode_id(prefix, seed, index) == value else None


def descending(start: int, stop: int, residue: int | None = None, step: int = 1) -> Iterator[int]:
    """Indices in [stop, start) going down; with a residue, only j % step == residue."""
    if residue is None:
        yield from range(start - 1, stop - 1, -1)
        return
    top = start - 1
    top -= (top - residue) % step
    yield from range(top, stop - 1, -step)


def merge_desc(streams: Sequence[Iterator[int]]) -> Iterator[int]:
    if len(streams) == 1:
        return streams[0]
    return heapq.merge(*streams, reverse=True)


def base_metrics(seed: int, j: int, created: int, mtype: str) -> tuple[dict[str, int], str | None]:
    r = frac(seed, _K_MSG, j, 1)
    m: dict[str, int] = {"created": created}
    if r < 0.02:
        m["drafted"] = created
        return m, None
    if r < 0.05:
        m["failed"] = created + 5
        return m, pick(FAILURES, seed, j)
    m["sent"] = created + 2
    if r < 0.08:
        m["bounced"] = created + 40
        return m, pick(FAILURES, seed, j, 2)
    if r < 0.09:
        m["undeliverable"] = created + 3
        return m, "Recipient address was suppressed"
    if mtype in ("email", "twilio", "push", "whatsapp"):
        m["delivered"] = created + 30
    r2 = frac(seed, _K_MSG, j, 2)
    if mtype in OPENING and r2 < 0.45:
        m["opened"] = created + 600 + int(r2 * 10_000)
        if mtype == "email":
            m["human_opened"] = 1 + (j % 3)
            m["prefetch_opened"] = j % 2
        if r2 < 0.15:
            m["clicked"] = m["opened"] + 120
            if mtype == "email":
                m["human_clicked"] = 1
                m["prefetch_clicked"] = 0
            if r2 < 0.04:
                m["converted"] = m["clicked"] + 3600
    elif mtype in ("webhook", "slack") and r2 < 0.2:
        m["clicked"] = created + 90
    if mtype == "email" and 0.9 < r2 < 0.91:
        m["unsubscribed"] = created + 900
    if mtype == "email" and 0.95 < r2 < 0.955:
        m["spammed"] = created + 1200
    return m, None


def has_metric(metrics: dict[str, int], metric: str) -> bool:
    if metric == "attempted":
        return any(k in metrics for k in ("sent", "failed", "bounced", "undeliverable"))
    return metric in metrics
