"""Typed, frozen settings from a TOML file, the environment and flags.

Precedence: flag > environment > file > default. Every value remembers where it came from
(``Settings.origins``), so an error can name the key and its source. String values in the
file may use ``${ENV_VAR}`` (``$$``: ``$``); secrets are :class:`Secret`, redacted in logs."""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from types import MappingProxyType
from typing import Any, Literal

from .clock import DAY, days_or_duration
from .configvalues import (
    DEFAULT_TARGET_URL,
    check_target_schema,
    parse_base_url,
    parse_bool,
    parse_choice,
    parse_number,
    parse_rate,
    parse_schema_name,
    parse_secret,
    parse_target_url,
)
from .configvalues import (
    TARGET_EXAMPLES as TARGET_EXAMPLES,
)
from .configvalues import masked_url as masked_url
from .configvalues import normalize_target_url as normalize_target_url
from .configvalues import shown_target as shown_target
from .envnames import check_environment
from .envnames import env_name as env_name
from .errors import ConfigError
from .logs import MASK, redact, register_secret
from .safety import check_plain_http, check_source_settings, resolve_source

Source = Literal["customerio", "sandbox"]
Region = Literal["us", "eu"]

REGION_URLS: Mapping[str, tuple[str, str]] = MappingProxyType(
    {
        "us": ("https://api.customer.io", "https://track.customer.io"),
        "eu": ("https://api-eu.customer.io", "https://track-eu.customer.io"),
    }
)
"""Region -> (App API base URL, Track API base URL)."""

# Documented per-budget ceilings (requests/second); above them only with
# allow_unsafe_rate_limit = true. App 10/s is documented; transactional 100/s and
# Track (spec: 1000/s, "not strictly enforced") are UNCONFIRMED at spec level.
RATE_CEILINGS: Mapping[str, float] = MappingProxyType(
    {"rate_limit": 10.0, "transactional_rate_limit": 100.0, "track_rate_limit": 1000.0}
)
SANDBOX_SCALES = ("tiny", "demo", "large")


