"""Import: rejects, dry run, re-import, interruption, hostile CSV, rows from a table."""

from __future__ import annotations

import csv
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

from cio_replicate.config import load_settings
from cio_replicate.connect import open_client
from cio_replicate.errors import UsageError
from cio_replicate.sandbox import Sandbox
from cio_replicate.writeback.csvfiles import RejectsWriter, read_header, read_rows
from cio_replicate.writeback.importer import MAX_COLUMNS, ImportJob, mapped_columns, run_import
from cio_replicate.writeback.progress import Journal

from .conftest import Cli, read_csv, write_csv, writes


def _collections(sandbox: Sandbox) -> list[str]:
    return [r["name"] for r in sandbox.workspace.records("collections")]


def test_good_and_bad_rows_rejects_file(cli: Cli, sandbox: Sandbox, tmp_path: Path) -> None:
    source = tmp_path / "cols.csv"
    source.write_text(
        "name,data\n"
        'good-1,"[{""a"": 1}]"\n'
        'bad-json,"[{""a"": 1}"\n'
        ',"[]"\n'
        "too,many,values\n"
        'good-2,"[{""b"": ""é""}]"\n',
        encoding="utf-8",
    )
    assert cli("import", "Collections", str(source), "--operation", "insert") == 4
    assert "Collections insert: 5 rows, sent 2, succeeded 2, rejected 3, skipped 0" in cli.out
    assert {"good-1", "good-2"} <= set(_collections(sandbox))
    assert "bad-json" not in _collections(sandbox)
    with (tmp_path / "cols.rejects.csv").open(encoding="utf-8", newline="") as handle:
        rejects = list(csv.reader(handle))
    assert rejects == [
        ["name", "data", "_cio_error", "_cio_row"],
        [
            "bad-json",
            '[{"a": 1}',
            "data is not valid JSON (Expecting ',' delimiter at position 9)",
            "2",
        ],
        ["", "[]", "INSERT into Collections needs name", "3"],
        ["too", "many", "values", "row has 3 values but the header has 2 columns", "4"],
    ]
    assert (tmp_path / "cols.csv.progress").exists()  # kept: a rerun skips the good rows


def test_dry_run_validates_prints_and_sends_nothing(
    cli: Cli, sandbox: Sandbox, tmp_path: Path
) -> None:
    source = write_csv(
        tmp_path / "p.csv",
        ["id", "email", "plan"],
        [["dry-1", "dry1@x.io", "pro"], ["", "", "x"], ["user-1", "", "pro"]],
    )
    assert cli("import", "Customers", str(source), "--operation", "insert", "--dry-run") == 4
    assert writes(sandbox) == []
    assert (
        'row 1: would send INSERT PUT track /api/v1/customers/dry-1 {"plan": "pro", "email": "dry1@x.io"}'
        in cli.out
    )
    assert "row 2: rejected: INSERT into Customers needs id (PersonId) or email" in cli.out
    assert "row 3: skipped: already exists: person cio_id a0000001" in cli.out
    assert "would send 1, succeeded 0, rejected 1, skipped 1" in cli.out
    assert not (tmp_path / "p.csv.progress").exists()


def test_reimport_creates_no_duplicates(cli: Cli, sandbox: Sandbox, tmp_path: Path) -> None:
    segments = write_csv(tmp_path / "s.csv", ["name"], [["Seg A"], ["Seg B"]])
    people = write_csv(
        tmp_path / "p.csv", ["id", "email"], [["re-1", "re1@x.io"], ["", "re2@x.io"]]
    )
    for _ in range(2):
        assert cli("import", "Segments", str(segments), "--operation", "insert") == 0
        assert cli("import", "Customers", str(people), "--operation", "insert") == 0
    assert "sent 0, succeeded 0, rejected 0, skipped 2" in cli.out
    names = [r["name"] for r in sandbox.workspace.records("segments")]
    assert names.count("Seg A") == 1 and names.count("Seg B") == 1
    emails = [p.email for p in sandbox.workspace.people.iter_from(0)]
    assert emails.count("re1@x.io") == 1 and emails.count("re2@x.io") == 1
    assert len([w for w in writes(sandbox) if w.path == "/v1/segments"]) == 2


class Crash(Exception):
    """Stands for the process dying (kill -9) in the middle of an import."""


def _crashing(sandbox: Sandbox, after_writes: int, applied: bool) -> httpx.MockTransport:
    """A transport that dies on the n-th write, before or after the sandbox applied it."""
    seen = {"writes": 0}

    def handle(request: httpx.Request) -> httpx.Response:
        is_write = request.method != "GET" and request.url.path != "/v1/customers"
        if is_write:
            seen["writes"] += 1
            if seen["writes"] == after_writes and not applied:
                raise Crash
        response = sandbox.handle(request)
        if is_write and seen["writes"] == after_writes:
            raise Crash
        return response

    return httpx.MockTransport(handle)


