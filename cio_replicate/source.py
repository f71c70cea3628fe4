"""Which workspace a target database holds, so the sandbox and a real workspace never mix.

The first replication run into a target records its source in ``_cio_source``
(kind sandbox|customerio, region, site id or sandbox scale, API base URL; no
secrets). Every later run, and ``import --from-table`` (which reads the target
and writes to the source), is refused with exit 2 when its source is a
different one: the sandbox never writes into a real workspace's copy, a real
workspace never writes into (or reads rows back from) a copy of the sandbox,
nor into another workspace's copy, unless ``--force``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime

import sqlalchemy as sa

from . import migrate
from .config import Settings, masked_url
from .errors import UsageError
from .load import target_engine
from .systables import source as source_table

log = logging.getLogger("cio_replicate.source")
ROW_ID = 1


@dataclass(frozen=True)
class SourceRecord:
    kind: str
    """sandbox or customerio."""
    region: str
    workspace: str | None
    """The site id of a workspace (None when unknown), or the sandbox's scale and seed."""
    api_url: str

    def describe(self) -> str:
        if self.kind == "sandbox":
            return f"the sandbox (simulated; {self.workspace})"
        site = f", site id {self.workspace}" if self.workspace else ""
        return f"a Customer.io workspace (region {self.region}{site}, {self.api_url})"

    def differs_from(self, other: SourceRecord) -> bool:
        """True when the two cannot be the same workspace."""
        if self.kind != other.kind:
            return True
        if self.kind == "sandbox":
            return False  # all simulated: scale or seed may change
        if self.region != other.region:
            return True
        return bool(self.workspace and other.workspace and self.workspace != other.workspace)


def of_settings(settings: Settings) -> SourceRecord:
    if settings.source == "sandbox":
        workspace = f"scale {settings.sandbox_scale}, seed {settings.sandbox_seed}"
        return SourceRecord("sandbox", settings.region, workspace, "in-process")
    return SourceRecord("customerio", settings.region, settings.site_id, settings.app_api_url)


def recorded(conn: sa.Connection) -> SourceRecord | None:
    """The source recorded in the target (None: nothing written yet, or no table)."""
    if not sa.inspect(conn).has_table(source_table.name):
        return None
    row = conn.execute(
        sa.select(
            source_table.c.kind,
            source_table.c.region,
            source_table.c.workspace,
            source_table.c.api_url,
        ).where(source_table.c.id == ROW_ID)
    ).first()
    return None if row is None else SourceRecord(*row)


def _write(conn: sa.Connection, current: SourceRecord, *, replace: bool) -> None:
    values = {
        "kind": current.kind,
        "region": current.region,
        "workspace": current.workspace,
        "api_url": current.api_url,
        "recorded_at": datetime.now(UTC),
    }
    if replace:
        conn.execute(sa.update(source_table).where(source_table.c.id == ROW_ID).values(values))
    else:
        conn.execute(sa.insert(source_table).values(id=ROW_ID, **values))


def guard_target(settings: Settings, *, force: bool, writes: bool) -> None:
    """Refuse (exit 2) a source other than the one the target holds, unless ``force``.

    ``writes``: the command writes replicated data into the target, so it
    creates the system tables if needed and records its source there.
    """
    current = of_settings(settings)
    url = settings.target_url
    with target_engine(url, schema=settings.target_schema) as engine:
        if writes and migrate.needs_upgrade(engine):
            migrate.upgrade(engine)
        for attempt in (1, 2):
            try:
                with engine.begin() as conn:
                    _check(conn, current, url, force=force, writes=writes)
                return
            except sa.exc.IntegrityError:
                if attempt == 2:  # two first runs at once: the other one recorded it
                    raise


def _check(
    conn: sa.Connection, current: SourceRecord, url: str, *, force: bool, writes: bool
) -> None:
    held = recorded(conn)
    if held is None:
        if writes:
            _write(conn, current, replace=False)
        return
    if not held.differs_from(current):
        return
    where = masked_url(url)
    if not force:
        raise UsageError(
            f"the target {where} holds data from {held.describe()}, but this command's "
            f"source is {current.describe()}: refusing to mix them. Use another target_url, "
            f"fix the source settings, or pass --force to go ahead anyway"
        )
    log.warning(
        "--force: the target %s holds data from %s; using it with %s",
        where,
        held.describe(),
        current.describe(),
    )
    if writes:
        _write(conn, current, replace=True)
