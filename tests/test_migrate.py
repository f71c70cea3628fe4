"""Alembic for the system tables: on every dialect, idempotent, concurrent-safe."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from cio_replicate import systables
from cio_replicate.migrate import (
    VERSION_TABLE,
    alembic_config,
    current_revision,
    head_revision,
    migration_options,
    needs_upgrade,
    script_location,
    upgrade,
)

SYSTEM_TABLES = {
    "_cio_state",
    "_cio_runs",
    "_cio_run_objects",
    "_cio_columns",
    "_cio_locks",
    "_cio_source",
    "_cio_sync_collections",
    "_cio_target",
}
HEAD = "0005_target"


def table_names(url: str) -> set[str]:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return set(sa.inspect(conn).get_table_names())
    finally:
        engine.dispose()


def _version_rows(url: str) -> list[str]:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            version = sa.table(VERSION_TABLE, sa.column("version_num"))
            return [str(v) for v in conn.execute(sa.select(version.c.version_num)).scalars()]
    finally:
        engine.dispose()


def test_script_location_holds_the_environment_and_revisions() -> None:
    where = Path(script_location())
    assert (where / "env.py").is_file()
    assert (where / "script.py.mako").is_file()
    assert list((where / "versions").glob("0001_*.py"))
    assert list((where / "versions").glob("0005_*.py"))
    assert head_revision() == HEAD


def test_upgrade_creates_exactly_the_systemtable_names(db_url: str) -> None:
    assert current_revision(db_url) is None
    assert needs_upgrade(db_url)
    assert upgrade(db_url) == head_revision()
    assert table_names(db_url) == SYSTEM_TABLES | {VERSION_TABLE}
    assert not needs_upgrade(db_url)


def test_upgrade_is_idempotent_and_takes_an_engine(db_url: str) -> None:
    engine = sa.create_engine(db_url)
    try:
        assert upgrade(engine) == HEAD
        assert upgrade(engine) == HEAD
        assert current_revision(engine) == HEAD
    finally:
        engine.dispose()
    assert _version_rows(db_url) == [HEAD]


def test_migrated_schema_matches_systables_and_ignores_datatable_names(db_url: str) -> None:
    upgrade(db_url)
    engine = sa.create_engine(db_url)
    try:
        with engine.begin() as conn:
            conn.execute(sa.text("CREATE TABLE campaigns (id INTEGER PRIMARY KEY)"))
        with engine.connect() as conn:
            options = migration_options(conn.dialect.name)
            scoped = MigrationContext.configure(conn, opts=options)
            assert compare_metadata(scoped, systables.metadata) == []
            # Without include_name, autogenerate would drop the data table:
            options.pop("include_name")
            unscoped = MigrationContext.configure(conn, opts=options)
            diffs = compare_metadata(unscoped, systables.metadata)
            assert [d[0] for d in diffs] == ["remove_table"]
            assert diffs[0][1].name == "campaigns"
    finally:
        engine.dispose()


def test_downgrade_to_base_and_back(sqlite_url: str) -> None:
    upgrade(sqlite_url)
    engine = sa.create_engine(sqlite_url)
    try:
        with engine.begin() as conn:
            command.downgrade(alembic_config(conn), "base")
        assert table_names(sqlite_url) == {VERSION_TABLE}
        assert current_revision(engine) is None
        assert upgrade(engine) == HEAD
    finally:
        engine.dispose()
    assert SYSTEM_TABLES <= table_names(sqlite_url)


def test_concurrent_upgrades_from_several_processes(db_url: str) -> None:
    code = "import sys; from cio_replicate.migrate import upgrade; print(upgrade(sys.argv[1]))"
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", code, db_url],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(4)
    ]
    results = [proc.communicate() for proc in procs]
    for proc, (out, err) in zip(procs, results, strict=True):
        assert proc.returncode == 0, err
        assert out.strip() == HEAD
    assert _version_rows(db_url) == [HEAD]
    assert table_names(db_url) == SYSTEM_TABLES | {VERSION_TABLE}