def _run(path: Path, obj: str, transport: httpx.BaseTransport) -> None:
    settings = load_settings(None, env={})
    job = ImportJob(obj, "insert", read_header(path), {})
    journal = Journal(path.with_name(path.name + ".progress"))
    with (
        open_client(settings, transport=transport, sleep=lambda _s: None) as client,
        RejectsWriter(path.with_name("rejects.csv"), job.columns) as rejects,
    ):
        run_import(job, read_rows(path), client, rejects, journal, lambda _line: None)


@pytest.mark.parametrize("applied", [False, True], ids=["before-apply", "after-apply"])
@pytest.mark.parametrize(
    ("obj", "rows", "count"),
    [
        ("Collections", [[f"c{i}", "[]"] for i in range(5)], lambda sb: _collections(sb)),
        (
            "Customers",
            [[f"k{i}", f"k{i}@x.io"] for i in range(5)],
            lambda sb: [p.id for p in sb.workspace.people.iter_from(0)],
        ),
    ],
)
def test_interrupted_import_reruns_safely(
    sandbox: Sandbox,
    tmp_path: Path,
    applied: bool,
    obj: str,
    rows: list[list[str]],
    count: Callable[[Sandbox], list[str]],
) -> None:
    header = ["name", "data"] if obj == "Collections" else ["id", "email"]
    path = write_csv(tmp_path / "in.csv", header, rows)
    with pytest.raises(Crash):
        _run(path, obj, _crashing(sandbox, 3, applied))
    assert path.with_name("in.csv.progress").read_text().count("\n") == 2  # rows 1 and 2
    _run(path, obj, sandbox.transport())
    names = count(sandbox)
    for key, *_ in rows:
        assert names.count(key) == 1, key
    assert not path.with_name("in.csv.progress").exists()  # finished: journal removed
    sent = [w for w in writes(sandbox) if w.method in ("POST", "PUT")]
    assert len(sent) == 5  # each row reached the API once (the crashed one: at most once)


def test_hostile_csv(cli: Cli, sandbox: Sandbox, tmp_path: Path) -> None:
    long_value = ('Quote " and, comma\nnew line 🎉 ' * 400)[:10_000]
    names = [r["name"] for r in sandbox.workspace.records("snippets")]
    source = tmp_path / "hostile.csv"
    with source.open("w", encoding="utf-8-sig", newline="") as handle:  # with a BOM
        writer = csv.writer(handle)
        writer.writerow(["name", "value"])
        writer.writerow([names[0], long_value])
        writer.writerow([names[1], 'multi\r\nline "quoted" 👩‍💻 value'])
    assert source.read_bytes().startswith(b"\xef\xbb\xbf")
    assert cli("import", "Snippets", str(source), "--operation", "update") == 0
    assert sandbox.workspace.record("snippets", names[0])["value"] == long_value.strip()
    assert (
        sandbox.workspace.record("snippets", names[1])["value"]
        == 'multi\r\nline "quoted" 👩‍💻 value'
    )

    people = tmp_path / "people.csv"
    with people.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", 'nick"name', "bio"])
        writer.writerow(["h-1", 'O\'Brien "Ace"', "line1\nline2 🎉"])
        writer.writerow(["h-2", "x", "y" * 10_000])
    assert cli("import", "Customers", str(people), "--operation", "insert") == 4
    person = next(p for p in sandbox.workspace.people.iter_from(0) if p.id == "h-1")
    assert person.attributes == {'nick"name': 'O\'Brien "Ace"', "bio": "line1\nline2 🎉"}
    (reject,) = read_csv(tmp_path / "people.rejects.csv")
    assert reject["bio"] == "y" * 10_000 and reject["id"] == "h-2"
    assert reject["_cio_error"] == (
        "attribute 'bio' is 10000 bytes; the Track API takes at most 1000 bytes per value"
    )


def test_import_from_a_table(
    cli: Cli, sandbox: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path}/target.db"
    engine = sa.create_engine(url)
    names = [r["name"] for r in sandbox.workspace.records("snippets")]
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "CREATE TABLE snippets (name TEXT PRIMARY KEY, value TEXT, updated_at TIMESTAMP, "
                "_cio_synced_at TIMESTAMP)"
            )
        )
        for name in names:
            conn.execute(
                sa.text("INSERT INTO snippets VALUES (:n, :v, :t, :t)"),
                {"n": name, "v": f"edited {name}", "t": datetime(2026, 1, 1, tzinfo=UTC)},
            )
    engine.dispose()
    monkeypatch.setenv("CIO_TARGET_URL", url)
    monkeypatch.chdir(tmp_path)
    assert cli("import", "Snippets", "--from-table", "snippets", "--operation", "update") == 0
    assert [r["value"] for r in sandbox.workspace.records("snippets")] == [
        f"edited {n}" for n in names
    ]


@pytest.mark.parametrize(
    "obj",
    ["NewsletterVariants", "CampaignActions", "Snippets", "Collections", "ReportingWebhooks"],
)
def test_export_then_update_round_trip(
    cli: Cli, sandbox: Sandbox, tmp_path: Path, obj: str
) -> None:
    target = tmp_path / "out.csv"
    assert cli("export", obj, "-o", str(target)) == 0
    rows = len(read_csv(target))
    assert cli("import", obj, str(target), "--operation", "update") == 0, cli.out + cli.err
    assert f"{rows} rows, sent {rows}, succeeded {rows}, rejected 0" in cli.out


