"""What a command writes, log output versus data, and the closing summary object.

Log output (progress, per-object lines, notes, warnings, errors) goes to stderr:
text lines, or with ``--log-format json`` one JSON object per line
(:func:`cio_replicate.logs.emit`). Data the user asked for goes to stdout as is:
the ``status`` and ``objects`` listings (and their ``--json``), ``export -o -``
CSV, the answer of ``call``, the ``sandbox serve`` banner, ``--help``.

In JSON mode every exit path ends with ONE summary object holding
``exit_code`` (``event`` ``<command>.summary``, plus the command's figures,
e.g. the run of ``replicate``). It goes to stdout, unless the command wrote
data there, then to stderr: either way ``>> log 2>&1`` gets only JSON lines
from commands that write no data.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from typing import Any

from ..logs import emit, json_line, log_format, set_log_format


@dataclass
class Outcome:
    command: str = "cio-replicate"
    fields: dict[str, Any] = field(default_factory=dict)
    data_on_stdout: bool = False


_CURRENT = [Outcome()]

LEVELS = {0: "info", 4: "warning"}


def begin(argv: list[str]) -> None:
    """A fresh outcome for this invocation; the format from argv until click parses it."""
    _CURRENT[0] = Outcome()
    fmt = "text"
    for i, arg in enumerate(argv):
        if arg == "--log-format" and i + 1 < len(argv):
            fmt = argv[i + 1]
        elif arg.startswith("--log-format="):
            fmt = arg.split("=", 1)[1]
    set_log_format(fmt)


def set_command(name: str | None) -> None:
    if name:
        _CURRENT[0].command = name


def summary(**fields: Any) -> None:
    """Figures for the closing summary object (JSON mode)."""
    _CURRENT[0].fields.update(fields)


def data_output() -> None:
    """The command writes data to stdout: the closing summary object goes to stderr."""
    _CURRENT[0].data_on_stdout = True


def json_mode() -> bool:
    return log_format() == "json"


def say(event: str, message: str, *, level: str = "info", err: bool = False, **fields: Any) -> None:
    """A result line: text on stdout (``err``: stderr), or in JSON mode a JSON line on stderr."""
    shown = {k: v for k, v in fields.items() if v is not None}
    stream = sys.stderr if json_mode() or err else sys.stdout
    emit(event, message, level=level, stream=stream, **shown)


def error(
    message: str, code: int, *, text: str | None = None, event: str = "error", **fields: Any
) -> None:
    """An ``error:`` line (text) or an ``error`` event (JSON), on stderr."""
    shown = {k: v for k, v in fields.items() if v is not None}
    emit(event, message, level="error", text=text or f"error: {message}", exit_code=code, **shown)


def finish(code: int) -> None:
    """JSON mode: the closing summary object with the exit code (text mode: nothing)."""
    if not json_mode():
        return
    outcome = _CURRENT[0]
    status = outcome.fields.pop("status", None)
    message = f"{outcome.command}: exit code {code}" + (f", {status}" if status else "")
    line = json_line(
        f"{outcome.command}.summary",
        message,
        level=LEVELS.get(code, "error"),
        exit_code=code,
        **({"status": status} if status else {}),
        **outcome.fields,
    )
    stream = sys.stderr if outcome.data_on_stdout else sys.stdout
    print(line, file=stream, flush=True)
