"""The README's Query examples run as written, with no configuration (the in-process sandbox)."""

from __future__ import annotations

import os
import re
import shlex
from pathlib import Path

import pytest

from cio_replicate.cli import main


def _examples() -> list[str]:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    start = readme.index("## Query")
    section = readme[start : readme.index("\n## ", start + 1)]
    (block,) = re.findall(r"```sh\n(.*?)```", section, re.DOTALL)
    return ["cio-replicate" + part for part in block.split("cio-replicate") if part.strip()]


def test_the_query_examples_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in list(os.environ):
        if name.startswith("CIO_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    examples = _examples()
    assert len(examples) >= 6
    for example in examples:
        argv = shlex.split(example)[1:]
        assert main(argv) == 0, (example, capsys.readouterr())
    out = capsys.readouterr().out
    assert "estimated API calls:" in out and "delivery_id" in out
    assert (tmp_path / "mine.csv").read_text().startswith("subject,created")
