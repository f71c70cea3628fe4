"""The README's write-back examples run as written, with no configuration (the in-process sandbox)."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import shlex
import sqlite3
import subprocess
from pathlib import Path

import pytest

from cio_replicate.cli import main

EXAMPLES = [
    "cio-replicate export Campaigns -o campaigns.csv",
    "cio-replicate import Segments segments.csv --operation insert",
    "cio-replicate import Customers people.csv --operation insert --dry-run",
    "cio-replicate import Customers people.csv --operation insert",
    "cio-replicate call \"call SendTransactionalEmailWithTemplate(1, 'ann@example.com', "
    "'ann@example.com', NULL, 'Welcome', NULL, '{\\\"code\\\": \\\"1234\\\"}')\"",
    "cio-replicate call \"call IdentifyObject('1', 'vehicle_5', 'identify', "
    '\'{\\"Make\\": \\"Volkswagen\\"}\', \'[{\\"identifiers\\": {\\"id\\": \\"user-1\\"}}]\')"',
]


@pytest.fixture
def no_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in list(os.environ):
        if name.startswith("CIO_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "segments.csv").write_text("name,description\nVIP,Top customers\n")
    (tmp_path / "people.csv").write_text("id,email,plan\nann-1,ann@example.com,pro\n")
    return tmp_path


def test_readme_examples_run_against_the_sandbox(
    no_config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for example in EXAMPLES:
        argv = shlex.split(example)[1:]
        assert main(argv) == 0, (example, capsys.readouterr())
    out = capsys.readouterr().out
    assert (no_config / "campaigns.csv").read_text().startswith("id,")
    assert "Segments insert: 1 rows, sent 1, succeeded 1" in out
    assert 'would send INSERT PUT track /api/v1/customers/ann-1 {"plan": "pro"' in out
    answers = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    assert set(answers[0]) == {"delivery_id", "queued_at"} and answers[1] == {}


def _write_path_commands() -> list[str]:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    section = readme[readme.index("## Write path") : readme.index("## The sandbox")]
    blocks = re.findall(r"```sh\n(.*?)```", section, re.DOTALL)
    return [line for block in blocks for line in block.splitlines() if line.strip()]


def test_readme_write_path_blocks_run_as_written_on_the_demo(
    no_config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Every line of the README's write-path examples, literally, against the demo."""
    commands = _write_path_commands()
    assert any("--filter" in c for c in commands) and any(" call " in c for c in commands)
    for line in commands:
        capsys.readouterr()
        if line.startswith("printf "):
            subprocess.run(["sh", "-c", line], cwd=no_config, check=True)
            continue
        if line.startswith("sqlite3 "):  # the Sync example edits the table with SQL
            _, database, statement = shlex.split(line)
            with sqlite3.connect(no_config / database) as db:
                db.execute(statement)
            continue
        assert line.startswith("cio-replicate "), line
        code = main(shlex.split(line, comments=True)[1:])
        out = capsys.readouterr()
        assert code == 0, (line, out.err)
        if "export" in line and "-o -" in line:
            rows = list(csv.DictReader(io.StringIO(out.out)))
            assert rows, f"{line}: no rows in the demo"
            assert {r["campaign_id"] for r in rows} <= {"2", "5"}
        if line.startswith("cio-replicate sync Collections --dry-run"):
            assert "would create in Customer.io: (new) 'stores'" in out.out
            assert "would update in Customer.io: #1 'products_2026'" in out.out
