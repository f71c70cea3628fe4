"""Replicate, edit the tables, push them back with ``import --from-table`` (all three databases)."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from cio_replicate.sandbox import Sandbox
from cio_replicate.sandbox.people import LONG_NAME

from .conftest import Cli, read_csv


def test_replicated_tables_pushed_back(
    cli: Cli, sandbox: Sandbox, db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CIO_TARGET_URL", db_url)
    objects = ("Snippets", "ReportingWebhooks", "Customers")
    assert cli("replicate", *objects) == 0, cli.out + cli.err
    engine = sa.create_engine(db_url)
    snippets = sa.Table("snippets", sa.MetaData(), autoload_with=engine)
    hooks = sa.Table("reporting_webhooks", sa.MetaData(), autoload_with=engine)
    people = sa.Table("customers", sa.MetaData(), autoload_with=engine)
    with engine.begin() as conn:
        for (name,) in conn.execute(sa.select(snippets.c.name)).all():
            conn.execute(
                snippets.update().where(snippets.c.name == name).values(value=f"edited {name}")
            )
        conn.execute(hooks.update().where(hooks.c.id == 1).values(disabled=True))
        # the attribute "plan" is the column plan_ (snake names; reserved in SQLite)
        conn.execute(people.update().where(people.c.id == "user-1").values(plan_="gold"))
    engine.dispose()
    before = {p.cio_id: dict(p.attributes) for p in sandbox.workspace.people.iter_from(0)}

    assert cli("import", "Snippets", "--from-table", "snippets", "--operation", "update") == 0
    assert all(s["value"] == f"edited {s['name']}" for s in sandbox.workspace.records("snippets"))
    code = cli(
        "import", "ReportingWebhooks", "--from-table", "reporting_webhooks", "--operation", "update"
    )
    assert code == 0, cli.out + cli.err
    assert sandbox.workspace.record("webhooks", 1)["disabled"] is True
    assert sandbox.workspace.record("webhooks", 1)["events"] == ["email_sent", "email_delivered"]

    assert cli("import", "Customers", "--from-table", "customers", "--operation", "update") == 4
    rejects = read_csv(tmp_path / "customers.rejects.csv")
    assert rejects and all("attribute 'notes'" in r["_cio_error"] for r in rejects)
    ann = sandbox.workspace.people.find_by_id("user-1")
    assert ann is not None and ann.attributes["plan"] == "gold"
    for person in sandbox.workspace.people.iter_from(0):
        # shortened column names went back under their API names: no new attributes
        assert set(person.attributes) <= set(before[person.cio_id])
        if person.id != "user-1" and person.cio_id not in {r["cio_id"] for r in rejects}:
            assert person.attributes[LONG_NAME] == before[person.cio_id][LONG_NAME]
