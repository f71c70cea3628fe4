from __future__ import annotations

import sqlalchemy as sa

from cio_replicate.cli import main


def test_version_prints_and_exits_zero(capsys: object) -> None:
    assert main(["--version"]) == 0


def test_db_url_fixture_gives_an_empty_database(db_url: str) -> None:
    engine = sa.create_engine(db_url)
    with engine.connect() as conn:
        assert sa.inspect(conn).get_table_names() == []
    engine.dispose()
