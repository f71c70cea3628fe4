"""What the loader's layers need from each other, as protocols.

:class:`Host` is what a table writer uses of its target (``target.Target``
implements it); :class:`Refreshable` is what a full refresh uses of a table
writer (``table.TableWriter`` implements it). With these, the imports run one
way only: target -> table -> replace -> staging -> host.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from typing import Protocol

import sqlalchemy as sa

from ..clock import Clock
from .ddl import Ddl
from .dialects import BulkPath, Dialect
from .mapper import Row
from .schema import Columns
from .writer import Shape, SqlWriter


class Host(Protocol):
    """A target database as a table writer sees it."""

    @property
    def dialect(self) -> Dialect: ...

    @property
    def sql(self) -> SqlWriter: ...

    @property
    def ddl(self) -> Ddl: ...

    @property
    def bulk(self) -> BulkPath: ...

    @property
    def clock(self) -> Clock: ...

    def begin(self) -> contextlib.AbstractContextManager[sa.Connection]:
        """A connection in a write transaction, committed on success."""
        ...

    def connect(self) -> contextlib.AbstractContextManager[sa.Connection]: ...


class Refreshable(Protocol):
    """A data table as a full refresh sees it."""

    @property
    def name(self) -> str: ...

    @property
    def target(self) -> Host: ...

    @property
    def key(self) -> tuple[str, ...]: ...

    @property
    def key_columns(self) -> tuple[str, ...]: ...

    @property
    def wanted(self) -> Columns: ...

    def recorded(self, conn: sa.Connection) -> Columns: ...

    def altered(self, conn: sa.Connection, table: str | None = None) -> str | None: ...

    def sync(
        self, conn: sa.Connection, table: str, have: Columns | None, *, check_existing: bool
    ) -> None: ...

    def shape(self, rows: Sequence[Row], table: str | None = None) -> Shape: ...

    def mark_recorded(self, conn: sa.Connection) -> None: ...

    def index(self, conn: sa.Connection, columns: Columns) -> None: ...
