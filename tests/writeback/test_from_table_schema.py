"""``import --from-table`` reads the table from ``target_schema`` (PostgreSQL, MariaDB)."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from cio_replicate.sandbox import Sandbox

from .conftest import Cli


def test_import_from_a_table_in_target_schema(
    server_url: str,
    new_schema: str,
    cli: Cli,
    sandbox: Sandbox,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CIO_TARGET_URL", server_url)
    monkeypatch.setenv("CIO_TARGET_SCHEMA", new_schema)
    assert cli("replicate", "Snippets") == 0, cli.out + cli.err
    engine = sa.create_engine(server_url)
    snippets = sa.Table("snippets", sa.MetaData(), schema=new_schema, autoload_with=engine)
    with engine.begin() as conn:
        conn.execute(snippets.update().values(value="edited " + snippets.c.name))
    engine.dispose()
    code = cli("import", "Snippets", "--from-table", "snippets", "--operation", "update")
    assert code == 0, cli.out + cli.err
    records = sandbox.workspace.records("snippets")
    assert records and all(s["value"] == f"edited {s['name']}" for s in records)
