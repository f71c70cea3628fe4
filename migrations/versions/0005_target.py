"""System table _cio_target: the target's column naming (snake|api), fixed once.

Revision ID: 0005_target
Revises: 0004_collections
Create Date: 2026-12-06

A frozen copy of the table as cio_replicate/systables.py defines it at this
revision: later changes need a new revision, never an edit here.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005_target"
down_revision: str | Sequence[str] | None = "0004_collections"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "_cio_target",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("column_names", sa.String(16), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("_cio_target")
