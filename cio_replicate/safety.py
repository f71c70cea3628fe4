"""Which source a configuration means, and whether it is safe to use.

The built-in sandbox is the source only when asked (``source = "sandbox"``) or
when nothing at all is configured; any credential, URL, target or config file
means a real workspace, whose missing credentials are then an error. An
``http://`` API URL to a host that is not loopback would send the key in clear:
refused unless ``allow_insecure_http`` is set.
"""

from __future__ import annotations

import ipaddress
from typing import Any
from urllib.parse import urlsplit

from .envnames import env_name
from .errors import ConfigError

CONNECTION_KEYS = (
    "app_api_key",
    "track_api_key",
    "site_id",
    "target_url",
    "app_api_url",
    "track_api_url",
)
"""Settings whose presence means "a real set-up": the sandbox is then never implied."""
SANDBOX_HINT = 'for the built-in simulated workspace set source = "sandbox" (--source sandbox)'


def resolve_source(values: dict[str, Any], origins: dict[str, str], config_path: str | None) -> str:
    """The sandbox only when asked, or when nothing at all is configured."""
    if "source" in values:
        return str(values["source"])
    configured = [key for key in CONNECTION_KEYS if key in values]
    if configured:
        origins["source"] = f"{configured[0]} is set ({origins[configured[0]]})"
        return "customerio"
    if config_path:
        origins["source"] = f"config file {config_path} given"
        return "customerio"
    origins["source"] = "default"  # nothing configured
    return "sandbox"


def check_source_settings(source: str, values: dict[str, Any], origins: dict[str, str]) -> None:
    if source == "sandbox":
        for key in ("app_api_url", "track_api_url"):
            if key in values:
                raise ConfigError(
                    "source is sandbox, which runs in-process and never calls this URL: unset "
                    "it, or for a served sandbox use source = customerio with the URL and the "
                    "credentials `cio-replicate sandbox serve` prints",
                    key=key,
                    source=origins[key],
                )
        return
    if "app_api_key" not in values:
        why = origins["source"]
        why = f"because {why}" if "source" not in values else f"(from {why})"
        raise ConfigError(
            f"no App API key is configured, and the source is customerio {why}: set "
            f"{env_name('app_api_key')} or app_api_key in the config file; {SANDBOX_HINT}",
            key="app_api_key",
        )
    if ("track_api_key" in values) != ("site_id" in values):
        missing = "site_id" if "site_id" not in values else "track_api_key"
        raise ConfigError(
            f"the Track API needs both site_id and track_api_key; set {env_name(missing)} "
            f"or {missing} in the config file",
            key=missing,
        )


def is_loopback(host: str | None) -> bool:
    """localhost, 127.0.0.0/8 or ::1."""
    if not host:
        return False
    if host.lower().rstrip(".") == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_plain_http(values: dict[str, Any], origins: dict[str, str]) -> None:
    """An http:// API URL sends the key in clear: only loopback, unless explicitly allowed."""
    if values.get("allow_insecure_http"):
        return
    for key in ("app_api_url", "track_api_url"):
        url = values.get(key)
        if url is None or not url.lower().startswith("http://"):
            continue
        if not is_loopback(urlsplit(url).hostname):
            raise ConfigError(
                f"{url} is plain http:// to a host that is not loopback, so the API key would "
                f"travel in clear: use https://, or set allow_insecure_http = true "
                f"({env_name('allow_insecure_http')}=true) if the network is trusted",
                key=key,
                source=origins[key],
            )
