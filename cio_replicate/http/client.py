"""The Customer.io client: auth, rate limits, retries, pagination, fan-out.

Synchronous httpx with a bounded thread pool (``fan_out``) so that the App
API's 10 requests/second are actually used while each request takes 200-300 ms.
The transport is the one seam for I/O (tests pass a MockTransport). The client
builds nothing it talks to: the transport, the credentials and one rate limiter
per budget are given (:func:`cio_replicate.connect.open_client` composes them),
and it knows no catalog: a caller sending a read as POST says so
(``idempotent=True``).
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from email.utils import parsedate_to_datetime
from typing import Any, TypeVar

import httpx

from .. import __version__
from ..errors import ApiError, ConfigError, Interrupted
from ..threads import Threads
from .attempt import Attempt, failed, gave_up, judge
from .deadline import send_within
from .pagination import Check, Page, envelope_problem, paginate
from .paths import BUDGETS, budget_for
from .ratelimit import Clock, RateLimiter, Sleep, pause
from .requestlog import Api, LogEntry, RequestLog
from .responses import Endpoint
from .retry import RetryPolicy

T = TypeVar("T")
R = TypeVar("R")

USER_AGENT = f"cio-replicate/{__version__}"
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})


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
        limiters: Mapping[str, RateLimiter],
        policy: RetryPolicy,
        concurrency: int,
        wall_clock: Clock = time.time,
        sleep: Sleep = time.sleep,
        rng: random.Random | None = None,
        served_by: str | None = None,
        deadline: float | None = None,
        stop: threading.Event | None = None,
    ) -> None:
        self._http = http
        self.app_endpoint = app
        self.track_endpoint = track
        self._app_headers = {"Authorization": f"Bearer {app_key}"}
        self._track_auth = httpx.BasicAuth(*track_auth) if track_auth else None
        missing = [budget for budget in BUDGETS if budget not in limiters]
        if missing:
            raise ValueError(f"no rate limiter for the budget(s) {', '.join(missing)}")
        self._limiters = dict(limiters)
        self.policy = policy
        self.concurrency = concurrency
        self._wall_clock = wall_clock
        self._sleep = sleep
        self._rng = rng or random.Random()
        self.log = RequestLog()
        self.served_by = served_by
        """Who answers when no network host does (the built-in sandbox in-process:
        "sandbox (simulated, in-process)"); None: the endpoints' base URLs."""
        self.deadline = deadline
        """Seconds a whole request (to the body's last byte) may take; None: no bound."""
        self._source_offset: float | None = None
        self.stopping = stop or threading.Event()
        """Set: stop. No request starts any more (each raises :class:`Interrupted`),
        waits (rate limit, backoff) end early, failures are no longer retried."""

    def __repr__(self) -> str:
        return f"CioClient(app={self.app_endpoint.base_url}, track={self.track_endpoint.base_url})"

    def __enter__(self) -> CioClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def stop(self) -> None:
        """Ask every thread using this client to stop (see :attr:`stopping`)."""
        self.stopping.set()

    def _check_stop(self, method: str, path: str) -> None:
        if self.stopping.is_set():
            raise Interrupted(f"interrupted: {method} {path} not sent (stop requested)")

    # --- requests ---------------------------------------------------------

    def app(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        idempotent: bool | None = None,
        check: Check | None = None,
    ) -> Any:
        """One App API request (path like ``/v1/campaigns``); the parsed JSON body.

        ``check`` judges the parsed body (:meth:`request`)."""
        return self.request(
            "app", method, path, params=params, json=json, idempotent=idempotent, check=check
        )

    def track(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        idempotent: bool | None = None,
    ) -> Any:
        """One Track API request (path like ``/api/v1/customers/x``); the parsed JSON body."""
        return self.request("track", method, path, params=params, json=json, idempotent=idempotent)

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
        """Pages of a cursor-paginated list (``start`` in, ``next`` out). Reads: always retried."""

        def check(body: Any) -> str | None:
            return envelope_problem(body, envelope)

        def fetch(query: dict[str, Any]) -> Any:
            return self.request(
                api, method, path, params=query, json=json, idempotent=True, check=check
            )

        return paginate(
            fetch,
            envelope=envelope,
            params=params,
            page_size=page_size,
            limit_param=limit_param,
            where=f"{method} {path}",
        )

    def fan_out(
        self, fn: Callable[[T], R], items: Iterable[T], threads: Threads | None = None
    ) -> Iterator[R]:
        """``fn`` over ``items`` on up to ``concurrency`` threads; results in input order.

        At most 2 x concurrency items are in flight, so a long input is not
        submitted at once. The first exception (in input order) propagates.
        A replication run passes its own budget (``threads``): the fan-outs of
        all its objects then share it (:mod:`cio_replicate.threads`).
        """
        if self.concurrency <= 1:
            yield from map(fn, items)
            return

        def check() -> None:
            self._check_stop("fan-out", "(further items)")

        if threads is not None:
            yield from threads.map(fn, items, check)
            return
        with Threads(self.concurrency, name="cio-http") as own:
            yield from own.map(fn, items, check)

    def limiter(self, budget: str) -> RateLimiter:
        """The rate limiter of one budget (``app``, ``track``, ``transactional``, ...):
        the one given, shared with whoever was given it too."""
        return self._limiters[budget]

    def request(
        self,
        api: Api,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        idempotent: bool | None = None,
        check: Check | None = None,
    ) -> Any:
        """Send with rate limiting and retries; map errors. Returns the parsed body.

        ``idempotent`` (default: GET, HEAD, PUT and DELETE; the caller passes True
        for a read sent as POST, such as the App API's searches) allows retrying
        after a timeout, 5xx or bad body.
        ``check`` judges a parsed 2xx body: a problem it names (a malformed
        listing page) is retried like a truncated body.
        Otherwise (other POSTs: sends, events, triggers, creates) only failures
        that prove the request was not processed are retried (connection
        refused, 408, 429), so nothing is ever sent twice.
        """
        endpoint = self.app_endpoint if api == "app" else self.track_endpoint
        if api == "track" and self._track_auth is None:
            raise ConfigError(
                "the Track API needs site_id and track_api_key: set CIO_SITE_ID and "
                "CIO_TRACK_API_KEY (or site_id / track_api_key in the config file)",
                key="track_api_key",
            )
        method = method.upper()
        if idempotent is None:
            idempotent = method in IDEMPOTENT_METHODS
        limiter = self.limiter(budget_for(api, method, path))
        waited = 0.0
        attempt = 0
        while True:
            attempt += 1
            self._check_stop(method, path)
            self.log.add_wait(limiter=limiter.acquire(self.stopping))
            self._check_stop(method, path)
            try:
                result = self._attempt(endpoint, method, path, params, json, attempt, check)
            except Exception as exc:
                if self.stopping.is_set():  # e.g. the pool closed under it: a stop, not an error
                    raise Interrupted(f"interrupted: {method} {path} (stop requested)") from exc
                raise
            if not result.problem:
                return result.body
            self._check_stop(method, path)  # not retried after a stop
            if not (idempotent or result.unprocessed):
                raise ApiError(
                    f"{endpoint.label}: {method} {path} failed ({result.problem}); not retried "
                    f"because the {method} may already have been applied: check before resending",
                    status=result.status,
                    method=method,
                    path=path,
                )
            wait = self.policy.next_wait(
                attempt, waited, result.retry_after, self._rng, connect_failure=result.unreachable
            )
            if wait is None:
                raise gave_up(endpoint, method, path, attempt, waited, result, self.policy)
            if result.status == 429:
                limiter.hold(wait)
            pause(self._sleep, wait, self.stopping)
            waited += wait
            self.log.add_wait(retry=wait)

    def _attempt(
        self,
        endpoint: Endpoint,
        method: str,
        path: str,
        params: Mapping[str, Any] | None,
        json: Any,
        attempt: int,
        check: Check | None = None,
    ) -> Attempt:
        """One HTTP exchange, logged. Raises the final (non-retryable) errors."""
        api = endpoint.api
        started = self._wall_clock()
        t0 = time.perf_counter()
        try:
            request = self._http.build_request(
                method,
                endpoint.base_url + path,
                params=params,
                json=json,
                headers=self._app_headers if api == "app" else None,
            )
            auth = self._track_auth if api == "track" else None
            response = send_within(self._http, request, self.deadline, auth)
        except httpx.TransportError as exc:  # refused, read timeouts, truncated bodies, ...
            result = failed(exc)
        else:
            self._observe_date(response.headers.get("date"))
            try:
                result = judge(response, endpoint, method, path, self._wall_clock, check)
            finally:
                # httpx links Response <-> stream in a reference cycle, so each body
                # (2.7 MB for a 30,000-row membership page) would live until the next
                # full collection: break the cycle once the body is parsed.
                response.stream = httpx.ByteStream(b"")
        entry = LogEntry(
            api,
            method,
            path,
            result.status,
            time.perf_counter() - t0,
            attempt,
            started,
            result.problem or None,
        )
        self.log.record(entry)
        if result.final is not None:
            raise result.final
        return result

    def _observe_date(self, header: str | None) -> None:
        """Learn the source's clock from a response's ``Date`` header.

        ``Date`` (whole seconds, taken before the answer left) minus our clock on
        receipt is never above the true offset, so the largest value seen is
        the best estimate that still never runs ahead of the source."""
        if not header:
            return
        try:
            moment = parsedate_to_datetime(header)
        except (TypeError, ValueError, IndexError):
            return
        offset = moment.timestamp() - self._wall_clock()
        if self._source_offset is None or offset > self._source_offset:
            self._source_offset = offset

    def source_time(self) -> float | None:
        """The source's clock now (from the responses' ``Date`` headers), or None
        before any answer carried one."""
        offset = self._source_offset
        return None if offset is None else self._wall_clock() + offset
