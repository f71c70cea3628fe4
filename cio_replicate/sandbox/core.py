"""The Sandbox: one simulated workspace answering both APIs, in-process or over loopback.

    sb = Sandbox("tiny", seed=1)
    client = httpx.Client(transport=sb.transport(), base_url="https://api.customer.io")
    sb.requests   # what the sandbox saw (RecordedRequest), in order

Request path: host check (real Customer.io hosts of either region, or loopback) -> latency
-> auth (App: Bearer APP_API_KEY; Track: Basic SITE_ID:TRACK_API_KEY; wrong region -> 401)
-> rate limit (App, 429 + Retry-After) -> injected 429 bursts / 5xx -> route -> the path's
malformed answers (broken envelope, ever-new cursor) -> truncation -> a trickling body.
"""

from __future__ import annotations

import base64
import importlib
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from email.utils import formatdate
from typing import Any

import httpx

from . import routes_app, routes_metrics, routes_people  # noqa: F401  (register the read routes)
from .constants import (
    APP_API_KEY,
    APP_HOSTS,
    LOOPBACK_HOSTS,
    SITE_ID,
    TRACK_API_KEY,
    TRACK_HOSTS,
    Api,
    Region,
)
from .faults import Faults, FaultState, RateLimiter, Trickle
from .router import ROUTES, Call, HttpError, Reply, app_error_body, is_invalid, parse_json
from .scales import Scale
from .simclock import SandboxClock
from .workspace import Workspace

try:  # the write routes (owned by helper WRITE) register themselves when imported
    importlib.import_module(f"{__package__}.writes")
except ModuleNotFoundError as exc:  # pragma: no cover - only before writes.py exists
    if exc.name != f"{__package__}.writes":
        raise

RATE_DETAIL = "rate limited to 10 requests per 1s (reference sandbox)"


@dataclass(frozen=True)
class RecordedRequest:
    api: Api
    method: str
    path: str
    query: dict[str, str]
    body: Any
    status: int
    host: str


def _api_for(host: str, path: str) -> Api | None:
    if path.startswith("/v1/") or path == "/v1":
        return "app"
    if path.startswith(("/api/v1/", "/api/v2/")):
        return "track"
    return None


