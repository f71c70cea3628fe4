"""``open_client(settings)``: a :class:`CioClient` for the settings (regions, limits, the
sandbox in-process when source is "sandbox")."""

from __future__ import annotations

import base64
import random
import threading
import time
from typing import TYPE_CHECKING

import httpx

from ..config import REGION_URLS, Settings
from ..errors import ConfigError
from ..logs import register_secret
from .client import BROADCAST_TRIGGER_RATE, USER_AGENT, CioClient
from .ratelimit import LIMITERS, Clock, LimiterRegistry, Sleep
from .responses import Endpoint
from .retry import RetryPolicy

if TYPE_CHECKING:
    from ..sandbox import Sandbox


def open_client(
    settings: Settings,
    *,
    transport: httpx.BaseTransport | None = None,
    clock: Clock | None = None,
    sleep: Sleep | None = None,
    rng: random.Random | None = None,
    stop: threading.Event | None = None,
) -> CioClient:
    """A client for ``settings``; setting ``stop`` stops its requests (:attr:`CioClient.stopping`).

    Source "sandbox" without a transport runs the built-in sandbox in-process.
    ``clock`` (unix seconds) dates log entries and Retry-After HTTP dates. An
    injected ``sleep`` (which must advance ``clock``) also gives the client its
    own rate limiters on that clock, so tests never wait nor share the
    process-wide budgets; with a clock alone the limiters stay on real time.
    """
    app_key = settings.app_api_key.reveal() if settings.app_api_key else None
    track_key = settings.track_api_key.reveal() if settings.track_api_key else None
    site_id = settings.site_id
    sandbox: Sandbox | None = None
    if settings.source == "sandbox":
        from .. import sandbox as sandbox_pkg  # lazily: only this source needs it

        if transport is None:
            sandbox = sandbox_pkg.Sandbox(
                scale=settings.sandbox_scale, seed=settings.sandbox_seed, region=settings.region
            )
            transport = sandbox.transport()
        app_key = app_key or sandbox_pkg.APP_API_KEY
        track_key, site_id = track_key or sandbox_pkg.TRACK_API_KEY, site_id or sandbox_pkg.SITE_ID
    if app_key is None:
        raise ConfigError("no App API key configured: set CIO_APP_API_KEY", key="app_api_key")
    for secret in (app_key, track_key):
        register_secret(secret)
    if site_id and track_key:  # the Basic credentials as they travel (an echo must not show them)
        register_secret(base64.b64encode(f"{site_id}:{track_key}".encode()).decode("ascii"))

    limiters = LIMITERS
    if sleep is not None:  # a fake sleep must advance the clock the limiter reads
        limiters = LimiterRegistry(clock=clock or time.monotonic, sleep=sleep)
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
        rates={
            "app": settings.rate_limit,
            "track": settings.track_rate_limit,
            "transactional": settings.transactional_rate_limit,
            "broadcast_trigger": BROADCAST_TRIGGER_RATE,
        },
        limiters=limiters,
        policy=RetryPolicy(max_total_wait=settings.max_retry_wait),
        concurrency=concurrency,
        wall_clock=clock or time.time,
        sleep=sleep or time.sleep,
        rng=rng,
        sandbox=sandbox,
        deadline=settings.timeout,
        stop=stop,
    )
