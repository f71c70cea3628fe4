"""Two-way sync of a table with the workspace: ``sync Collections``.

``plan`` (pure: three states in, steps out), ``store`` (the table and the
tool's state in the target), ``run`` (read, plan, apply step by step).
"""

from __future__ import annotations

from .plan import Action, Conflict, Plan, Prefer
from .run import SyncBusy, SyncReport, sync_collections

__all__ = [
    "Action",
    "Conflict",
    "Plan",
    "Prefer",
    "SyncBusy",
    "SyncReport",
    "sync_collections",
]