class Secret:
    """A credential: masked in every repr/str, registered for log redaction."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value
        register_secret(value)

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return f"Secret('{MASK}')"

    def __str__(self) -> str:
        return MASK

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


@dataclass(frozen=True, repr=False)
class Settings:
    source: Source
    region: Region
    app_api_key: Secret | None
    track_api_key: Secret | None
    site_id: str | None
    app_api_url: str
    track_api_url: str
    target_url: str = DEFAULT_TARGET_URL
    rate_limit: float = 10.0
    track_rate_limit: float = 30.0
    transactional_rate_limit: float = 100.0
    allow_unsafe_rate_limit: bool = False
    allow_insecure_http: bool = False
    concurrency: int = 4
    timeout: float = 60.0
    max_retry_wait: float = 120.0
    sandbox_scale: str = "demo"
    sandbox_seed: int = 1
    lookback_seconds: int = 3600
    metrics_lookback: int = 7 * DAY  # seconds; deliveries re-read for their metrics (0: off)
    batch_size: int = 1000
    swap_lock_timeout: float = 3.0
    full_refresh_max_drop: float = 0.5
    webhook_signing_key: Secret | None = None
    deletes: str = "soft"
    column_names: str | None = None  # snake|api; None: snake for a new target, else as recorded
    target_schema: str | None = None  # PostgreSQL schema / MySQL database; None: the URL's
    origins: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))

    def __repr__(self) -> str:
        # Secrets mask themselves; target_url is shown with its password masked
        # (and that password is registered, so redact() catches any other copy).
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        values["target_url"] = masked_url(self.target_url)
        shown = ", ".join(f"{name}={value!r}" for name, value in values.items())
        return redact(f"Settings({shown})")

    __str__ = __repr__


PARSERS: Mapping[str, Callable[[object], Any]] = MappingProxyType(
    {
        "source": parse_choice("customerio", "sandbox"),
        "region": parse_choice("us", "eu"),
        "app_api_key": parse_secret,
        "track_api_key": parse_secret,
        "site_id": parse_secret,
        "app_api_url": parse_base_url,
        "track_api_url": parse_base_url,
        "target_url": parse_target_url,
        "rate_limit": parse_rate,
        "track_rate_limit": parse_rate,
        "transactional_rate_limit": parse_rate,
        "allow_unsafe_rate_limit": parse_bool,
        "allow_insecure_http": parse_bool,
        "concurrency": parse_number(int, 1, 64),
        "timeout": parse_number(float, 0.1, 3600),
        "max_retry_wait": parse_number(float, 0, 86400),
        "sandbox_scale": parse_choice(*SANDBOX_SCALES),
        "sandbox_seed": parse_number(int, 0, 2**31 - 1),
        "lookback_seconds": parse_number(int, 0, 30 * 86400),
        "metrics_lookback": days_or_duration(180),  # the API keeps deliveries 6 months by default
        "batch_size": parse_number(int, 1, 100_000),
        "swap_lock_timeout": parse_number(float, 0.1, 3600),
        "full_refresh_max_drop": parse_number(float, 0, 1),
        "webhook_signing_key": parse_secret,
        "deletes": parse_choice("soft", "hard", "keep"),
        "column_names": parse_choice("snake", "api"),
        "target_schema": parse_schema_name,
    }
)
"""Every configurable key (= Settings field) and its parser."""

SECRET_KEYS = frozenset({"app_api_key", "track_api_key", "webhook_signing_key"})


def flag_name(key: str) -> str:
    return "--" + key.replace("_", "-")


# --- the file ----------------------------------------------------------------

_INTERPOLATION = re.compile(r"\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


def _interpolate(value: Any, key: str, path: str, env: Mapping[str, str]) -> Any:
    if isinstance(value, list):
        return [_interpolate(item, key, path, env) for item in value]
    if not isinstance(value, str):
        return value

    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if name is None:
            return "$"
        if name not in env:
            raise ConfigError(
                f"environment variable {name} is not set (used as ${{{name}}} in {path})",
                key=key,
                source=f"file {path}",
            )
        return env[name]

    return _INTERPOLATION.sub(replace, value)


def read_file(path: str, env: Mapping[str, str]) -> dict[str, Any]:
    """Read a TOML config file into {key: value}, with ${ENV_VAR} interpolated."""
    try:
        with open(path, "rb") as handle:
            data = tomllib.load(handle)
    except FileNotFoundError:
        raise ConfigError(f"config file not found: {path}", key="config") from None
    except OSError as exc:
        raise ConfigError(f"cannot read config file {path}: {exc.strerror}", key="config") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path} is not valid TOML: {exc}", key="config") from None
    unknown = sorted(set(data) - set(PARSERS))
    if unknown:
        raise ConfigError(
            f"unknown key(s) {', '.join(unknown)} in {path}; known keys: {', '.join(PARSERS)}",
            key=unknown[0],
            source=f"file {path}",
        )
    return {key: _interpolate(value, key, path, env) for key, value in data.items()}


# --- assembly ------------------------------------------------------------------


def load_settings(
    config_path: str | None = None,
    env: Mapping[str, str] | None = None,
    flags: Mapping[str, object] | None = None,
    *,
    needs_source: bool = True,
) -> Settings:
    """Parse the configuration once: flag > environment > file > default.

    ``flags`` maps Settings field names to values; None means "not given".
    Empty environment variables count as unset. ``needs_source=False`` (commands
    that only use the target) skips the checks of the source's credentials.
    Raises ConfigError (exit 2).
    """
    env = os.environ if env is None else env
    flags = flags or {}
    unknown_flags = sorted(set(flags) - set(PARSERS))
    if unknown_flags:
        raise ConfigError(f"unknown setting(s) {', '.join(unknown_flags)}", key=unknown_flags[0])
    check_environment(env, {key: env_name(key) for key in PARSERS})
    config_path = config_path or env.get("CIO_CONFIG") or None
    file_values = read_file(config_path, env) if config_path else {}

    raw: dict[str, tuple[object, str]] = {}
    for key in PARSERS:
        if flags.get(key) is not None:
            raw[key] = (flags[key], f"flag {flag_name(key)}")
        elif env.get(env_name(key), "").strip():
            raw[key] = (env[env_name(key)], f"env {env_name(key)}")
        elif key in file_values:
            raw[key] = (file_values[key], f"file {config_path}")

    values: dict[str, Any] = {}
    for key, (value, origin) in raw.items():
        try:
            values[key] = PARSERS[key](value)
        except ValueError as exc:
            reason = "must be a non-empty string" if key in SECRET_KEYS else str(exc)
            raise ConfigError(reason, key=key, source=origin) from None
    origins = {key: origin for key, (_, origin) in raw.items()}
    return _assemble(values, origins, config_path, needs_source)


def _assemble(
    values: dict[str, Any], origins: dict[str, str], config_path: str | None, needs_source: bool
) -> Settings:
    def where(key: str) -> str:
        return origins.get(key, "default")

    allow = bool(values.get("allow_unsafe_rate_limit", False))
    for key, ceiling in RATE_CEILINGS.items():
        if key in values and values[key] > ceiling and not allow:
            raise ConfigError(
                f"must be <= {ceiling:g} requests/second (Customer.io's documented limit); "
                f"set allow_unsafe_rate_limit = true to go above it",
                key=key,
                source=where(key),
            )
    check_plain_http(values, origins)
    check_target_schema(values, origins)
    source = resolve_source(values, origins, config_path)
    if needs_source:
        check_source_settings(source, values, origins)

    region = values.get("region", "us")
    app_default, track_default = REGION_URLS[region]
    for key in SECRET_KEYS:
        if key in values:
            values[key] = Secret(values[key])
    values.update(source=source, region=region)
    values.setdefault("app_api_key", None)
    values.setdefault("track_api_key", None)
    values.setdefault("site_id", None)
    values.setdefault("app_api_url", app_default)
    values.setdefault("track_api_url", track_default)
    for key in PARSERS:
        origins.setdefault(key, "default")
    return Settings(**values, origins=MappingProxyType(origins))
