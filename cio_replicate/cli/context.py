"""State shared by every command: the global flags."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class CliState:
    verbose: int
    log_format: str
    config_path: str | None