def test_customers_round_trip_refuses_only_oversized_values(
    cli: Cli, sandbox: Sandbox, tmp_path: Path
) -> None:
    target = tmp_path / "people.csv"
    assert cli("export", "Customers", "-o", str(target)) == 0
    assert cli("import", "Customers", str(target), "--operation", "update") == 4
    rejects = read_csv(tmp_path / "people.rejects.csv")
    assert [r["_cio_error"].split(" is ")[0] for r in rejects] == ["attribute 'notes'"] * len(
        rejects
    )
    people = len(read_csv(target))
    assert (
        f"{people} rows, sent {people - len(rejects)}, succeeded {people - len(rejects)}" in cli.out
    )


def test_a_name_repeated_in_one_file_is_inserted_once(
    cli: Cli, sandbox: Sandbox, tmp_path: Path
) -> None:
    source = write_csv(tmp_path / "c.csv", ["name", "data"], [["twice", "[]"], ["twice", "[1]"]])
    assert cli("import", "Collections", str(source), "--operation", "insert", "--dry-run") == 0
    assert (
        "row 2: skipped: already exists: Collections name 'twice' (an earlier row inserts it"
        in cli.out
    )
    assert cli("import", "Collections", str(source), "--operation", "insert") == 0
    assert _collections(sandbox).count("twice") == 1
    assert "row 2: skipped: already exists: Collections name 'twice' (it is id" in cli.out


def test_no_rejects_file_unless_a_row_fails(cli: Cli, sandbox: Sandbox, tmp_path: Path) -> None:
    source = write_csv(tmp_path / "s.csv", ["name"], [["No Rejects"]])
    assert cli("import", "Segments", str(source), "--operation", "insert") == 0
    assert not (tmp_path / "s.rejects.csv").exists()
    # A rejects file of an earlier run is left as it was, and the run says so.
    stale = tmp_path / "s.rejects.csv"
    stale.write_text("name,_cio_error,_cio_row\nold,earlier error,1\n")
    again = write_csv(tmp_path / "s.csv", ["name"], [["Also No Rejects"]])
    assert cli("import", "Segments", str(again), "--operation", "insert") == 0
    assert stale.read_text() == "name,_cio_error,_cio_row\nold,earlier error,1\n"
    assert f"note: {stale} is from an earlier run" in cli.err


def test_a_rejects_file_in_a_missing_folder_is_exit_2_before_any_write(
    cli: Cli, sandbox: Sandbox, tmp_path: Path
) -> None:
    source = write_csv(tmp_path / "s.csv", ["name"], [["Never Sent"]])
    missing = tmp_path / "no" / "such" / "r.csv"
    args = ("import", "Segments", str(source), "--operation", "insert")
    assert cli(*args, "--rejects", str(missing)) == 2
    (line,) = [ln for ln in cli.err.splitlines() if not ln.startswith("using ")]
    assert line.startswith("error: cannot write the rejects file") and "does not exist" in line
    assert cli(*args, "--rejects", str(tmp_path)) == 2
    assert "is a folder" in cli.err
    assert writes(sandbox) == []


def test_wide_headers_are_linear_and_limited(cli: Cli, sandbox: Sandbox, tmp_path: Path) -> None:
    # 80,000 columns: refused at once with the reason (the quadratic check took ~54 s).
    wide = tmp_path / "wide.csv"
    wide.write_text(",".join(f"c{i}" for i in range(80_000)) + "\n" + "x," * 79_999 + "x\n")
    assert cli("import", "Customers", str(wide), "--operation", "insert", "--dry-run") == 2
    assert "the input has 80,000 columns; an import takes at most 10,000" in cli.err
    # Up to the limit, the mapping is checked in one pass and still finds a clash.
    names = [f"c{i}" for i in range(MAX_COLUMNS)]
    assert len(mapped_columns(names, {"c0": "email"})) == MAX_COLUMNS
    with pytest.raises(UsageError, match="several columns map to the same field: c9"):
        mapped_columns(names, {"c1": "c9"})
    with pytest.raises(UsageError, match=r"not in the input: nmae; did you mean 'name'\?"):
        mapped_columns(["id", "name"], {"nmae": "x"})
    assert writes(sandbox) == []


def test_the_people_lookup_is_a_read_retried_after_a_server_error(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    """The lookup before each Customers write is a search sent as POST: its caller marks
    it a read, so a 503 does not fail the row (the client knows no search paths)."""
    lookups = {"n": 0}

    def handle(request: httpx.Request) -> httpx.Response:
        if request.method == "POST" and request.url.path == "/v1/customers":
            lookups["n"] += 1
            if lookups["n"] == 1:
                return httpx.Response(503, json={"errors": [{"detail": "try again"}]})
        return sandbox.handle(request)

    path = write_csv(tmp_path / "in.csv", ["id", "email"], [["r1", "r1@x.io"]])
    _run(path, "Customers", httpx.MockTransport(handle))
    assert lookups["n"] == 2
    assert [p.id for p in sandbox.workspace.people.iter_from(0)].count("r1") == 1
