"""A MariaDB/MySQL database created with a latin1 default (MariaDB's compiled-in
default) replicates exactly: emoji, non-Latin names and values included."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from cio_replicate.load import Target
from cio_replicate.sandbox import Sandbox

from ..conftest import MYSQL_URL, _require
from .conftest import Harness, client_for
from .expected import check_tables

pytestmark = pytest.mark.mysql
OBJECTS = ["Customers", "CustomersAttributes", "Campaigns", "Objects", "Collections"]
TABLES = ["customers", "customers_attributes", "campaigns", "objects", "collections"]


@pytest.fixture
def latin1_url() -> Iterator[str]:
    _require(MYSQL_URL, "MariaDB/MySQL")
    name = f"t_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(MYSQL_URL)
    with admin.begin() as conn:
        conn.execute(sa.text(f"CREATE DATABASE `{name}` CHARACTER SET latin1"))
    yield f"{MYSQL_URL.rsplit('/', 1)[0]}/{name}"
    with admin.begin() as conn:
        conn.execute(sa.text(f"DROP DATABASE `{name}`"))
    admin.dispose()


def test_a_latin1_database_replicates_exactly(latin1_url: str) -> None:
    sb = Sandbox("tiny", seed=1)
    client = client_for(sb)
    target = Target(latin1_url, clock=sb.clock)
    try:
        sb.workspace.create_person(id="emoji-😀", email="zoë@example.com",
                                   attributes={"名前 😀": "Zoë 🎉", "city": "Zürich"})  # fmt: skip
        h = Harness(sb, latin1_url, client, target)
        report = h.run(OBJECTS)
        assert report.status == "success", [r.message for r in report.failed]
        assert check_tables(latin1_url, sb.workspace, TABLES) == {}
        sb.clock.advance(60)
        again = h.run(OBJECTS)
        assert again.status == "success", [r.message for r in again.failed]
        assert check_tables(latin1_url, sb.workspace, TABLES) == {}
    finally:
        client.close()
        target.dispose()
