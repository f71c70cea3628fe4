"""The Customer.io client: regions, auth, rate limits, retries, pagination, fan-out.

Synchronous httpx with a bounded thread pool (``fan_out``) so that the App
API's 10 requests/second are actually used while each request takes 200-300 ms.
The transport is the one seam for I/O: tests pass the sandbox's MockTransport.
"""

from __future__ import annotations

import importlib
import random
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, TypeVar
from urllib.parse import quote

import httpx

from .. import __version__
from ..config import REGION_URLS, Settings
from ..errors import ApiError, ConfigError, ConnectionFailedError, RetryExhaustedError
from ..logs import redact, register_secret
from .pagination import Page, paginate
from .ratelimit import LIMITERS, Clock, LimiterRegistry, Sleep
from .requestlog import Api, LogEntry, RequestLog
from .responses import Endpoint, api_detail, error_for
from .retry import RetryPolicy, classify, parse_retry_after

T = TypeVar("T")
R = TypeVar("R")

USER_AGENT = f"cio-replicate/{__version__}"


def segment(value: object) -> str:
    """One percent-encoded path segment (``@`` -> ``%40``, ``/`` -> ``%2F``)."""
    return quote(str(value), safe="")


def render_path(template: str, values: Mapping[str, object]) -> str:
    """``/v1/campaigns/{campaign_id}/actions`` with each value percent-encoded."""
    try:
        return template.format_map({k: segment(v) for k, v in values.items()})
    except KeyError as exc:
        raise ApiError(f"no value for {{{exc.args[0]}}} in path {template}") from None


def budget_for(api: Api, path: str) -> str:
    """The rate-limit budget a request draws from."""
    if api == "track":
        return "track"
    return "transactional" if path.startswith("/v1/send/") else "app"


class CioClient:
    """One client for both APIs. Use as a context manager or call close()."""

    def __init__(
        self,
        *,
        http: httpx.Client,
        app: Endpoint,
        track: Endpoint,
        app_key: str,
        track_auth: tuple[str, str] | None,
        rates: Mapping[str, float],
        limiters: LimiterRegistry,
        policy: RetryPolicy,
        concurrency: int,
        wall_clock: Clock = time.time,
        sleep: Sleep = time.sleep,
        rng: random.Random | None = None,
        sandbox: Any = None,
    ) -> None:
        self._http = http
        self.app_endpoint = app
        self.track_endpoint = track
        self._app_headers = {"Authorization": f"Bearer {app_key}"}
        self._track_auth = httpx.BasicAuth(*track_auth) if track_auth else None
        self._rates = dict(rates)
        self._limiters = limiters
        self.policy = policy
        self.concurrency = concurrency
        self._wall_clock = wall_clock
        self._sleep = sleep
        self._rng = rng or random.Random()
        self.log = RequestLog()
        self.sandbox = sandbox
        """The in-process sandbox when source is "sandbox" (else None)."""

    def __repr__(self) -> str:
        return f"CioClient(app={self.app_endpoint.base_url}, track={self.track_endpoint.base_url})"

    def __enter__(self) -> CioClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    # --- requests ---------------------------------------------------------

    def app(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
    ) -> Any:
        """One App API request (path like ``/v1/campaigns``); the parsed JSON body."""
        return self.request("app", method, path, params=params, json=json)

    def track(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
    ) -> Any:
        """One Track API request (path like ``/api/v1/customers/x``); the parsed JSON body."""
        return self.request("track", method, path, params=params, json=json)

    def paginate(
        self,
        method: str,
        path: str,
        *,
        envelope: str | None,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        page_size: int | None = None,
        limit_param: str = "limit",
        api: Api = "app",
    ) -> Iterator[Page]:
        """Pages of a cursor-paginated list (``start`` in, ``next`` out)."""

        def fetch(query: dict[str, Any]) -> Any:
            return self.request(api, method, path, params=query, json=json)

        return paginate(
            fetch,
            envelope=envelope,
            params=params,
            page_size=page_size,
            limit_param=limit_param,
            where=f"{method} {path}",
        )

    def fan_out(self, fn: Callable[[T], R], items: Iterable[T]) -> Iterator[R]:
        """``fn`` over ``items`` on up to ``concurrency`` threads; results in input order.

        At most 2 x concurrency items are in flight, so a long input is not
        submitted at once. The first exception (in input order) propagates.
        """
        if self.concurrency <= 1:
            yield from map(fn, items)
            return
        window = self.concurrency * 2
        with ThreadPoolExecutor(self.concurrency, thread_name_prefix="cio-http") as pool:
            pending: deque[Future[R]] = deque()
            try:
                for item in items:
                    pending.append(pool.submit(fn, item))
                    if len(pending) >= window:
                        yield pending.popleft().result()
                while pending:
                    yield pending.popleft().result()
            finally:
                for future in pending:
                    future.cancel()

    def request(
        self,
        api: Api,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
    ) -> Any:
        """Send with rate limiting and retries; map errors. Returns the parsed body."""
        endpoint = self.app_endpoint if api == "app" else self.track_endpoint
        if api == "track" and self._track_auth is None:
            raise ConfigError(
                "the Track API needs site_id and track_api_key: set CIO_SITE_ID and "
                "CIO_TRACK_API_KEY (or site_id / track_api_key in the config file)",
                key="track_api_key",
            )
        method = method.upper()
        budget = budget_for(api, path)
        limiter = self._limiters.get(budget, self._rates[budget])
        auth = self._track_auth if api == "track" else None
        headers = self._app_headers if api == "app" else None
        url = endpoint.base_url + path
        waited = 0.0
        attempt = 0
        while True:
            attempt += 1
            self.log.add_wait(limiter=limiter.acquire())
            started = self._wall_clock()
            t0 = time.perf_counter()
            response: httpx.Response | None = None
            problem = ""
            connect_failure = False
            try:
                response = self._http.request(
                    method, url, params=params, json=json, headers=headers, auth=auth
                )
            except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
                problem, connect_failure = _describe(exc), True
            except httpx.TransportError as exc:  # read timeouts, truncated bodies, ...
                problem = _describe(exc)
            duration = time.perf_counter() - t0
            status = response.status_code if response is not None else None
            if response is not None:
                outcome = classify(response.status_code)
                if outcome == "ok":
                    valid, body = _parse(response, method)
                    if valid:
                        self._record(api, method, path, status, duration, attempt, started)
                        return body
                    problem = "truncated or invalid JSON body"
                elif outcome == "retry":
                    detail = api_detail(response)
                    problem = f"HTTP {response.status_code}" + (f": {detail}" if detail else "")
                else:
                    self._record(api, method, path, status, duration, attempt, started)
                    raise error_for(response, endpoint, method, path)
            self._record(api, method, path, status, duration, attempt, started, problem)
            retry_after = None
            if response is not None:
                header = response.headers.get("retry-after")
                retry_after = parse_retry_after(header, self._wall_clock())
            wait = self.policy.next_wait(
                attempt, waited, retry_after, self._rng, connect_failure=connect_failure
            )
            if wait is None:
                raise self._gave_up(
                    endpoint, method, path, attempt, waited, problem, connect_failure
                )
            if status == 429:
                limiter.hold(wait)
            self._sleep(wait)
            waited += wait
            self.log.add_wait(retry=wait)

    def _record(
        self,
        api: Api,
        method: str,
        path: str,
        status: int | None,
        duration: float,
        attempt: int,
        started: float,
        error: str | None = None,
    ) -> None:
        self.log.record(
            LogEntry(api, method, path, status, duration, attempt, started, error or None)
        )

    def _gave_up(
        self,
        endpoint: Endpoint,
        method: str,
        path: str,
        attempts: int,
        waited: float,
        problem: str,
        connect_failure: bool,
    ) -> ApiError:
        if connect_failure:
            if endpoint.overridden:
                advice = f"is a server running there? Else fix {endpoint.url_setting}"
            else:
                advice = (
                    f"check the network and {endpoint.region_hint()}, or set "
                    f"{endpoint.url_setting} to a reachable base URL"
                )
            return ConnectionFailedError(
                f"cannot reach the {endpoint.label} at {endpoint.base_url} ({problem}; "
                f"{attempts} attempts): {advice}.",
                method=method,
                path=path,
            )
        return RetryExhaustedError(
            f"{endpoint.label}: {method} {path} still failing after {attempts} attempts and "
            f"{waited:.1f}s of waiting (last: {problem}). Giving up: the bound is "
            f"{self.policy.max_total_wait:g}s of waiting (max_retry_wait) and "
            f"{self.policy.max_attempts} attempts; try again later or raise max_retry_wait.",
            method=method,
            path=path,
        )