class Sandbox:
    def __init__(
        self,
        scale: str | Scale = "tiny",
        seed: int = 1,
        region: Region = "us",
        faults: Faults | None = None,
        rate_limit: float | None = None,
        *,
        clock: SandboxClock | None = None,
        sleep: Callable[[float], None] = time.sleep,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        if region not in ("us", "eu"):
            raise ValueError("region must be us or eu")
        self.clock = clock or SandboxClock()
        self.region: Region = region
        self.workspace = Workspace(scale, seed, clock=self.clock, region=region)
        self.faults = faults or Faults()
        self._dice = FaultState(self.faults)
        self._limiter = RateLimiter(rate_limit, monotonic) if rate_limit else None
        self._sleep = sleep
        self._log_lock = threading.Lock()
        self.requests: list[RecordedRequest] = []

    # public surface ---------------------------------------------------------------------
    def set_faults(self, faults: Faults) -> None:
        """Switch the injected faults (e.g. after a good first run); their counters restart."""
        self.faults = faults
        self._dice = FaultState(faults)

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    def handle(self, request: httpx.Request) -> httpx.Response:
        host = request.url.host
        if host not in APP_HOSTS and host not in TRACK_HOSTS and host not in LOOPBACK_HOSTS:
            raise httpx.ConnectError(f"sandbox: unknown host {host}", request=request)
        path = request.url.path
        api = _api_for(host, path)
        if (
            api is None
            or (host in APP_HOSTS and api != "app")
            or (host in TRACK_HOSTS and api != "track")
        ):
            return self._finish(
                request,
                api or "app",
                None,
                404,
                app_error_body(404, f"no route for {request.method} {path}"),
                {},
            )
        body = parse_json(request.content)
        truncate = False
        try:
            reply, truncate = self._process(request, api, host, path, body)
        except HttpError as err:
            reply = Reply(err.status, err.body, err.headers)
        payload = self._dice.shape(path, reply.status, reply.body)
        slow = self._dice.trickle(path, reply.status)
        return self._finish(
            request, api, body, reply.status, payload, reply.headers, truncate, slow
        )

    # internals --------------------------------------------------------------------------
    def _process(
        self, request: httpx.Request, api: Api, host: str, path: str, body: Any
    ) -> tuple[Reply, bool]:
        if self.faults.latency:
            self._sleep(self.faults.latency)
        self._authenticate(request, api, host)
        if api == "app" and self._limiter is not None and not self._limiter.admit():
            raise HttpError(429, app_error_body(429, RATE_DETAIL), {"Retry-After": "1"})
        burst, error_status, truncate = self._dice.roll()
        if burst:
            if api == "app":
                raise HttpError(429, app_error_body(429, RATE_DETAIL), {"Retry-After": "1"})
            raise HttpError(429, None, {"Retry-After": "1"})
        if error_status is None and self._dice.failing(path):
            error_status = 503
        if error_status is not None:
            raise HttpError(error_status, _fault_body(error_status))
        # Route on the raw path so an encoded "/" inside an identifier stays inside it.
        raw_path = request.url.raw_path.split(b"?", 1)[0].decode("ascii", "replace")
        route, params = ROUTES.resolve(request.method, raw_path)
        if is_invalid(body):
            raise HttpError(
                400,
                app_error_body(400, "request body is not valid JSON")
                if api == "app"
                else {"meta": {"errors": ["invalid JSON"]}},
            )
        query = dict(request.url.params.multi_items())
        if self._dice.endless(path):
            query.pop("start", None)  # the ever-new cursor leads back to the first page
        call = Call(api, request.method.upper(), path, params, query, body, self.workspace)
        with self.workspace.lock:
            reply = route.handler(call)
        return reply, truncate and 200 <= reply.status < 300 and reply.body is not None

    def _authenticate(self, request: httpx.Request, api: Api, host: str) -> None:
        header = request.headers.get("authorization", "")
        if api == "app":
            wrong_region = host in APP_HOSTS and APP_HOSTS[host] != self.region
            if header != f"Bearer {APP_API_KEY}" or wrong_region:
                detail = (
                    "Unauthorized: this App API key belongs to the other region's host"
                    if wrong_region and header == f"Bearer {APP_API_KEY}"
                    else "Unauthorized: check the App API key (not the Track API key)"
                )
                raise HttpError(401, app_error_body(401, detail, "invalid_credentials"))
            return
        expected = "Basic " + base64.b64encode(f"{SITE_ID}:{TRACK_API_KEY}".encode()).decode()
        # A US account on the EU host fails; an EU account on the US host is redirected by
        # Customer.io and still served, which the sandbox answers directly.
        wrong_region = host in TRACK_HOSTS and TRACK_HOSTS[host] == "eu" and self.region == "us"
        if header != expected or wrong_region:
            raise HttpError(401, None, {"WWW-Authenticate": 'Basic realm="Customer.io"'})

    def _finish(
        self,
        request: httpx.Request,
        api: Api,
        body: Any,
        status: int,
        payload: Any,
        headers: Any,
        truncate: bool = False,
        slow: bool = False,
    ) -> httpx.Response:
        record = RecordedRequest(
            api,
            request.method.upper(),
            request.url.path,
            dict(request.url.params.multi_items()),
            None if is_invalid(body) else body,
            status,
            request.url.host,
        )
        with self._log_lock:
            self.requests.append(record)
        out_headers = dict(headers or {})
        # The server's clock, as every HTTP server sends it (RFC 9110 section 6.6.1).
        out_headers.setdefault("Date", formatdate(self.clock.now(), usegmt=True))
        if isinstance(payload, bytes):
            content = payload
            out_headers.setdefault("Content-Type", "text/html; charset=utf-8")
        elif payload is None:
            content = b""
        else:
            content = json.dumps(payload, ensure_ascii=False).encode()
            out_headers["Content-Type"] = "application/json; charset=utf-8"
        if truncate:
            content = content[: max(1, len(content) // 2)]
        if slow:
            f = self.faults
            out_headers["Content-Length"] = str(len(content))
            stream = Trickle(content, f.slow_body, f.slow_body_chunk, self._sleep)
            return httpx.Response(status, headers=out_headers, stream=stream, request=request)
        return httpx.Response(status, content=content, headers=out_headers, request=request)


def _fault_body(status: int) -> Any:
    if status == 500:
        return app_error_body(500, "internal server error")
    return f"<html><body><h1>{status}</h1>upstream unavailable</body></html>".encode()
