"""Routes of the simulated APIs: method + path template -> handler.

How to add a route (read routes live in routes_*.py, write routes in writes.py):

    from .router import Call, Reply, route, app_error

    @route("app", "PUT", "/v1/snippets")
    def put_snippet(call: Call) -> Reply:
        body = call.json_object()                 # 400 with the App error body if not an object
        name = call.require_str(body, "name")     # 400 if missing
        snippet = call.workspace.put_snippet(name, str(body["value"]))
        return Reply(200, {"snippet": snippet})

Templates use `{name}` placeholders matching one path segment (percent-decoded into
`call.params`). `api` is "app" (paths /v1/...) or "track" (/api/v1/..., /api/v2/...).
Raise `HttpError` (or use `app_error` / `track_error`) for error answers. The module that
defines routes must be imported by sandbox.core (writes.py already is, if present).
Handlers run under the workspace lock, one request at a time.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from .constants import Api

if TYPE_CHECKING:
    from .workspace import Workspace


class HttpError(Exception):
    """An error answer: status, JSON body (or None for an empty body), headers."""

    def __init__(self, status: int, body: Any, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(f"HTTP {status}")
        self.status = status
        self.body = body
        self.headers = dict(headers or {})


def app_error_body(status: int, detail: str, code: str | None = None) -> dict[str, Any]:
    item: dict[str, Any] = {"detail": detail, "status": str(status)}
    if code:
        item["code"] = code
    return {"errors": [item]}


def app_error(status: int, detail: str, code: str | None = None) -> HttpError:
    """The App API error envelope: {"errors":[{"detail", "status": "<code as string>"}]}."""
    return HttpError(status, app_error_body(status, detail, code))


def track_error(status: int, *messages: str) -> HttpError:
    """Track v1 error envelope: {"meta":{"errors":[...]}}."""
    return HttpError(status, {"meta": {"errors": list(messages)}})


@dataclass(frozen=True)
class Reply:
    status: int
    body: Any  # JSON value; None = empty body
    headers: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Call:
    """One request as a handler sees it."""

    api: Api
    method: str
    path: str
    params: Mapping[str, str]
    query: Mapping[str, str]
    body: Any
    workspace: Workspace

    def json_object(self) -> dict[str, Any]:
        if not isinstance(self.body, dict):
            raise self.bad_request("request body must be a JSON object")
        return self.body

    def bad_request(self, detail: str) -> HttpError:
        if self.api == "app":
            return app_error(400, detail)
        return track_error(400, detail)

    def int_param(self, name: str) -> int:
        value = self.params[name]
        if not re.fullmatch(r"-?\d{1,18}", value):
            raise app_error(404, f"{name} {value!r} not found")
        return int(value)

    def int_query(self, name: str) -> int | None:
        raw = self.query.get(name)
        if raw is None or raw == "":
            return None
        try:
            return int(raw)
        except ValueError:
            raise self.bad_request(f"{name} must be an integer") from None

    def bool_query(self, name: str, default: bool = False) -> bool:
        raw = self.query.get(name)
        if raw is None or raw == "":
            return default
        return raw.lower() in ("true", "1", "yes")

    def require_str(self, body: Mapping[str, Any], name: str) -> str:
        value = body.get(name)
        if not isinstance(value, str) or not value.strip():
            raise self.bad_request(f"{name} is required")
        return value


Handler = Callable[[Call], Reply]


@dataclass(frozen=True)
class Route:
    api: Api
    method: str
    template: str
    pattern: re.Pattern[str]
    handler: Handler


def _compile(template: str) -> re.Pattern[str]:
    parts = re.split(r"(\{[a-z_]+\})", template)
    regex = "".join(
        f"(?P<{p[1:-1]}>[^/]+)" if p.startswith("{") else re.escape(p) for p in parts if p
    )
    return re.compile(f"^{regex}$")


class RouteTable:
    def __init__(self) -> None:
        self._routes: list[Route] = []

    def add(self, api: Api, method: str, template: str, handler: Handler) -> None:
        method = method.upper()
        for existing in self._routes:
            if existing.method == method and existing.template == template:
                raise ValueError(f"route registered twice: {method} {template}")
        self._routes.append(Route(api, method, template, _compile(template), handler))

    def resolve(self, method: str, path: str) -> tuple[Route, dict[str, str]]:
        """The route for (method, path); HttpError 404 / 405 otherwise."""
        allowed: list[str] = []
        best: tuple[Route, dict[str, str]] | None = None
        for candidate in self._routes:
            match = candidate.pattern.match(path)
            if not match:
                continue
            if candidate.method != method.upper():
                allowed.append(candidate.method)
                continue
            # Literal segments beat placeholders: prefer the template with fewer params.
            if best is None or len(match.groupdict()) < len(best[1]):
                best = (candidate, {k: unquote(v) for k, v in match.groupdict().items()})
        if best is not None:
            return best
        if allowed:
            detail = f"method {method.upper()} not allowed for {path}"
            raise HttpError(
                405,
                app_error_body(405, detail),
                {"Allow": ", ".join(sorted(set(allowed)))},
            )
        raise app_error(404, f"no route for {method.upper()} {path}")

    def __len__(self) -> int:
        return len(self._routes)

    def templates(self) -> list[tuple[str, str, str]]:
        return [(r.api, r.method, r.template) for r in self._routes]


ROUTES = RouteTable()


def route(api: Api, method: str, template: str) -> Callable[[Handler], Handler]:
    """Decorator registering a handler in the shared route table."""

    def register(handler: Handler) -> Handler:
        ROUTES.add(api, method, template, handler)
        return handler

    return register


def parse_json(raw: bytes) -> Any:
    if not raw:
        return None
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return _INVALID


class _Invalid:
    def __repr__(self) -> str:
        return "<invalid JSON>"


_INVALID = _Invalid()


def is_invalid(body: Any) -> bool:
    return body is _INVALID
