"""``cio-replicate export``: every object, typed values, columns, filters, stdout, memory."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import stat
import subprocess
import sys
import threading
import tracemalloc
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from cio_replicate.catalog import CATALOG, get_object
from cio_replicate.writeback.export import EXTRA_COLUMN, write_csv
from cio_replicate.writeback.outputs import check_output

from .conftest import Cli, read_csv

ISO_UTC = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00")


NO_DELETED_PEOPLE = ("DeletedPeopleActivities",)
"""Empty until someone is deleted: exported by the test below it, on a sandbox of its own."""


@pytest.mark.parametrize("name", [s.name for s in CATALOG if s.name not in NO_DELETED_PEOPLE])
def test_export_every_object(reading_cli: Cli, tmp_path: Path, name: str) -> None:
    _export_checked(reading_cli, tmp_path, name)


def test_export_the_activities_of_deleted_people(cli: Cli, tmp_path: Path) -> None:
    ws = cli.sandbox.workspace
    person = ws.people.get(0)
    assert person is not None
    ws.delete_person(person)
    rows = _export_checked(cli, tmp_path, "DeletedPeopleActivities")
    assert {json.loads(r["customer_identifiers"])["cio_id"] for r in rows} == {person.cio_id}


def _export_checked(cli: Cli, tmp_path: Path, name: str) -> list[dict[str, str]]:
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
    return rows


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


# --- mistakes, outputs, spreadsheets ------------------------------------------------


def test_an_unknown_column_is_exit_2_and_writes_nothing(reading_cli: Cli, tmp_path: Path) -> None:
    cli = reading_cli
    target = tmp_path / "c.csv"
    assert cli("export", "Campaigns", "-o", str(target), "--columns", "id,nmae") == 2
    assert "Campaigns has no field 'nmae'; did you mean 'name'? (fields: id, " in cli.err
    assert cli.err.count("error: ") == 1
    assert not target.exists() and not (tmp_path / "c.csv.part").exists()
    # a field the records carry but the reference does not list is never refused
    rows = [{"id": 1, "brand_new_field": "x"}]
    out = io.StringIO()
    write_csv(out, get_object("Campaigns"), rows, ["id", "brand_new_field"])
    assert out.getvalue().splitlines() == ["id,brand_new_field", "1,x"]


def test_a_filter_on_an_object_not_exported_is_exit_2_before_any_call(
    reading_cli: Cli, tmp_path: Path
) -> None:
    cli, sandbox = reading_cli, reading_cli.sandbox
    before = len(sandbox.requests)
    assert cli("export", "Segments", "-o", "-", "--filter", "Campaigns.id=2") == 2
    assert "restricts Campaigns, which export Segments does not read" in cli.err
    assert cli("export", "Campaigns", "-o", "-", "--filter", "Campaigns.idd=2") == 2
    assert "did you mean 'id'?" in cli.err
    assert cli("export", "Campains", "-o", "-") == 2
    assert "unknown object 'Campains'; did you mean 'Campaigns'?" in cli.err
    assert len(sandbox.requests) == before
    # The filter on a parent restricts the child export.
    assert cli("export", "CampaignActions", "-o", "-", "--filter", "Campaigns.id=2") == 0
    rows = list(csv.DictReader(io.StringIO(cli.out)))
    assert rows and {r["campaign_id"] for r in rows} == {"2"}


@pytest.mark.parametrize("where", ["missing-folder", "folder"])
def test_a_bad_output_path_is_one_line_exit_2_before_any_call(
    reading_cli: Cli, tmp_path: Path, where: str
) -> None:
    cli, sandbox = reading_cli, reading_cli.sandbox
    target = tmp_path / "no" / "such" / "x.csv" if where == "missing-folder" else tmp_path
    before = len(sandbox.requests)
    assert cli("export", "Segments", "-o", str(target)) == 2
    (line,) = cli.err.splitlines()
    expected = "does not exist (create it first)" if where == "missing-folder" else "is a folder"
    assert line.startswith("error: ") and expected in line
    assert len(sandbox.requests) == before


def test_a_fifo_is_written_straight(reading_cli: Cli, tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)
    # A write end held by the test: the reader's open never blocks, and it reaches the end
    # of the data once the export and this end are closed, whatever the export did.
    held = os.open(fifo, os.O_RDWR)
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()))
    reader.start()
    try:
        code = reading_cli("export", "Segments", "-o", str(fifo))
    finally:
        os.close(held)
        reader.join()
    assert code == 0, reading_cli.err
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)  # still the FIFO, not replaced by a file
    rows = list(csv.DictReader(io.StringIO(got[0].decode())))
    assert len(rows) == len(reading_cli.sandbox.workspace.records("segments"))
    assert not (tmp_path / "pipe.csv.part").exists()


def _export_to_fd_1(stdout: Any, tmp_path: Path) -> subprocess.CompletedProcess[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CIO_")}
    env["CIO_SANDBOX_SCALE"] = "tiny"
    return subprocess.run(
        # /dev/fd/1, not /dev/stdout: should this regress, the old '.part then rename'
        # fails in /proc instead of replacing the machine's /dev/stdout (as root)
        [sys.executable, "-m", "cio_replicate", "export", "Segments", "-o", "/dev/fd/1"],
        stdout=stdout,
        stderr=subprocess.PIPE,
        cwd=tmp_path,
        env=env,
        check=False,
        timeout=120,
    )


def test_stdout_by_path_is_written_straight_to_a_pipe_or_an_appended_file(
    tmp_path: Path,
) -> None:
    for name in ("/dev/stdout", "/dev/stderr", "/dev/fd/1", "/proc/self/fd/1"):
        assert check_output(name).kind == "direct", name
    piped = _export_to_fd_1(subprocess.PIPE, tmp_path)
    assert piped.returncode == 0, piped.stderr.decode()
    lines = piped.stdout.decode().splitlines()
    assert lines[0].startswith("id,") and len(lines) > 1
    assert b"rows," in piped.stderr  # the summary stays out of the CSV
    log = tmp_path / "log.txt"
    log.write_text("kept line\n")
    with log.open("ab") as handle:  # like `>> log.txt`: the file must not be replaced
        appended = _export_to_fd_1(handle, tmp_path)
    assert appended.returncode == 0, appended.stderr.decode()
    assert log.read_text().splitlines() == ["kept line", *lines]


def test_a_symlinked_file_is_replaced_through_the_link(reading_cli: Cli, tmp_path: Path) -> None:
    real = tmp_path / "real.csv"
    real.write_text("old\n")
    real.chmod(0o640)
    link = tmp_path / "link.csv"
    link.symlink_to(real)
    assert reading_cli("export", "Segments", "-o", str(link)) == 0, reading_cli.err
    assert link.is_symlink() and real.read_text().startswith("id,")
    assert stat.S_IMODE(real.stat().st_mode) == 0o640
    assert not (tmp_path / "real.csv.part").exists()


def test_spreadsheet_safe_mode_escapes_formulas_but_not_numbers() -> None:
    spec = get_object("Snippets")
    values = ["=1+1", "+cmd", "-2+3", "@SUM(A1)", "\tx", "\rx", "-5", "+3.5", "-1e3", "a=b", ""]
    rows = [{"name": f"n{i}", "value": v} for i, v in enumerate(values)]
    plain, safe = io.StringIO(), io.StringIO()
    assert write_csv(plain, spec, rows).risky == 6
    result = write_csv(safe, spec, rows, safe=True)
    assert result.risky == 6
    read = [r["value"] for r in csv.DictReader(io.StringIO(safe.getvalue()))]
    assert read == [
        "'=1+1", "'+cmd", "'-2+3", "'@SUM(A1)", "'\tx", "'\rx", "-5", "+3.5", "-1e3", "a=b", "",
    ]  # fmt: skip
    assert [r["value"] for r in csv.DictReader(io.StringIO(plain.getvalue()))] == values


def test_spreadsheet_safe_export_of_a_person_attribute(
    cli: Cli, sandbox: Any, tmp_path: Path
) -> None:
    person = sandbox.workspace.people.find_by_id("user-1")
    sandbox.workspace.update_person(person, {"nickname": '=HYPERLINK("http://x.io","hi")'})
    target = tmp_path / "people.csv"
    filters = ("--filter", "Customers.id=user-1", "--columns", "id,nickname,score")
    assert cli("export", "Customers", "-o", str(target), *filters) == 0, cli.err
    assert read_csv(target)[0]["nickname"] == '=HYPERLINK("http://x.io","hi")'  # unchanged
    assert "1 cell(s) begin with = + - @" in cli.err and "--spreadsheet-safe" in cli.err
    assert cli("export", "Customers", "-o", str(target), *filters, "--spreadsheet-safe") == 0
    assert read_csv(target)[0]["nickname"] == '\'=HYPERLINK("http://x.io","hi")'
    assert "--spreadsheet-safe" not in cli.err
