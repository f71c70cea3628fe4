"""The Customer.io client: regions, auth, rate limits, retries, pagination, fan-out.

Synchronous httpx with a bounded thread pool (``fan_out``) so that the App
API's 10 requests/second are actually used while each request takes 200-300 ms.
The transport is the one seam for I/O: tests pass the sandbox's MockTransport.
"""

from __future__ import annotations

import random
import re
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import quote

import httpx

from .. import __version__
from ..errors import (
    ApiError,
    ConfigError,
    ConnectionFailedError,
    Interrupted,
    RetryExhaustedError,
)
from ..logs import redact
from ..threads import Threads
from .deadline import send_within
from .pagination import Check, Page, envelope_problem, paginate
from .ratelimit import Clock, LimiterRegistry, RateLimiter, Sleep, pause
from .requestlog import Api, LogEntry, RequestLog
from .responses import Endpoint, api_detail, error_for
from .retry import RetryPolicy, classify, parse_retry_after

if TYPE_CHECKING:
    from ..sandbox import Sandbox

T = TypeVar("T")
R = TypeVar("R")

USER_AGENT = f"cio-replicate/{__version__}"
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})
READ_POSTS = frozenset({"/v1/customers", "/v1/customers/attributes", "/v1/objects"})
"""App API searches sent as POST (reference §4.1, §4.15): reads, so always safe to resend."""
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
        sandbox: Sandbox | None = None,
        deadline: float | None = None,
        stop: threading.Event | None = None,
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
    ) -> Any:
        """One App API request (path like ``/v1/campaigns``); the parsed JSON body."""
        return self.request("app", method, path, params=params, json=json, idempotent=idempotent)

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
        """The rate limiter of one budget (``app``, ``track``, ``send``, ...) at its rate."""
        return self._limiters.get(budget, self._rates[budget])

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

        ``idempotent`` (default: GET, HEAD, PUT, DELETE and the App API's search
        POSTs in READ_POSTS) allows retrying after a timeout, 5xx or bad body.
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
            idempotent = method in IDEMPOTENT_METHODS or (api == "app" and path in READ_POSTS)
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
                raise self._gave_up(endpoint, method, path, attempt, waited, result)
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
    ) -> _Attempt:
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
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            result = _Attempt(problem=_describe(exc), unreachable=True)
        except httpx.TransportError as exc:  # read timeouts, truncated bodies, ...
            result = _Attempt(problem=_describe(exc))
        else:
            self._observe_date(response.headers.get("date"))
            try:
                result = self._judge(response, endpoint, method, path, check)
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

    def _judge(
        self,
        response: httpx.Response,
        endpoint: Endpoint,
        method: str,
        path: str,
        check: Check | None = None,
    ) -> _Attempt:
        status = response.status_code
        outcome = classify(status)
        if outcome == "ok":
            valid, body = _parse(response, method)
            if not valid:
                return _Attempt(status=status, problem="truncated or invalid JSON body")
            malformed = check(body) if check is not None else None
            if malformed:
                return _Attempt(status=status, problem=f"malformed response: {malformed}")
            return _Attempt(status=status, body=body)
        if outcome == "retry":
            detail = api_detail(response)
            header = response.headers.get("retry-after")
            return _Attempt(
                status=status,
                problem=f"HTTP {status}" + (f": {detail}" if detail else ""),
                retry_after=parse_retry_after(header, self._wall_clock()),
            )
        return _Attempt(status=status, final=error_for(response, endpoint, method, path))

    def _gave_up(
        self,
        endpoint: Endpoint,
        method: str,
        path: str,
        attempts: int,
        waited: float,
        last: _Attempt,
    ) -> ApiError:
        if last.unreachable:
            if endpoint.overridden:
                advice = f"is a server running there? Else fix {endpoint.url_setting}"
            else:
                advice = (
                    f"check the network and {endpoint.region_hint()}, or set "
                    f"{endpoint.url_setting} to a reachable base URL"
                )
            return ConnectionFailedError(
                f"cannot reach the {endpoint.label} at {endpoint.base_url} ({last.problem}; "
                f"{attempts} attempts): {advice}.",
                method=method,
                path=path,
            )
        return RetryExhaustedError(
            f"{endpoint.label}: {method} {path} still failing after {attempts} attempts and "
            f"{waited:.1f}s of waiting (last: {last.problem}). Giving up: the bound is "
            f"{self.policy.max_total_wait:g}s of waiting (max_retry_wait) and "
            f"{self.policy.max_attempts} attempts; try again later or raise max_retry_wait.",
            status=last.status,
            method=method,
            path=path,
        )


@dataclass(frozen=True)
class _Attempt:
    """The outcome of one HTTP exchange."""

    status: int | None = None
    body: Any = None
    problem: str = ""
    """Why a retry is needed; empty on success."""
    unreachable: bool = False
    """The connection failed: the request never reached the server."""
    retry_after: float | None = None
    final: ApiError | None = None
    """A non-retryable error to raise (401/403/404/other 4xx)."""

    @property
    def unprocessed(self) -> bool:
        """The server surely did not act on the request, so even a POST may be resent."""
        return self.unreachable or self.status in (408, 429)


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
