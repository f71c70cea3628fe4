"""Settings flags shared by commands, and loading Settings from the CLI context.

Usage in a command module::

    @click.command("replicate")
    @settings_options("source", "region", "target_url", "rate_limit")
    @click.pass_context
    def replicate(ctx: click.Context, /, **flags: object) -> None:
        settings = load_cli_settings(ctx, flags)

Flag values are handed to cio_replicate.config unparsed, so a bad value is a
ConfigError naming the flag (exit 2), like a bad value from the file or env.
Secrets have no flags: command lines end up in shell history and ``ps``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import click

from ..config import PARSERS, SECRET_KEYS, Settings, env_name, flag_name, load_settings
from .context import CliState

F = TypeVar("F", bound=Callable[..., Any])

HELP: Mapping[str, str] = {
    "source": "customerio or sandbox (the built-in simulated workspace).",
    "region": "Customer.io region: us or eu.",
    "site_id": "Track API site id.",
    "app_api_url": "App API base URL (overrides the region's, e.g. a local sandbox).",
    "track_api_url": "Track API base URL (overrides the region's).",
    "target_url": "SQLAlchemy URL of the target database.",
    "rate_limit": "App API requests/second (default 10, the documented limit).",
    "track_rate_limit": "Track API requests/second.",
    "transactional_rate_limit": "Transactional send (/v1/send/*) requests/second.",
    "allow_unsafe_rate_limit": "Allow rates above the documented limits (true/false).",
    "allow_insecure_http": "Allow http:// API URLs to hosts other than loopback (true/false).",
    "concurrency": "Objects replicated at once, and requests in flight per object.",
    "timeout": "Seconds per HTTP request.",
    "max_retry_wait": "Seconds of retry backoff per request before giving up.",
    "sandbox_scale": "Sandbox size: tiny, demo or large.",
    "sandbox_seed": "Sandbox random seed.",
    "lookback_seconds": "Re-read this many seconds before the watermark.",
    "metrics_lookback": "Re-read deliveries this recent for later opens/clicks (days, or 36h; 0: off).",
    "batch_size": "Rows per database batch.",
    "swap_lock_timeout": "Seconds a full refresh's table swap waits (per try) for readers.",
    "deletes": "Rows whose key left the source: soft (marked in _cio_deleted_at), hard "
    "(removed) or keep.",
}


def settings_options(*keys: str) -> Callable[[F], F]:
    """Add ``--<key>`` options (passed to the command as keyword arguments)."""
    for key in keys:
        if key not in PARSERS or key in SECRET_KEYS:
            raise ValueError(f"no flag for setting {key!r}")

    def decorate(command: F) -> F:
        for key in reversed(keys):
            command = click.option(
                flag_name(key),
                key,
                default=None,
                metavar="VALUE",
                help=f"{HELP.get(key, key)} [env {env_name(key)}]",
            )(command)
        return command

    return decorate


def load_cli_settings(
    ctx: click.Context, flags: Mapping[str, object], *, needs_source: bool = True
) -> Settings:
    """Settings from the config file given by ``-c`` (or CIO_CONFIG), the env and flags.

    ``needs_source=False``: a command that uses only the target (no credentials needed).
    """
    state = ctx.find_object(CliState)
    return load_settings(
        state.config_path if state else None, flags=flags, needs_source=needs_source
    )
