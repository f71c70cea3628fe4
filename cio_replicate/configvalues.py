"""The value parsers of the settings: a raw value (file, environment or flag) to a typed
value, or ValueError with the reason; and the database URL's checks and masking."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from sqlalchemy.engine import make_url

from .errors import ConfigError
from .logs import redact, register_secret


def parse_text(value: object) -> str:
    if not isinstance(value, str):
        raise ValueError(f"must be a string, got {type(value).__name__}")
    return value.strip()


def parse_choice(*allowed: str) -> Callable[[object], str]:
    def parse(value: object) -> str:
        text = parse_text(value).lower()
        if text not in allowed:
            raise ValueError(f"must be one of {', '.join(allowed)}, got {text!r}")
        return text

    return parse


def parse_number(kind: type[int] | type[float], low: float, high: float) -> Callable[[object], Any]:
    noun = "an integer" if kind is int else "a number"

    def parse(value: object) -> int | float:
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise ValueError(f"must be {noun}, got {value!r}")
        try:
            number = kind(value.strip() if isinstance(value, str) else value)
        except ValueError:
            raise ValueError(f"must be {noun}, got {value!r}") from None
        if kind is int and isinstance(value, float) and value != number:
            raise ValueError(f"must be {noun}, got {value!r}")
        if not low <= number <= high:
            raise ValueError(f"must be between {low:g} and {high:g}, got {value!r}")
        return number

    return parse


def parse_rate(value: object) -> float:
    rate = float(parse_number(float, 0.0, 1e6)(value))
    if rate <= 0:
        raise ValueError(f"must be greater than 0, got {value!r}")
    return rate


def parse_bool(value: object) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off", ""):
        return False
    raise ValueError(f"must be true or false, got {value!r}")


def parse_base_url(value: object) -> str:
    url = parse_text(value).rstrip("/")
    if not re.match(r"^https?://[^/\s]+(/\S*)?$", url):
        raise ValueError(f"must be an http(s) URL like https://api.customer.io, got {url!r}")
    return url


def parse_secret(value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError("must be a non-empty string")
    return value.strip()


TARGET_BACKENDS = ("sqlite", "postgresql", "mysql", "mariadb")
DEFAULT_TARGET_URL = "sqlite:///cio-replicate.db"
TARGET_EXAMPLES = (
    "sqlite:///file.db, postgresql+psycopg://user@host/db or mysql+pymysql://user@host/db"
)
# The password part of a URL as written (SQLAlchemy's own pattern): it may be
# percent-encoded, so it is masked as written as well as decoded.
_URL_PASSWORD = re.compile(r"^[\w+]+://[^:/]*:([^@]*)@")


def masked_url(url: str) -> str:
    """A database URL for messages: its password masked."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return redact(url)


# A URL without a driver, as PaaS providers hand them out -> the installed driver.
_DRIVERLESS = re.compile(r"^(?:postgres|postgresql|mysql|mariadb)(?=://)", re.IGNORECASE)
_DRIVERS = {"postgres": "postgresql+psycopg", "postgresql": "postgresql+psycopg"}


def shown_target(url: str, schema: str | None) -> str:
    """The target as messages show it: the URL, password masked, and its target_schema."""
    return masked_url(url) + (f" (target_schema {schema})" if schema else "")


def normalize_target_url(url: str) -> str:
    """``postgres://`` and ``postgresql://`` mean psycopg 3, ``mysql://`` and
    ``mariadb://`` PyMySQL; the rest of the URL stays as written."""
    return _DRIVERLESS.sub(lambda m: _DRIVERS.get(m.group(0).lower(), "mysql+pymysql"), url)


def parse_target_url(value: object) -> str:
    url = normalize_target_url(parse_text(value))
    written = _URL_PASSWORD.match(url)
    register_secret(written.group(1) if written else None)
    try:
        parsed = make_url(url)
    except Exception:
        raise ValueError(f"is not a database URL: use {TARGET_EXAMPLES}") from None
    register_secret(parsed.password if isinstance(parsed.password, str) else None)
    backend = parsed.get_backend_name()
    try:
        known = backend in TARGET_BACKENDS and parsed.get_dialect() is not None
    except Exception:  # NoSuchModuleError: no such driver for this database
        known = False
    if not known:
        raise ValueError(
            f"{parsed.drivername}:// is not a supported database: use {TARGET_EXAMPLES}"
        )
    charset = parsed.query.get("charset")
    if backend in ("mysql", "mariadb") and charset not in (None, "utf8mb4"):
        raise ValueError(
            f"charset={charset} cannot hold every value (emoji need 4 bytes): "
            "use charset=utf8mb4 or leave charset out"
        )
    return url


_SCHEMA_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_$]*$")


def parse_schema_name(value: object) -> str:
    """A PostgreSQL schema or MySQL database name: a plain identifier, no quoting needed."""
    text = parse_text(value)
    if not _SCHEMA_NAME.match(text) or len(text) > 63:
        raise ValueError(
            f"must be a plain identifier (letters, digits, _ and $, not starting with a digit, "
            f"at most 63 characters), got {text!r}"
        )
    return text


def check_target_schema(values: dict[str, Any], origins: dict[str, str]) -> None:
    """``target_schema`` names a PostgreSQL schema or a MySQL database: not for SQLite."""
    schema = values.get("target_schema")
    if schema is None:
        return
    if make_url(values.get("target_url", DEFAULT_TARGET_URL)).get_backend_name() == "sqlite":
        raise ConfigError(
            "SQLite has no schemas (one database per file): remove target_schema, "
            "or put the tables in another file with target_url = sqlite:///other.db",
            key="target_schema",
            source=origins.get("target_schema", "default"),
        )
