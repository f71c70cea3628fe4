"""System table _cio_sync_collections: the state of `sync Collections`.

Revision ID: 0004_collections
Revises: 0003_utf8mb4
Create Date: 2026-12-06

A frozen copy of the table as cio_replicate/systables.py defines it at this
revision: later changes need a new revision, never an edit here.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004_collections"
down_revision: str | Sequence[str] | None = "0003_utf8mb4"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "_cio_sync_collections",
        sa.Column("slot", sa.String(80), primary_key=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("collection_id", sa.BigInteger, nullable=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("remote_updated_at", sa.BigInteger, nullable=True),
        sa.Column("remote_meta", sa.String(64), nullable=True),
        sa.Column("seen_at", sa.BigInteger, nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("_cio_sync_collections")
