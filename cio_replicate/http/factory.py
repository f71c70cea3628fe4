"""``build_client(settings, limiters=...)``: a :class:`CioClient` for the settings
(regions, timeouts, connections, retries) over a given transport, credentials and
rate limiters. What the client talks to is composed elsewhere
(:mod:`cio_replicate.connect`): this module knows no sandbox and no catalog."""

from __future__ import annotations

import base64
import random
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass

import httpx

from ..config import REGION_URLS, Settings
from ..errors import ConfigError
from ..logs import register_secret
from .client import USER_AGENT, CioClient
from .paths import BROADCAST_TRIGGER_RATE
from .ratelimit import Clock, RateLimiter, Sleep
from .responses import Endpoint
from .retry import RetryPolicy


@dataclass(frozen=True, repr=False)
class Credentials:
    """Keys used where the settings have none (the built-in sandbox's). No repr: secrets."""

    app_key: str | None = None
    track_key: str | None = None
    site_id: str | None = None


def budget_limiters(
    settings: Settings, *, clock: Clock = time.monotonic, sleep: Sleep = time.sleep
) -> dict[str, RateLimiter]:
    """One new limiter per budget at the settings' rates: give the same ones to every
    client that must share a budget."""
    rates = {
        "app": settings.rate_limit,
        "track": settings.track_rate_limit,
        "transactional": settings.transactional_rate_limit,
        "broadcast_trigger": BROADCAST_TRIGGER_RATE,
    }
    return {
        name: RateLimiter(rate, name=name, clock=clock, sleep=sleep) for name, rate in rates.items()
    }


def build_client(
    settings: Settings,
    *,
    limiters: Mapping[str, RateLimiter],
    transport: httpx.BaseTransport | None = None,
    fallback: Credentials | None = None,
    served_by: str | None = None,
    clock: Clock | None = None,
    sleep: Sleep | None = None,
    rng: random.Random | None = None,
    stop: threading.Event | None = None,
) -> CioClient:
    """A client for ``settings`` drawing on ``limiters`` (one per budget).

    ``transport`` None: the network. ``fallback`` fills keys the settings lack.
    ``clock`` (unix seconds) dates log entries and Retry-After HTTP dates;
    ``sleep`` is the retry backoff's; setting ``stop`` stops its requests
    (:attr:`CioClient.stopping`).
    """
    spare = fallback or Credentials()
    app_key = settings.app_api_key.reveal() if settings.app_api_key else spare.app_key
    track_key = settings.track_api_key.reveal() if settings.track_api_key else spare.track_key
    site_id = settings.site_id or spare.site_id
    if app_key is None:
        raise ConfigError("no App API key configured: set CIO_APP_API_KEY", key="app_api_key")
    for secret in (app_key, track_key):
        register_secret(secret)
    if site_id and track_key:  # the Basic credentials as they travel (an echo must not show them)
        register_secret(base64.b64encode(f"{site_id}:{track_key}".encode()).decode("ascii"))

    app_default, track_default = REGION_URLS[settings.region]
    concurrency = settings.concurrency
    # The engine runs up to `concurrency` objects at once, each fanning out on up
    # to `concurrency` threads: enough connections that none waits for the pool.
    connections = concurrency * (concurrency + 1)
    http = httpx.Client(
        transport=transport,
        timeout=httpx.Timeout(settings.timeout, connect=min(10.0, settings.timeout)),
        limits=httpx.Limits(max_connections=connections, max_keepalive_connections=connections),
        headers={"User-Agent": USER_AGENT, "Accept": "application/json"},
        follow_redirects=False,
    )
    try:
        return CioClient(
            http=http,
            app=Endpoint(
                "app", settings.app_api_url, settings.region, settings.app_api_url != app_default
            ),
            track=Endpoint(
                "track",
                settings.track_api_url,
                settings.region,
                settings.track_api_url != track_default,
            ),
            app_key=app_key,
            track_auth=(site_id, track_key) if site_id and track_key else None,
            limiters=limiters,
            policy=RetryPolicy(max_total_wait=settings.max_retry_wait),
            concurrency=concurrency,
            wall_clock=clock or time.time,
            sleep=sleep or time.sleep,
            rng=rng,
            served_by=served_by,
            deadline=settings.timeout,
            stop=stop,
        )
    except BaseException:  # e.g. a budget without a limiter: no pool left open
        http.close()
        raise
