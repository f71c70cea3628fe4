"""The tool's own tables, as SQLAlchemy Core definitions.

Alembic (migrations/) creates and evolves exactly these tables; the code reads
and writes them through these definitions. Data tables are not here: the
schema mapper creates them at runtime.
"""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

# One row per object: the watermark (unix seconds) and an optional resume
# cursor (JSON text), committed in the same transaction as the rows they cover.
state = sa.Table(
    "_cio_state",
    metadata,
    sa.Column("object_name", sa.String(64), primary_key=True),
    sa.Column("watermark", sa.BigInteger, nullable=True),
    sa.Column("resume", sa.Text, nullable=True),
    sa.Column("rows_total", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("last_run_id", sa.String(36), nullable=True),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
)

# One row per run of a command.
runs = sa.Table(
    "_cio_runs",
    metadata,
    sa.Column("run_id", sa.String(36), primary_key=True),
    sa.Column("command", sa.String(32), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),  # running|success|partial|failed
    sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("pid", sa.Integer, nullable=True),
    sa.Column("host", sa.String(255), nullable=True),
    sa.Column("objects", sa.Text, nullable=True),  # JSON list of object names
    sa.Column("api_calls", sa.Integer, nullable=False, server_default="0"),
    sa.Column("error", sa.Text, nullable=True),
)

# Per run and object: what happened.
run_objects = sa.Table(
    "_cio_run_objects",
    metadata,
    sa.Column("run_id", sa.String(36), primary_key=True),
    sa.Column("object_name", sa.String(64), primary_key=True),
    sa.Column("status", sa.String(16), nullable=False),  # running|success|failed|skipped
    sa.Column("rows_inserted", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("rows_updated", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("rows_deleted", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("api_calls", sa.Integer, nullable=False, server_default="0"),
    sa.Column("errors", sa.Integer, nullable=False, server_default="0"),
    sa.Column("message", sa.Text, nullable=True),
    sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
)

# How each API field name maps to a column of a data table (hostile names are
# quoted, shortened with a stable hash, de-duplicated by case).
columns = sa.Table(
    "_cio_columns",
    metadata,
    sa.Column("table_name", sa.String(64), primary_key=True),
    sa.Column("column_name", sa.String(64), primary_key=True),
    sa.Column("api_name", sa.Text, nullable=False),
    # logical type: int|float|bool|text|timestamp|json
    sa.Column("sql_type", sa.String(32), nullable=False),
    sa.Column("position", sa.Integer, nullable=False),
)

# Which run works on which object right now (cron overlaps).
locks = sa.Table(
    "_cio_locks",
    metadata,
    sa.Column("object_name", sa.String(64), primary_key=True),
    sa.Column("run_id", sa.String(36), nullable=False),
    sa.Column("pid", sa.Integer, nullable=False),
    sa.Column("host", sa.String(255), nullable=False),
    sa.Column("acquired_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=False),
)

# Which workspace the data in this database came from: one row (id 1), written
# by the first replication run and checked by every later one, so that the
# sandbox never writes into a real workspace's copy (nor the reverse) unless
# forced. No secrets: kind, region, site id (or sandbox scale), API base URL.
source = sa.Table(
    "_cio_source",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("kind", sa.String(16), nullable=False),  # sandbox|customerio
    sa.Column("region", sa.String(8), nullable=False),
    sa.Column("workspace", sa.String(255), nullable=True),
    sa.Column("api_url", sa.String(255), nullable=False),
    sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
)

# `sync Collections`: the state of each collection at the last sync (both sides
# agreed on it then), and the creates in flight. ``slot`` is ``id:<collection
# id>`` for a synced collection, ``new:<hash of the name>`` for a create the
# tool is about to send (recorded before the call, so a rerun after a crash
# finds the collection it made instead of making another). ``digest`` hashes
# name and data; ``seen_at`` (unix seconds) is when a sync first saw the
# table's row differ from this state (the table side's time in a conflict);
# ``remote_meta`` hashes the collection's listing record (name, bytes, rows,
# schema, updated_at): its data is read again only when that moves (a change in
# the same second as the last sync's write still shows in bytes or schema).
sync_collections = sa.Table(
    "_cio_sync_collections",
    metadata,
    sa.Column("slot", sa.String(80), primary_key=True),
    sa.Column("status", sa.String(16), nullable=False),  # synced|creating
    sa.Column("collection_id", sa.BigInteger, nullable=True),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("digest", sa.String(64), nullable=False),
    sa.Column("remote_updated_at", sa.BigInteger, nullable=True),
    sa.Column("remote_meta", sa.String(64), nullable=True),
    sa.Column("seen_at", sa.BigInteger, nullable=True),
    sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
)

# The target's own settings, fixed when it is first written: one row (id 1).
# ``column_names``: snake|api, how data-table columns are named (load/naming.py);
# a target made before this table existed, already holding data tables, is api.
target = sa.Table(
    "_cio_target",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("column_names", sa.String(16), nullable=False),
    sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
)
