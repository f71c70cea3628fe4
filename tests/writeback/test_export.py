"""``cio-replicate export``: every object, typed values, columns, filters, stdout, memory."""

from __future__ import annotations

import csv
import io
import json
import re
import tracemalloc
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from cio_replicate.catalog import CATALOG, get_object
from cio_replicate.writeback.export import EXTRA_COLUMN, write_csv

from .conftest import Cli, read_csv

ISO_UTC = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00")


@pytest.mark.parametrize("name", [spec.name for spec in CATALOG])
def test_export_every_object(reading_cli: Cli, tmp_path: Path, name: str) -> None:
    cli = reading_cli
    spec = get_object(name)
    target = tmp_path / f"{spec.table}.csv"
    assert cli("export", name, "-o", str(target)) == 0, cli.err
    rows = read_csv(target)
    assert rows, f"{name}: no rows"
    assert f"{spec.name}: {len(rows)} rows" in cli.out
    header = list(rows[0])
    assert header[: len(spec.key)] == list(spec.key) and header[-1] == EXTRA_COLUMN
    keys = [tuple(row[k] for k in spec.key) for row in rows]
    assert all(all(part for part in key) for key in keys), "empty key"
    assert len(set(keys)) == len(keys), "duplicate key"
    for row in rows:
        for field in spec.timestamps:
            if row.get(field):
                assert ISO_UTC.fullmatch(row[field]), (field, row[field])
    assert not (tmp_path / f"{spec.table}.csv.part").exists()


def test_export_values_match_the_workspace(reading_cli: Cli, tmp_path: Path) -> None:
    cli, sandbox = reading_cli, reading_cli.sandbox
    assert cli("export", "Segments", "-o", str(tmp_path / "s.csv")) == 0
    rows = read_csv(tmp_path / "s.csv")
    first = sandbox.workspace.records("segments")[0]
    assert rows[0]["id"] == str(first["id"]) and rows[0]["name"] == first["name"]
    assert json.loads(rows[0]["tags"]) == first["tags"]
    assert rows[0]["progress"] == ""  # None
    assert cli("export", "Campaigns", "-o", str(tmp_path / "c.csv")) == 0
    campaign = read_csv(tmp_path / "c.csv")[0]
    expected = next(
        c for c in sandbox.workspace.records("campaigns") if str(c["id"]) == campaign["id"]
    )
    assert json.loads(campaign["actions"]) == expected["actions"]  # nested values: JSON text
    assert campaign["active"] == ("true" if expected["active"] else "false")
    assert cli("export", "Customers", "-o", str(tmp_path / "c.csv")) == 0
    people = read_csv(tmp_path / "c.csv")
    assert len(people) == sandbox.workspace.people.count()
    ann = next(p for p in people if p["id"] == "user-1")
    assert ann["created_at"] == "2024-01-02T00:00:00+00:00"
    assert ann["unsubscribed"] in ("true", "false")


def test_columns_filter_and_stdout(reading_cli: Cli) -> None:
    cli = reading_cli
    code = cli(
        "export",
        "Customers",
        "-o",
        "-",
        "--columns",
        "email,id,nope",
        "--filter",
        "Customers.email=person1@example.com",
    )
    assert code == 0, cli.err
    assert list(csv.reader(io.StringIO(cli.out))) == [
        ["email", "id", "nope"],
        ["person1@example.com", "user-1", ""],
    ]
    assert "no record had column(s) nope" in cli.err
    assert "Customers: 1 rows" in cli.err  # the summary stays off stdout


def test_fields_appearing_late_go_to_the_extra_column() -> None:
    spec = get_object("Snippets")
    rows = [{"name": "a", "value": "1"}, {"name": "b", "value": "2", "late": {"x": True}}]
    out = io.StringIO()
    result = write_csv(out, spec, rows, sample_size=1)
    assert list(csv.reader(io.StringIO(out.getvalue()))) == [
        ["name", "value", EXTRA_COLUMN],
        ["a", "1", ""],
        ["b", "2", '{"late": {"x": true}}'],
    ]
    assert result.rows_with_extra == 1


def test_streaming_keeps_memory_flat() -> None:
    spec = get_object("Messages")

    def many(n: int) -> Iterator[dict[str, Any]]:
        for i in range(n):
            yield {
                "id": f"m{i}",
                "created": 1_700_000_000 + i,
                "metrics": {"sent": i},
                "x": "y" * 50,
            }

    class Sink(io.TextIOBase):
        def write(self, text: str) -> int:
            return len(text)

    tracemalloc.start()
    result = write_csv(Sink(), spec, many(20_000))
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert result.rows == 20_000
    assert peak < 5_000_000, peak  # the 1,000-record sample, not 20,000 rows
