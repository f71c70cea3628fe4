"""One object's part in one run, in figures: the one record the engine counts in, the
state store writes to ``_cio_run_objects`` (and reads back for ``status``), and the
run's report shows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

__all__ = ["ObjectStats", "ObjectStatus"]

ObjectStatus = Literal["running", "success", "failed", "skipped", "interrupted"]

REPORT_FIELDS = (
    "name", "mode", "status", "inserted", "updated", "deleted", "pages", "api_calls",
    "throttled", "wait_seconds", "seconds", "watermark", "message",
)  # fmt: skip
"""The figures of an object in the run's JSON summary, in their order."""


@dataclass
class ObjectStats:
    """Counts and outcome of one object in one run (mutable: the engine counts in it)."""

    name: str = ""
    """The object's name (``object_name`` in ``_cio_run_objects``)."""
    status: ObjectStatus = "running"
    mode: str = ""
    """The object's mode in the run (``full`` for a rebuild)."""
    inserted: int = 0
    updated: int = 0
    deleted: int = 0
    staged: int = 0
    """Rows staged for a rebuild (counted as inserted/updated only at the swap)."""
    pages: int = 0
    api_calls: int = 0
    throttled: int = 0
    """429 answers received (each one waited for and retried)."""
    wait_seconds: float = 0.0
    """Seconds spent waiting (rate limiter plus retry backoff), summed over the object's
    requests in flight: with several at once it can exceed the object's wall time, so
    it is in the JSON summary only."""
    seconds: float = 0.0
    errors: int = 0
    max_cursor: int | None = None
    """The largest cursor committed (the next watermark's candidate)."""
    watermark: int | None = None
    """The object's watermark after the run."""
    message: str | None = None
    run_id: str | None = None
    command: str | None = None
    """The run's command (read back from ``_cio_runs``)."""
    started_at: datetime | None = None
    finished_at: datetime | None = None

    # the names of the columns of ``_cio_run_objects``
    @property
    def object_name(self) -> str:
        return self.name

    @property
    def rows_inserted(self) -> int:
        return self.inserted

    @property
    def rows_updated(self) -> int:
        return self.updated

    @property
    def rows_deleted(self) -> int:
        return self.deleted

    def report_fields(self) -> dict[str, Any]:
        """The object in the run's JSON summary."""
        return {name: getattr(self, name) for name in REPORT_FIELDS}

    def run_fields(self) -> dict[str, Any]:
        """The object's last run as ``status`` shows it (without the object's name)."""
        return {
            "run_id": self.run_id,
            "command": self.command,
            "status": self.status,
            "started_at": self.started_at,
            "finished_at": self.finished_at,
            "rows_inserted": self.inserted,
            "rows_updated": self.updated,
            "rows_deleted": self.deleted,
            "api_calls": self.api_calls,
            "errors": self.errors,
            "message": self.message,
        }
