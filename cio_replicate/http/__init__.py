"""The Customer.io HTTP client: regions, auth, rate limits, retries, pagination.

Public surface::

    client = cio_replicate.connect.open_client(settings)   # composed: transport, limiters
    client = build_client(settings, limiters=budget_limiters(settings), transport=...)
    client.app("GET", "/v1/campaigns")      # parsed JSON
    client.app("POST", "/v1/customers", json=..., idempotent=True)  # a read sent as POST
    for page in client.paginate("GET", "/v1/messages", envelope="messages", page_size=100): ...
    client.fan_out(fn, items)               # bounded concurrency, input order
    client.log.snapshot()                   # calls, retries, throttled, wait_seconds
"""

from .client import CioClient
from .factory import Credentials, budget_limiters, build_client
from .pagination import Page, paginate
from .paths import BUDGETS, budget_for, render_path, segment
from .ratelimit import RateLimiter
from .requestlog import LogEntry, LogStats, RequestLog
from .retry import RetryPolicy, classify, parse_retry_after

__all__ = [
    "BUDGETS",
    "CioClient",
    "Credentials",
    "LogEntry",
    "LogStats",
    "Page",
    "RateLimiter",
    "RequestLog",
    "RetryPolicy",
    "budget_for",
    "budget_limiters",
    "build_client",
    "classify",
    "paginate",
    "parse_retry_after",
    "render_path",
    "segment",
]
