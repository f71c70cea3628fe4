"""Error responses -> errors that say what to do.

Customer.io's error bodies come in several shapes (reference §2.3):
App ``{"errors":[{"detail": ...}]}``, transactional ``{"meta":{"error": ...}}``,
Track v1 ``{"meta":{"errors":[...]}}``, Track v2 ``{"errors":[{"reason","message"}]}``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import urlsplit

import httpx

from ..errors import ApiError, AuthError, NotFoundError
from ..logs import redact

Api = Literal["app", "track"]


@dataclass(frozen=True)
class Endpoint:
    """Where one API is reached, for requests and for messages."""

    api: Api
    base_url: str
    region: str
    overridden: bool
    """True when the base URL comes from CIO_APP_API_URL/CIO_TRACK_API_URL, not the region."""

    @property
    def host(self) -> str:
        return urlsplit(self.base_url).netloc

    @property
    def label(self) -> str:
        return "App API" if self.api == "app" else "Track API"

    @property
    def url_setting(self) -> str:
        """The setting that overrides this base URL (config key / env variable)."""
        return f"{self.api}_api_url / CIO_{self.api.upper()}_API_URL"

    def region_hint(self) -> str:
        if self.overridden:
            return f"the base URL {self.base_url} ({self.url_setting}) and region {self.region!r}"
        other = "eu" if self.region == "us" else "us"
        return (
            f"the region (region {self.region!r} uses {self.host}; a workspace in the "
            f"{other.upper()} region needs region = {other!r} / CIO_REGION={other})"
        )


def _strings(items: Any, *keys: str) -> list[str]:
    out: list[str] = []
    for item in items if isinstance(items, list) else []:
        if isinstance(item, dict):
            text = next((str(item[k]) for k in keys if item.get(k)), None)
            if text is None:
                continue
            field = item.get("field")
            out.append(f"{field}: {text}" if field else text)
        elif item:
            out.append(str(item))
    return out


def api_detail(response: httpx.Response) -> str:
    """The API's own explanation of an error, as one line (redacted)."""
    try:
        body = response.json()
    except ValueError:
        return redact(" ".join(response.text.split())[:300])
    parts: list[str] = []
    if isinstance(body, dict):
        parts += _strings(body.get("errors"), "detail", "message", "reason")
        meta = body.get("meta")
        if isinstance(meta, dict):
            if meta.get("error"):
                parts.append(str(meta["error"]))
            parts += _strings(meta.get("errors"), "detail", "message")
    elif body:
        parts.append(str(body))
    return redact("; ".join(parts)[:500])


def error_for(response: httpx.Response, endpoint: Endpoint, method: str, path: str) -> ApiError:
    """The error for a non-retryable, non-2xx response."""
    status = response.status_code
    what = f"{method} {path}"
    detail = api_detail(response)
    said = f" (the API said: {detail})" if detail else ""
    kwargs: dict[str, Any] = {"status": status, "method": method, "path": path}
    if status == 401:
        if endpoint.api == "app":
            check = (
                "the App API key (CIO_APP_API_KEY / app_api_key: an App API key, not the "
                f"tracking key), {endpoint.region_hint()}, and the key's IP allow-list"
            )
        else:
            check = (
                "the site id and the tracking API key (CIO_SITE_ID / site_id and "
                f"CIO_TRACK_API_KEY / track_api_key), and {endpoint.region_hint()}"
            )
        return AuthError(
            f"{endpoint.label} rejected the credentials (401) at {endpoint.host} for {what}. "
            f"Check {check}.{said}",
            **kwargs,
        )
    if status == 403:
        key = "App API key" if endpoint.api == "app" else "tracking API key"
        return AuthError(
            f"{endpoint.label} refused {what} (403 Forbidden) at {endpoint.host}: the {key}'s "
            f"scope does not include {path}; use a key with access to it.{said}",
            **kwargs,
        )
    if status == 404:
        return NotFoundError(f"{endpoint.label}: {what} not found (404){said}", **kwargs)
    if 300 <= status <= 399:
        location = urlsplit(response.headers.get("location", "")).netloc or "another host"
        return ApiError(
            f"{endpoint.label} redirected {what} from {endpoint.host} to {location} ({status}): "
            f"check {endpoint.region_hint()}",
            **kwargs,
        )
    return ApiError(f"{endpoint.label}: {what} failed with {status}{said}", **kwargs)
