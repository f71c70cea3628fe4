"""The Customer.io HTTP client: regions, auth, rate limits, retries, pagination.

Public surface::

    client = open_client(settings)          # or transport=sandbox.transport()
    client.app("GET", "/v1/campaigns")      # parsed JSON
    for page in client.paginate("GET", "/v1/messages", envelope="messages", page_size=100): ...
    client.fan_out(fn, items)               # bounded concurrency, input order
    client.log.snapshot()                   # calls, retries, throttled, wait_seconds
"""

from .client import CioClient, budget_for, render_path, segment
from .factory import open_client
from .pagination import Page, paginate
from .ratelimit import LIMITERS, LimiterRegistry, RateLimiter
from .requestlog import LogEntry, LogStats, RequestLog
from .retry import RetryPolicy, classify, parse_retry_after

__all__ = [
    "LIMITERS",
    "CioClient",
    "LimiterRegistry",
    "LogEntry",
    "LogStats",
    "Page",
    "RateLimiter",
    "RequestLog",
    "RetryPolicy",
    "budget_for",
    "classify",
    "open_client",
    "paginate",
    "parse_retry_after",
    "render_path",
    "segment",
]
