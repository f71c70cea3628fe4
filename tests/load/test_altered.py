"""A data table altered by hand: a full refresh rebuilds it, an incremental write says how.

Users drop a column, change a column's type or drop the table while
``_cio_columns`` still records it. A full refresh builds its stage from the
recorded and seen columns (never from the live table) and swaps it in; an
incremental write stops with a one-line hint instead of a driver error.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import sqlalchemy as sa

from cio_replicate.load import Target, column_map
from cio_replicate.load.table import TableAltered

from .conftest import by_key, load, read

TYPES = {  # (column type, CAST target) per dialect
    "sqlite": {"text": ("TEXT", "TEXT"), "int": ("BIGINT", "INTEGER")},
    "postgresql": {"text": ("TEXT", "TEXT"), "int": ("BIGINT", "BIGINT")},
    "mysql": {"text": ("LONGTEXT", "CHAR"), "int": ("BIGINT", "SIGNED")},
}


def records(ids: range, version: int = 0) -> list[dict[str, Any]]:
    return [{"id": i, "name": f"segment {i}", "size": i + version, "code": str(i)} for i in ids]


def by_hand(target: Target, *statements: str) -> None:
    with target.begin() as conn:
        for statement in statements:
            target.sql.execute(conn, statement)


def retype(target: Target, table: str, column: str, kind: str) -> None:
    """Change a column's type by hand, the way every dialect can (add, copy, drop, rename)."""
    q = target.sql.quote
    sql_type, cast = TYPES[target.dialect.name][kind]
    t, c, tmp = q(table), q(column), q("tmp_col")
    by_hand(
        target,
        f"ALTER TABLE {t} ADD COLUMN {tmp} {sql_type}",
        f"UPDATE {t} SET {tmp} = CAST({c} AS {cast})",  # noqa: S608
        f"ALTER TABLE {t} DROP COLUMN {c}",
        f"ALTER TABLE {t} RENAME COLUMN {tmp} TO {c}",
    )


def drop_column(target: Target, table: str, column: str) -> None:
    q = target.sql.quote
    by_hand(target, f"ALTER TABLE {q(table)} DROP COLUMN {q(column)}")


def drop_table(target: Target, table: str) -> None:
    by_hand(target, f"DROP TABLE {target.sql.quote(table)}")


def live_kind(target: Target, table: str, column: str) -> type[Any]:
    with target.connect() as conn:
        (found,) = [c["type"] for c in sa.inspect(conn).get_columns(table) if c["name"] == column]
    for kind in (sa.Boolean, sa.Integer, sa.String):
        if isinstance(found, kind):
            return kind
    return type(found)


ALTERATIONS: dict[str, tuple[Callable[[Target], None], str]] = {
    "column dropped": (lambda t: drop_column(t, "segments", "name"), "column name is missing"),
    "int column made text": (
        lambda t: retype(t, "segments", "size", "text"),
        "column size is ",
    ),
    "text column made int": (
        lambda t: retype(t, "segments", "code", "int"),
        "column code is ",
    ),
    "table dropped": (lambda t: drop_table(t, "segments"), "the table is missing"),
}


@pytest.mark.parametrize("alteration", list(ALTERATIONS))
def test_full_refresh_rebuilds_a_table_altered_by_hand(target: Target, alteration: str) -> None:
    load(target, target.table("segments"), records(range(5)))
    alter, _ = ALTERATIONS[alteration]
    alter(target)
    table = target.table("segments")  # a new run's writer
    # The same rows as before: the rebuild must happen although nothing changed upstream.
    done: list[int] = []
    result = table.replace_staged(
        [table.prepare(records(range(5)))], lambda conn, outcome: done.append(outcome.rows)
    )
    assert done == [5] and result.rows == 5
    rows = by_key(read(target, table))
    assert sorted(rows) == list(range(5))
    assert [(r["name"], r["size"], r["code"]) for r in rows.values()] == [
        (f"segment {i}", i, str(i)) for i in range(5)
    ]
    assert live_kind(target, "segments", "size") is sa.Integer
    assert live_kind(target, "segments", "code") is sa.String
    recorded = {c.api_name: c.type for c in column_map(target.engine, "segments")}
    assert recorded == {"id": "int", "name": "text", "size": "int", "code": "text"}
    # Repaired: the next run's incremental writes work again.
    assert load(target, target.table("segments"), records(range(5, 6))) == (1, 0)


@pytest.mark.parametrize("alteration", list(ALTERATIONS))
def test_an_incremental_write_to_an_altered_table_gives_a_hint(
    target: Target, alteration: str
) -> None:
    load(target, target.table("segments"), records(range(3)))
    alter, problem = ALTERATIONS[alteration]
    alter(target)
    table = target.table("segments")
    table.object_name = "Segments"
    with pytest.raises(TableAltered) as caught:
        load(target, table, records(range(3, 4)))
    message = str(caught.value)
    assert message.startswith(f"table segments was altered outside cio-replicate: {problem}")
    assert message.endswith("run `cio-replicate replicate Segments --full-refresh` to rebuild it")
    assert "\n" not in message


def test_leftover_stages_of_other_runs_are_dropped(target: Target) -> None:
    """Two runs' stages have different names; a new refresh drops the others' leftovers
    (a killed run's), never a table of another name."""
    from cio_replicate.load.replace import stage_name

    table = target.table("segments")
    load(target, table, records(range(3)))
    mine, dead = (stage_name("segments", run, target.dialect) for run in ("run-a", "run-b"))
    assert mine != dead and mine.startswith("segments__cio_new_")
    unrelated = stage_name("segments_archive", "run-b", target.dialect)
    q = target.sql.quote
    by_hand(
        target,
        f"CREATE TABLE {q(dead)} (x INTEGER)",
        f"CREATE TABLE {q('segments__cio_new')} (x INTEGER)",  # before stages were per run
        f"CREATE TABLE {q(unrelated)} (x INTEGER)",
        f"CREATE TABLE {q('segments__cio_new_keepme12')} (x INTEGER)",  # no stage name
    )
    table.replace_staged([table.prepare(records(range(2)))], lambda c, o: None, run_id="run-a")
    names = set(sa.inspect(target.engine).get_table_names())
    assert dead not in names and "segments__cio_new" not in names and mine not in names
    assert unrelated in names and "segments__cio_new_keepme12" in names
    assert sorted(by_key(read(target, table))) == [0, 1]


def test_stage_names_fit_the_identifier_limit(target: Target) -> None:
    from cio_replicate.load.names import size
    from cio_replicate.load.replace import stage_name

    long_a, long_b = "t" * 62 + "a", "t" * 62 + "b"
    a, b = (stage_name(n, "run-a", target.dialect) for n in (long_a, long_b))
    assert a != b
    assert size(a, target.dialect) <= target.dialect.max_identifier
    assert stage_name(long_a, "run-b", target.dialect) != a
