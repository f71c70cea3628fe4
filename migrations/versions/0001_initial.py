"""System tables: state, runs, per-object run stats, column map, locks.

Revision ID: 0001_initial
Revises:
Create Date: 2026-11-27

A frozen copy of cio_replicate/systables.py as it was at this revision: later
changes to systables.py need a new revision, never an edit here.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001_initial"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "_cio_state",
        sa.Column("object_name", sa.String(64), primary_key=True),
        sa.Column("watermark", sa.BigInteger, nullable=True),
        sa.Column("resume", sa.Text, nullable=True),
        sa.Column("rows_total", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("last_run_id", sa.String(36), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_table(
        "_cio_runs",
        sa.Column("run_id", sa.String(36), primary_key=True),
        sa.Column("command", sa.String(32), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("pid", sa.Integer, nullable=True),
        sa.Column("host", sa.String(255), nullable=True),
        sa.Column("objects", sa.Text, nullable=True),
        sa.Column("api_calls", sa.Integer, nullable=False, server_default="0"),
        sa.Column("error", sa.Text, nullable=True),
    )
    op.create_table(
        "_cio_run_objects",
        sa.Column("run_id", sa.String(36), primary_key=True),
        sa.Column("object_name", sa.String(64), primary_key=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("rows_inserted", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("rows_updated", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("rows_deleted", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("api_calls", sa.Integer, nullable=False, server_default="0"),
        sa.Column("errors", sa.Integer, nullable=False, server_default="0"),
        sa.Column("message", sa.Text, nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_table(
        "_cio_columns",
        sa.Column("table_name", sa.String(64), primary_key=True),
        sa.Column("column_name", sa.String(64), primary_key=True),
        sa.Column("api_name", sa.Text, nullable=False),
        sa.Column("sql_type", sa.String(32), nullable=False),
        sa.Column("position", sa.Integer, nullable=False),
    )
    op.create_table(
        "_cio_locks",
        sa.Column("object_name", sa.String(64), primary_key=True),
        sa.Column("run_id", sa.String(36), nullable=False),
        sa.Column("pid", sa.Integer, nullable=False),
        sa.Column("host", sa.String(255), nullable=False),
        sa.Column("acquired_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    for table in ("_cio_locks", "_cio_columns", "_cio_run_objects", "_cio_runs", "_cio_state"):
        op.drop_table(table)
