"""A query's answer as an aligned table, CSV, a JSON array or JSON lines.

Values as the local engine answers them (times as ISO 8601 UTC, as ``export``
writes them). JSON columns hold
JSON text; JSON output keeps it as text too (the answer of ``json_extract``
and friends is a plain value already).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from typing import IO, Any, Literal

from rich.console import Console
from rich.table import Table

Format = Literal["table", "csv", "json", "jsonl"]
FORMATS: tuple[Format, ...] = ("table", "csv", "json", "jsonl")


def value(raw: Any) -> Any:
    if isinstance(raw, bytes):
        return raw.decode("utf-8", "replace")
    return raw


def _text(raw: Any) -> str:
    if raw is None:
        return ""
    if isinstance(raw, bool):
        return "true" if raw else "false"
    return str(raw)


def write(
    out: IO[str],
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    fmt: Format,
    *,
    terminal: bool = False,
) -> None:
    cells = [[value(v) for v in row] for row in rows]
    if fmt == "csv":
        writer = csv.writer(out)
        writer.writerow(columns)
        writer.writerows([[_text(v) for v in row] for row in cells])
    elif fmt == "json":
        json.dump([dict(zip(columns, row, strict=True)) for row in cells], out, ensure_ascii=False)
        out.write("\n")
    elif fmt == "jsonl":
        for row in cells:
            out.write(json.dumps(dict(zip(columns, row, strict=True)), ensure_ascii=False) + "\n")
    else:
        out.write(table_text(columns, cells, terminal=terminal))


def table_text(columns: Sequence[str], rows: Sequence[Sequence[Any]], *, terminal: bool) -> str:
    """The rows as an aligned table (rich), and the row count."""
    table = Table(*columns, show_lines=False, header_style="bold" if terminal else "")
    for row in rows:
        table.add_row(*[_text(v) if v is not None else "NULL" for v in row])
    buffer = io.StringIO()
    console = Console(
        file=buffer,
        width=None if terminal else 10_000,
        force_terminal=terminal,
        color_system="auto" if terminal else None,
        soft_wrap=not terminal,
    )
    console.print(table)
    count = f"({len(rows)} row{'s' if len(rows) != 1 else ''})\n"
    return buffer.getvalue() + count
