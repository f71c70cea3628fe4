"""`cio-replicate replicate` on a real terminal (a pseudo-terminal 100 columns wide)."""

from __future__ import annotations

import fcntl
import os
import pty
import re
import struct
import subprocess
import sys
import termios
from pathlib import Path

from .engine.conftest import EMBEDDED, subprocess_env

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def _on_a_terminal(args: list[str], env: dict[str, str]) -> tuple[int, str]:
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 100, 0, 0))
    proc = subprocess.Popen(
        [sys.executable, "-m", "cio_replicate", *args],
        env={**env, "TERM": "xterm"},
        stdin=slave,
        stdout=slave,
        stderr=slave,
    )
    os.close(slave)
    chunks = []
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # EIO: the terminal's other end is closed
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(master)
    code = proc.wait(timeout=300)
    return code, ANSI.sub("", b"".join(chunks).decode("utf-8", "replace"))


def test_a_terminal_gets_the_live_display_and_one_summary(tmp_path: Path) -> None:
    env = subprocess_env(EMBEDDED, f"sqlite:///{tmp_path / 't.db'}", None)
    code, text = _on_a_terminal(["replicate", "Campaigns", "CampaignActions", "Snippets"], env)
    assert code == 0, text[-3000:]
    assert "objects 0/3 done" in text  # the live display's run line was drawn
    lines = [line.strip("\r") for line in text.split("\n")]
    headers = [
        i for i, line in enumerate(lines) if line.startswith("object ") and " status " in line
    ]
    assert len(headers) == 1, text[-3000:]
    summary = lines[headers[0] :]  # before it: the live display's frames (erased on screen)
    for name in ("Campaigns", "CampaignActions", "Snippets"):
        assert sum(line.startswith(f"{name} ") for line in summary) == 1, text[-3000:]
        assert f"{name}: success" not in text  # no per-object line beside the summary
    assert "run " in lines[-2] and "success, 3 objects" in lines[-2]
