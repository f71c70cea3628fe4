"""Paths and budgets: percent-encoded path segments, and which rate-limit budget a
request draws from (reference §2.1)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from urllib.parse import quote

from ..errors import ApiError
from .requestlog import Api

BUDGETS = ("app", "track", "transactional", "broadcast_trigger")
"""The rate-limit budgets: a client needs one limiter for each."""
BROADCAST_TRIGGER_RATE = 0.1
"""POST /v1/campaigns/{id}/triggers: 1 request every 10 seconds (reference §2.1)."""
_TRIGGER = re.compile(r"^/v1/campaigns/[^/]+/triggers$")


def segment(value: object) -> str:
    """One percent-encoded path segment (``@`` -> ``%40``, ``/`` -> ``%2F``)."""
    return quote(str(value), safe="")


def render_path(template: str, values: Mapping[str, object]) -> str:
    """``/v1/campaigns/{campaign_id}/actions`` with each value percent-encoded."""
    try:
        return template.format_map({k: segment(v) for k, v in values.items()})
    except KeyError as exc:
        raise ApiError(f"no value for {{{exc.args[0]}}} in path {template}") from None


def budget_for(api: Api, method: str, path: str) -> str:
    """The rate-limit budget a request draws from."""
    if api == "track":
        return "track"
    if path.startswith("/v1/send/"):
        return "transactional"
    if method.upper() == "POST" and _TRIGGER.match(path):
        return "broadcast_trigger"
    return "app"
