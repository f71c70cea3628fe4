"""MySQL/MariaDB: the system tables in utf8mb4, whatever the database's default.

Revision ID: 0003_utf8mb4
Revises: 0002_source
Create Date: 2026-12-06

0001 and 0002 created the tables in the database's default character set. In a database
created ``CHARACTER SET latin1`` (MariaDB's compiled-in default) that made every
comparison of a column name with emoji fail (1271 Illegal mix of collations) and
such names unstorable. Each system table not yet in utf8mb4 is converted (the
charset's default collation, as in a utf8mb4 database). Other databases: nothing.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003_utf8mb4"
down_revision: str | Sequence[str] | None = "0002_source"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = (
    "_cio_state",
    "_cio_runs",
    "_cio_run_objects",
    "_cio_columns",
    "_cio_locks",
    "_cio_source",
)


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name not in ("mysql", "mariadb"):
        return
    rows = bind.execute(
        sa.text(
            "SELECT TABLE_NAME, TABLE_COLLATION FROM information_schema.TABLES "
            "WHERE TABLE_SCHEMA = DATABASE()"
        )
    ).all()
    collations = {str(name): str(collation or "") for name, collation in rows}
    for table in TABLES:
        if table in collations and not collations[table].startswith("utf8mb4"):
            op.execute(f"ALTER TABLE `{table}` CONVERT TO CHARACTER SET utf8mb4")


def downgrade() -> None:
    pass  # utf8mb4 holds everything the old character set did
