"""Composition: what a client talks to, built from the settings.

``open_client(settings)`` picks the transport (the network, or for source
"sandbox" the built-in simulated workspace in-process), the credentials (the
sandbox's where the settings have none) and one rate limiter per budget, and
hands them to :func:`cio_replicate.http.build_client`. The CLI, the engine's
``replicate_with_settings``, the writeback commands, tests and benchmarks come
here; the HTTP client itself knows no sandbox.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Mapping

import httpx

from .config import Settings
from .http import CioClient, Credentials, RateLimiter, budget_limiters, build_client
from .http.ratelimit import Clock, Sleep

IN_PROCESS = "sandbox (simulated, in-process)"
"""What answers a client of source "sandbox" composed without a transport."""


def open_client(
    settings: Settings,
    *,
    transport: httpx.BaseTransport | None = None,
    limiters: Mapping[str, RateLimiter] | None = None,
    clock: Clock | None = None,
    sleep: Sleep | None = None,
    rng: random.Random | None = None,
    stop: threading.Event | None = None,
) -> CioClient:
    """A client for ``settings``; setting ``stop`` stops its requests (:attr:`CioClient.stopping`).

    Source "sandbox" without a transport runs the built-in sandbox in-process.
    ``limiters`` (one per budget) are shared with whoever else is given them;
    by default the client gets its own (:func:`cio_replicate.http.budget_limiters`)
    on real time, or, with an injected ``sleep`` (which must advance ``clock``),
    on that clock, so tests never wait. ``clock`` (unix seconds) dates log
    entries and Retry-After HTTP dates.
    """
    fallback: Credentials | None = None
    served_by: str | None = None
    if settings.source == "sandbox":
        from . import sandbox  # lazily: only this source needs it

        if transport is None:
            workspace = sandbox.Sandbox(
                scale=settings.sandbox_scale, seed=settings.sandbox_seed, region=settings.region
            )
            transport, served_by = workspace.transport(), IN_PROCESS
        fallback = Credentials(sandbox.APP_API_KEY, sandbox.TRACK_API_KEY, sandbox.SITE_ID)
    if limiters is None:
        if sleep is not None:  # a fake sleep must advance the clock the limiters read
            limiters = budget_limiters(settings, clock=clock or time.monotonic, sleep=sleep)
        else:
            limiters = budget_limiters(settings)
    return build_client(
        settings,
        limiters=limiters,
        transport=transport,
        fallback=fallback,
        served_by=served_by,
        clock=clock,
        sleep=sleep,
        rng=rng,
        stop=stop,
    )
