"""``cio-replicate query``: output formats, -o, -f, --explain, --max-calls and exit codes."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from ..writeback.conftest import Cli

SQL = "SELECT id, name FROM Campaigns ORDER BY id"


def _campaigns(cli: Cli) -> list[tuple[int, str]]:
    return sorted((c["id"], c["name"]) for c in cli.sandbox.workspace.records("campaigns"))


def test_table_is_the_default(reading_cli: Cli) -> None:
    assert reading_cli("query", SQL) == 0, reading_cli.err
    lines = reading_cli.out.splitlines()
    assert "id" in lines[1] and "name" in lines[1]
    for cid, name in _campaigns(reading_cli):
        assert any(name in line and str(cid) in line for line in lines)
    assert lines[-1] == f"({len(_campaigns(reading_cli))} rows)"


@pytest.mark.parametrize("fmt", ["csv", "json", "jsonl"])
def test_each_format(reading_cli: Cli, fmt: str) -> None:
    assert reading_cli("query", "--format", fmt, SQL) == 0, reading_cli.err
    out = reading_cli.out
    if fmt == "csv":
        rows = [(int(r["id"]), r["name"]) for r in csv.DictReader(io.StringIO(out))]
    elif fmt == "json":
        rows = [(r["id"], r["name"]) for r in json.loads(out)]
    else:
        rows = [(r["id"], r["name"]) for r in map(json.loads, out.splitlines())]
    assert rows == _campaigns(reading_cli)


def test_output_file_and_sql_file(reading_cli: Cli, tmp_path: Path) -> None:
    source = tmp_path / "q.sql"
    source.write_text(SQL + ";\n", encoding="utf-8")
    target = tmp_path / "out.csv"
    code = reading_cli("query", "-f", str(source), "--format", "csv", "-o", str(target))
    assert code == 0, reading_cli.err
    assert reading_cli.out == ""
    with target.open(encoding="utf-8", newline="") as handle:
        assert len(list(csv.DictReader(handle))) == len(_campaigns(reading_cli))


def test_explain_runs_nothing(reading_cli: Cli) -> None:
    before = len(reading_cli.sandbox.requests)
    sql = "SELECT id FROM CampaignActions WHERE campaign_id = 2 AND sending_state = 'draft'"
    assert reading_cli("query", "--explain", sql) == 0, reading_cli.err
    out = reading_cli.out
    assert "CampaignActions (GET /v1/campaigns/{campaign_id}/actions)" in out
    assert "campaign_id = 2  ->  path" in out
    assert "evaluated locally (SQLite): WHERE campaign_id = 2 AND sending_state = 'draft'" in out
    assert "estimated API calls: 1" in out
    assert len(reading_cli.sandbox.requests) == before


def test_max_calls_and_bad_sql_exit_2(reading_cli: Cli) -> None:
    before = len(reading_cli.sandbox.requests)
    assert reading_cli("query", "--max-calls", "5", "SELECT * FROM CustomerActivities") == 2
    assert "more than --max-calls 5" in reading_cli.err and "WHERE cio_id" in reading_cli.err
    assert reading_cli("query", "SELECT name FROM Campaigns WHERE nmae = 'x'") == 2
    assert "did you mean 'name'?" in reading_cli.err and "column 34" in reading_cli.err
    assert reading_cli("query", "SELECT FROM WHERE") == 2
    assert "SQL syntax error" in reading_cli.err
    calls = reading_cli.sandbox.requests[before:]
    assert all(r.path == "/v1/customers" for r in calls)  # only the people count


def test_dml_through_the_cli(cli: Cli) -> None:
    code = cli("query", "--dry-run", "INSERT INTO Segments (name) VALUES ('CLI')")
    assert code == 0, cli.err
    assert "would send INSERT POST app /v1/segments" in cli.err
    assert "CLI" not in [s["name"] for s in cli.sandbox.workspace.records("segments")]
    assert cli("query", "INSERT INTO Segments (name) VALUES ('CLI')") == 0, cli.err
    assert "Segments insert: 1 row(s), sent 1, succeeded 1" in cli.out
    assert "CLI" in [s["name"] for s in cli.sandbox.workspace.records("segments")]


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_pipe_is_read_as_the_statement_and_a_terminal_gets_a_prompt(
    reading_cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("SELECT COUNT(*) AS n FROM Campaigns\n"))
    assert reading_cli("query", "--format", "jsonl") == 0, reading_cli.err
    count = len(_campaigns(reading_cli))
    assert json.loads(reading_cli.out) == {"n": count}
    typed = "SELECT COUNT(*) AS n \\\nFROM Campaigns\nSELECT nope FROM Campaigns\n\n"
    monkeypatch.setattr("sys.stdin", _Terminal(typed))
    assert reading_cli("query", "--format", "jsonl") == 0, reading_cli.err
    assert f'{{"n": {count}}}' in reading_cli.out
    assert "Campaigns has no column 'nope'" in reading_cli.err  # the prompt goes on


def test_json_log_format_keeps_data_on_stdout(reading_cli: Cli) -> None:
    assert reading_cli("--log-format", "json", "query", "--format", "json", SQL) == 0
    assert len(json.loads(reading_cli.out)) == len(_campaigns(reading_cli))
    closing = json.loads(reading_cli.err.splitlines()[-1])
    assert closing["event"] == "query.summary" and closing["exit_code"] == 0
    assert closing["rows"] == len(_campaigns(reading_cli))


def test_an_output_in_a_missing_folder_fails_before_any_call(
    reading_cli: Cli, tmp_path: Path
) -> None:
    before = len(reading_cli.sandbox.requests)
    assert reading_cli("query", "-o", str(tmp_path / "nope" / "x.csv"), SQL) == 2
    assert len(reading_cli.sandbox.requests) == before


def test_nested_values_and_markup_like_text(reading_cli: Cli) -> None:
    sql = "SELECT id, tags, active, '[bold]x[/bold]' AS t FROM Campaigns ORDER BY id"
    assert reading_cli("query", "--format", "json", sql) == 0, reading_cli.err
    first = min(reading_cli.sandbox.workspace.records("campaigns"), key=lambda c: c["id"])
    row = json.loads(reading_cli.out)[0]
    assert row["tags"] == first["tags"] and row["active"] is first["active"]
    assert reading_cli("query", sql) == 0, reading_cli.err
    assert (
        "[bold]x[/bold]" in reading_cli.out
        and json.dumps(first["tags"], ensure_ascii=False) in reading_cli.out
    )
