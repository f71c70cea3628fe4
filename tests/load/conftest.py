"""Loader fixtures: a Target on a fresh database (all three dialects), a fixed clock."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import sqlalchemy as sa

from cio_replicate import systables
from cio_replicate.load import TableWriter, Target


@dataclass
class FixedClock:
    """Unix seconds that move only when a test says so."""

    now: float = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock()


@pytest.fixture
def target(db_url: str, clock: FixedClock) -> Iterator[Target]:
    tgt = Target(db_url, clock=clock)
    systables.metadata.create_all(tgt.engine)
    yield tgt
    tgt.dispose()


def read(target: Target, table: TableWriter) -> list[dict[str, Any]]:
    """Every row of a data table (aware datetimes, parsed JSON), sorted by key."""
    t = table.sa_table()
    with target.connect() as conn:
        rows = [dict(r._mapping) for r in conn.execute(sa.select(t))]
    keys = table.key_columns
    return sorted(rows, key=lambda r: tuple(str(r[k]) for k in keys))


def by_key(rows: list[dict[str, Any]], key: str = "id") -> dict[Any, dict[str, Any]]:
    return {r[key]: r for r in rows}


def load(target: Target, table: TableWriter, records: list[dict[str, Any]]) -> tuple[int, int]:
    """prepare + evolve + upsert in one transaction."""
    rows = table.prepare(records)
    with target.begin() as conn:
        table.evolve(conn)
        return tuple(table.upsert(conn, rows))  # type: ignore[return-value]
