"""System table _cio_source: which workspace (or the sandbox) the target holds.

Revision ID: 0002_source
Revises: 0001_initial
Create Date: 2026-12-06

A frozen copy of the table as cio_replicate/systables.py defines it at this
revision: later changes need a new revision, never an edit here.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002_source"
down_revision: str | Sequence[str] | None = "0001_initial"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "_cio_source",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("region", sa.String(8), nullable=False),
        sa.Column("workspace", sa.String(255), nullable=True),
        sa.Column("api_url", sa.String(255), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("_cio_source")
