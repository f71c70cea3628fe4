"""The query command's local copy of Customers is typed like the replicated table: numbers
compare and aggregate as numbers, identifiers stay text."""

from __future__ import annotations

from cio_replicate.sandbox import Sandbox

from .conftest import Run


def test_attribute_numbers_aggregate_as_numbers(run: Run, sandbox: Sandbox) -> None:
    people = list(sandbox.workspace.iter_people())
    values = [int(p.attributes["lifetimevalue"]) for p in people]
    (row,) = run.rows("SELECT MAX(lifetimevalue) AS top, SUM(age) AS ages FROM Customers")
    assert row["top"] == max(values) and type(row["top"]) is int
    assert row["ages"] == sum(int(p.attributes["age"]) for p in people)


def test_a_numeric_looking_id_stays_text(run: Run, sandbox: Sandbox) -> None:
    sandbox.workspace.create_person("42", "x@example.com", {"visits": 3})
    (row,) = run.rows("SELECT id, visits FROM Customers WHERE email = 'x@example.com'")
    assert row == {"id": "42", "visits": 3}
