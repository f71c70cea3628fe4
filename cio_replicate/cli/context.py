"""State shared by every command: the global flags, and the "what am I using" line."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import click

from ..config import Settings, shown_target
from ..logs import emit


@dataclass(frozen=True)
class CliState:
    verbose: int
    log_format: str
    config_path: str | None


def describe_source(settings: Settings) -> str:
    """Which workspace: region, URL and site id, or the sandbox (simulated)."""
    if settings.source == "sandbox":
        return (
            f"sandbox, simulated (built-in, in-process; scale {settings.sandbox_scale}, "
            f"seed {settings.sandbox_seed}, region {settings.region})"
        )
    site = f", site id {settings.site_id}" if settings.site_id else ""
    return (
        f"Customer.io workspace (region {settings.region}{site}; App API "
        f"{settings.app_api_url}, Track API {settings.track_api_url})"
    )


def announce(
    ctx: click.Context,
    settings: Settings,
    *,
    target: bool = True,
    writes_source: bool = False,
    extra: str | None = None,
) -> None:
    """First thing a command that uses the source says, on stderr: source and target.

    ``target``: the command uses the target database (shown with its password
    masked). ``writes_source``: the command changes the source workspace.
    ``extra``: e.g. "input: people.csv". Text mode: one plain line; JSON mode:
    one JSON log line with the same fields.
    """
    fields = {"source": describe_source(settings)}
    if writes_source:
        fields["source"] += ", written to"
    if target:
        fields["target"] = shown_target(settings.target_url, settings.target_schema)
    line = "; ".join(f"{name}: {value}" for name, value in fields.items())
    if extra:
        line += f"; {extra}"
    data: dict[str, Any] = {**fields, "source_kind": settings.source}
    if extra:
        data["detail"] = extra
    emit("using", line, text=f"using {line}", **data)
