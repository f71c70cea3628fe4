"""The target's column naming (``snake`` or ``api``): chosen once, kept for good.

The ``column_names`` setting applies to a new target only. The first writer
records the naming in ``_cio_target`` (one row, id 1) and every later run
uses what is recorded, whatever its settings say, except that a setting that
contradicts the record is refused (exit 2): renaming the columns of a target
that analysts already query would break their queries. With no row:

* a target that already holds data tables (rows in ``_cio_columns``) was made
  before the setting existed, with API names: it is recorded ``api``;
* an empty one is recorded as the setting says, ``snake`` when it is unset.

Two processes recording at once: each inserts; the one that loses the
duplicate-key race reads the winner's row instead.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import UTC, datetime

import sqlalchemy as sa

from .. import systables
from ..errors import ConfigError
from .names import NAMINGS, Naming

ROW_ID = 1
DEFAULT: Naming = "snake"
"""The naming of a new target when ``column_names`` is unset."""


def parse(value: str | None) -> Naming | None:
    """A naming from a setting's value (None: not set)."""
    if value is None:
        return None
    for naming in NAMINGS:
        if value == naming:
            return naming
    raise ConfigError(f"must be one of {', '.join(NAMINGS)}, not {value!r}", key="column_names")


def recorded(conn: sa.Connection) -> Naming | None:
    """The naming recorded in the target (None: none yet)."""
    t = systables.target
    value = conn.execute(sa.select(t.c.column_names).where(t.c.id == ROW_ID)).scalar()
    return None if value is None else parse(str(value))


def has_data_tables(conn: sa.Connection) -> bool:
    t = systables.columns
    return conn.execute(sa.select(t.c.table_name).limit(1)).first() is not None


def check(held: Naming, requested: Naming | None) -> Naming:
    """``held``, unless ``requested`` contradicts it (ConfigError, exit 2)."""
    if requested is None or requested == held:
        return held
    raise ConfigError(
        f"this target's columns are named {held!r} (fixed when it was first written), "
        f"but the setting asks for {requested!r}; renaming them would break the queries "
        f"that use them. Remove column_names (or set it to {held!r}), or replicate into "
        f"a new database or target_schema to get {requested!r} names",
        key="column_names",
    )


def resolve(
    begin: Callable[[], AbstractContextManager[sa.Connection]],
    requested: Naming | None,
    *,
    read: Callable[[], AbstractContextManager[sa.Connection]] | None = None,
    now: datetime | None = None,
) -> Naming:
    """The target's naming, recorded on first use; ``begin`` opens a write transaction,
    ``read`` a plain connection (once recorded, no write transaction is needed)."""
    if read is not None:
        with read() as conn:
            held = recorded(conn)
        if held is not None:
            return check(held, requested)
    try:
        return check(_record(begin, requested, now), requested)
    except sa.exc.IntegrityError:  # another process recorded it first: read theirs
        return check(_record(begin, requested, now), requested)


def _record(
    begin: Callable[[], AbstractContextManager[sa.Connection]],
    requested: Naming | None,
    now: datetime | None,
) -> Naming:
    """The recorded naming, recording one first if there is none."""
    with begin() as conn:
        held = recorded(conn)
        if held is None:
            held = "api" if has_data_tables(conn) else (requested or DEFAULT)
            conn.execute(
                sa.insert(systables.target).values(
                    id=ROW_ID, column_names=held, recorded_at=now or datetime.now(UTC)
                )
            )
    return held