def _describe(exc: httpx.HTTPError) -> str:
    text = str(exc).strip()
    return redact(f"{type(exc).__name__}: {text}" if text else type(exc).__name__)


def _parse(response: httpx.Response, method: str) -> tuple[bool, Any]:
    """(valid, body). An empty body is fine except for a GET, which must return JSON."""
    if response.status_code == 204 or (not response.content and method != "GET"):
        return True, None
    try:
        return True, response.json()
    except ValueError:  # JSONDecodeError and UnicodeDecodeError
        return False, None


def open_client(
    settings: Settings,
    *,
    transport: httpx.BaseTransport | None = None,
    clock: Clock | None = None,
    sleep: Sleep | None = None,
    rng: random.Random | None = None,
) -> CioClient:
    """A client for ``settings``.

    Source "sandbox" without a transport runs the built-in sandbox in-process.
    An injected ``clock`` (unix seconds) / ``sleep`` also gives the client its
    own rate limiters, so tests never share the process-wide budgets.
    """
    app_key = settings.app_api_key.reveal() if settings.app_api_key else None
    track_key = settings.track_api_key.reveal() if settings.track_api_key else None
    site_id = settings.site_id
    sandbox: Any = None
    if settings.source == "sandbox":
        # imported lazily: only the sandbox source needs the simulated workspace
        sandbox_pkg: Any = importlib.import_module("cio_replicate.sandbox")

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

    limiters = LIMITERS
    if clock is not None or sleep is not None:
        limiters = LimiterRegistry(clock=clock or time.monotonic, sleep=sleep or time.sleep)
    app_default, track_default = REGION_URLS[settings.region]
    concurrency = settings.concurrency
    http = httpx.Client(
        transport=transport,
        timeout=httpx.Timeout(settings.timeout, connect=min(10.0, settings.timeout)),
        limits=httpx.Limits(max_connections=concurrency * 2, max_keepalive_connections=concurrency),
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
        },
        limiters=limiters,
        policy=RetryPolicy(max_total_wait=settings.max_retry_wait),
        concurrency=concurrency,
        wall_clock=clock or time.time,
        sleep=sleep or time.sleep,
        rng=rng,
        sandbox=sandbox,
    )
