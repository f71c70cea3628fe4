"""One HTTP exchange judged: its outcome (:class:`Attempt`), and the error that says
what to do once the retries give up."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from ..errors import ApiError, ConnectionFailedError, RetryExhaustedError
from ..logs import redact
from .pagination import Check
from .ratelimit import Clock
from .responses import Endpoint, api_detail, error_for
from .retry import RetryPolicy, classify, parse_retry_after


@dataclass(frozen=True)
class Attempt:
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


def failed(exc: httpx.HTTPError) -> Attempt:
    """A transport failure: connection errors never reached the server."""
    unreachable = isinstance(exc, (httpx.ConnectError, httpx.ConnectTimeout))
    return Attempt(problem=_describe(exc), unreachable=unreachable)


def judge(
    response: httpx.Response,
    endpoint: Endpoint,
    method: str,
    path: str,
    wall_clock: Clock,
    check: Check | None = None,
) -> Attempt:
    """The outcome of a response: a body, a problem to retry, or a final error."""
    status = response.status_code
    outcome = classify(status)
    if outcome == "ok":
        valid, body = _parse(response, method)
        if not valid:
            return Attempt(status=status, problem="truncated or invalid JSON body")
        malformed = check(body) if check is not None else None
        if malformed:
            return Attempt(status=status, problem=f"malformed response: {malformed}")
        return Attempt(status=status, body=body)
    if outcome == "retry":
        detail = api_detail(response)
        header = response.headers.get("retry-after")
        return Attempt(
            status=status,
            problem=f"HTTP {status}" + (f": {detail}" if detail else ""),
            retry_after=parse_retry_after(header, wall_clock()),
        )
    return Attempt(status=status, final=error_for(response, endpoint, method, path))


def gave_up(
    endpoint: Endpoint,
    method: str,
    path: str,
    attempts: int,
    waited: float,
    last: Attempt,
    policy: RetryPolicy,
) -> ApiError:
    """The error once the retries are spent: unreachable host or still failing."""
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
        f"{policy.max_total_wait:g}s of waiting (max_retry_wait) and "
        f"{policy.max_attempts} attempts; try again later or raise max_retry_wait.",
        status=last.status,
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
