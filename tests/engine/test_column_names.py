"""``column_names``: a new target gets snake columns from a full replication; an existing
target keeps the naming it was made with, and a setting that contradicts it exits 2."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa
from alembic import command

from cio_replicate import migrate
from cio_replicate.cli import main
from cio_replicate.load import Target, column_map
from cio_replicate.load.names import digest

from .conftest import Harness
from .expected import TABLES, check_tables

UNQUOTED = "SELECT id, favorite_color, lifetime_value, address_city, select_, plan_ FROM customers"


@pytest.fixture(autouse=True)
def _no_ambient_config(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("CIO_CONFIG", "CIO_TARGET_URL", "CIO_SOURCE", "CIO_APP_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("CIO_COLUMN_NAMES", raising=False)
    monkeypatch.setenv("CIO_SANDBOX_SCALE", "tiny")
    monkeypatch.setenv("CIO_SANDBOX_SEED", "1")


def _columns(url: str, table: str) -> dict[str, str]:
    engine = sa.create_engine(url)
    try:
        return {c.api_name: c.name for c in column_map(engine, table) if c.type != "raw"}
    finally:
        engine.dispose()


def _naming_row(url: str) -> list[str]:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return list(conn.execute(sa.text("SELECT column_names FROM _cio_target")).scalars())
    finally:
        engine.dispose()


def test_a_full_replication_into_a_new_target_has_snake_columns(harness: Harness) -> None:
    report = harness.run(["all"])
    assert [r.name for r in report.results if r.status != "success"] == []
    assert _naming_row(harness.url) == ["snake"]
    assert check_tables(harness.url, harness.sandbox.workspace, TABLES) == {}  # nothing lost
    customers = _columns(harness.url, "customers")
    assert customers["Favorite Color"] == "favorite_color"
    assert customers["LifetimeValue"] == "lifetime_value"
    assert customers["address.city"] == "address_city"
    assert customers["select"] == "select_" and customers["plan"] == "plan_"
    assert customers["名前 (ユニコード)"] == "_" + digest("名前 (ユニコード)")
    assert _columns(harness.url, "campaign_actions")["from"] == "from_"
    for table in TABLES:
        for name in _columns(harness.url, table).values():
            assert name == name.lower() and " " not in name and "." not in name, (table, name)
    with harness.target.connect() as conn:  # an analyst's query: no quotes
        rows = conn.execute(sa.text(UNQUOTED)).all()
    assert rows and {r.favorite_color for r in rows} - {None}


def test_an_api_target_stays_api_when_the_setting_is_unset(harness: Harness) -> None:
    api = Target(harness.url, clock=harness.sandbox.clock, column_names="api")
    first = Harness(harness.sandbox, harness.url, harness.client, api)
    assert first.run(["Customers"]).status == "success"
    api.dispose()
    assert _columns(harness.url, "customers")["Favorite Color"] == "Favorite Color"
    harness.sandbox.clock.advance(60)
    assert harness.run(["Customers", "Segments"]).status == "success"  # setting unset
    assert _naming_row(harness.url) == ["api"]
    assert _columns(harness.url, "customers")["Favorite Color"] == "Favorite Color"
    assert _columns(harness.url, "segments")  # a new table of an api target is api too
    assert check_tables(harness.url, harness.sandbox.workspace, ["customers", "segments"]) == {}


def test_a_target_from_before_the_setting_stays_api_after_the_upgrade(
    harness: Harness, capsys: pytest.CaptureFixture[str]
) -> None:
    """Written at revision 0004 (no _cio_target): upgraded, it is recorded api."""
    api = Target(harness.url, clock=harness.sandbox.clock, column_names="api")
    assert Harness(harness.sandbox, harness.url, harness.client, api).run(["Customers"]).status
    api.dispose()
    engine = sa.create_engine(harness.url)
    with engine.begin() as conn:  # back to the schema a 0004 target has
        command.downgrade(migrate.alembic_config(conn), "0004_collections")
    assert not sa.inspect(engine).has_table("_cio_target")
    engine.dispose()
    args = ["replicate", "Customers", "--source", "sandbox", "--target-url", harness.url]
    assert main(args) == 0
    assert migrate.current_revision(harness.url) == migrate.head_revision()
    assert _naming_row(harness.url) == ["api"]
    assert _columns(harness.url, "customers")["Favorite Color"] == "Favorite Color"


def test_snake_asked_of_an_api_target_exits_2_and_says_what_to_do(
    harness: Harness, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    api = Target(harness.url, clock=harness.sandbox.clock, column_names="api")
    assert Harness(harness.sandbox, harness.url, harness.client, api).run(["Segments"]).status
    api.dispose()
    capsys.readouterr()
    monkeypatch.setenv("CIO_COLUMN_NAMES", "snake")
    args = ["replicate", "Customers", "--source", "sandbox", "--target-url", harness.url]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "column_names" in err and "'api'" in err and "'snake'" in err
    assert "Remove column_names" in err and "target_schema" in err
    assert "customers" not in sa.inspect(harness.target.engine).get_table_names()
    monkeypatch.setenv("CIO_COLUMN_NAMES", "api")  # the recorded value: fine
    assert main(args) == 0


def test_objects_json_shows_the_snake_mapping(
    harness: Harness, capsys: pytest.CaptureFixture[str]
) -> None:
    assert harness.run(["Customers"]).status == "success"
    capsys.readouterr()
    assert main(["objects", "--json", "--target-url", harness.url]) == 0
    document = json.loads(capsys.readouterr().out)
    customers = next(o for o in document["objects"] if o["name"] == "Customers")
    assert customers["columns"]["Favorite Color"] == "favorite_color"
    assert customers["columns"]["LifetimeValue"] == "lifetime_value"
    assert customers["columns"]["select"] == "select_"
    assert document["column_names"] == "snake"
