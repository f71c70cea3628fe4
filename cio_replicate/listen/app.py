"""The ASGI application: ``POST /reporting`` (signed events), ``GET /healthz``.

Answers: 200 once the event is committed (a duplicate too); 401 for a missing or bad
signature or a timestamp more than 5 minutes away (a replay); 400 for a body that is no
event; 413 for a body over 10 MB; 503 when the database cannot take the event (Customer.io
retries). One log line per request: method, path, status, milliseconds, reason; never a
payload or a header.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from ..clock import Clock, system_clock
from ..logs import emit
from .batcher import Batcher
from .events import MAX_BODY, Malformed, parse, verify

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

_REASONS = {
    "unsigned": "missing X-CIO-Timestamp or X-CIO-Signature",
    "bad_signature": "bad signature",
    "stale": "timestamp more than 5 minutes away (replay?)",
}


def _answer(request: Request, status: int, reason: str) -> JSONResponse:
    request.scope.setdefault("state", {})["cio_reason"] = reason
    body = {"ok": True} if status == 200 else {"error": reason}
    return JSONResponse(body, status_code=status)


def create_app(key: str, batcher: Batcher, *, clock: Clock = system_clock) -> ASGIApp:
    """The receiver's application; ``key`` is the webhook's signing key."""

    async def reporting(request: Request) -> JSONResponse:
        length = request.headers.get("content-length")
        if length is not None and length.isdigit() and int(length) > MAX_BODY:
            return _answer(request, 413, "body over 10 MB")
        body = await request.body()
        if len(body) > MAX_BODY:
            return _answer(request, 413, "body over 10 MB")
        verdict = verify(
            key,
            request.headers.get("x-cio-timestamp"),
            request.headers.get("x-cio-signature"),
            body,
            clock(),
        )
        if verdict != "ok":
            return _answer(request, 401, _REASONS[verdict])
        try:
            event = parse(body)
        except Malformed as exc:
            return _answer(request, 400, str(exc))
        try:
            await asyncio.wrap_future(batcher.submit(event))
        except Exception as exc:
            return _answer(request, 503, f"not stored ({type(exc).__name__}); retry")
        return _answer(request, 200, "stored")

    async def healthz(request: Request) -> JSONResponse:
        if not batcher.alive or not batcher.healthy:
            return _answer(request, 503, "the database does not take events")
        return _answer(request, 200, "ok")

    app = Starlette(
        routes=[
            Route("/reporting", reporting, methods=["POST"]),
            Route("/healthz", healthz, methods=["GET"]),
        ]
    )
    return access_log(app)


def access_log(app: ASGIApp) -> ASGIApp:
    """One line per HTTP request in the process's log format (text or JSON lines)."""

    async def logged(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        started = time.perf_counter()
        status = [500]

        async def send_status(message: Message) -> None:
            if message["type"] == "http.response.start":
                status[0] = int(message["status"])
            await send(message)

        try:
            await app(scope, receive, send_status)
        finally:
            ms = round((time.perf_counter() - started) * 1000, 1)
            reason = scope.get("state", {}).get("cio_reason", "")
            method, path = scope.get("method", ""), scope.get("path", "")
            emit(
                "listen.request",
                f"{method} {path} {status[0]} {ms}ms {reason}".rstrip(),
                level="info" if status[0] < 500 else "warning",
                method=method,
                path=path,
                status=status[0],
                ms=ms,
                reason=reason,
                client=(scope.get("client") or ("", 0))[0],
            )

    return logged
