"""``import --from-table`` reads the table from ``target_schema`` (PostgreSQL, MariaDB)."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa

from cio_replicate.sandbox import Sandbox

from .conftest import Cli


@pytest.mark.parametrize(
    "dialect",
    [
        pytest.param("postgres", marks=pytest.mark.postgres),
        pytest.param("mysql", marks=pytest.mark.mysql),
    ],
)
def test_import_from_a_table_in_target_schema(
    dialect: str,
    request: pytest.FixtureRequest,
    cli: Cli,
    sandbox: Sandbox,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    url = str(request.getfixturevalue(f"{dialect}_url"))
    schema = f"ts_{uuid.uuid4().hex[:12]}"
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CIO_TARGET_URL", url)
    monkeypatch.setenv("CIO_TARGET_SCHEMA", schema)
    engine = sa.create_engine(url)
    try:
        assert cli("replicate", "Snippets") == 0, cli.out + cli.err
        snippets = sa.Table("snippets", sa.MetaData(), schema=schema, autoload_with=engine)
        with engine.begin() as conn:
            conn.execute(snippets.update().values(value="edited " + snippets.c.name))
        code = cli("import", "Snippets", "--from-table", "snippets", "--operation", "update")
        assert code == 0, cli.out + cli.err
        records = sandbox.workspace.records("snippets")
        assert records and all(s["value"] == f"edited {s['name']}" for s in records)
    finally:
        with engine.begin() as conn:
            if dialect == "postgres":
                conn.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
            else:
                conn.exec_driver_sql(f"DROP DATABASE IF EXISTS `{schema}`")
        engine.dispose()
