"""A query's answer as an aligned table, CSV, a JSON array or JSON lines.

Values as the local engine answers them: times as ISO 8601 UTC (as ``export``
writes them), booleans as booleans, nested values (JSON columns) as JSON text in
a table or CSV and as JSON values in the JSON formats. Cells are shown as plain
text (a value such as ``[bold]`` is never read as rich markup).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from typing import IO, Any, Literal

from rich.console import Console
from rich.table import Table
from rich.text import Text

from .local import Answer

Format = Literal["table", "csv", "json", "jsonl"]
FORMATS: tuple[Format, ...] = ("table", "csv", "json", "jsonl")


def _text(raw: Any) -> str:
    if raw is None:
        return ""
    if isinstance(raw, bool):
        return "true" if raw else "false"
    if isinstance(raw, bytes):
        return raw.decode("utf-8", "replace")
    return str(raw)


def _json_value(raw: Any, nested: bool) -> Any:
    if isinstance(raw, bytes):
        return raw.decode("utf-8", "replace")
    if nested and isinstance(raw, str):
        try:
            return json.loads(raw)
        except ValueError:
            return raw
    return raw


def records(answer: Answer) -> list[dict[str, Any]]:
    """The rows as JSON objects (column -> value)."""
    return [
        {
            name: _json_value(value, i in answer.nested)
            for i, (name, value) in enumerate(zip(answer.columns, row, strict=True))
        }
        for row in answer.rows
    ]


def write(out: IO[str], answer: Answer, fmt: Format, *, terminal: bool = False) -> None:
    if fmt == "csv":
        writer = csv.writer(out)
        writer.writerow(answer.columns)
        writer.writerows([[_text(v) for v in row] for row in answer.rows])
    elif fmt == "json":
        json.dump(records(answer), out, ensure_ascii=False)
        out.write("\n")
    elif fmt == "jsonl":
        for record in records(answer):
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
    else:
        out.write(table_text(answer.columns, answer.rows, terminal=terminal))


def table_text(columns: Sequence[str], rows: Sequence[Sequence[Any]], *, terminal: bool) -> str:
    """The rows as an aligned table (rich), then the row count."""
    table = Table(header_style="bold" if terminal else "")
    for column in columns:
        table.add_column(Text(column))
    for row in rows:
        table.add_row(*[Text(_text(v) if v is not None else "NULL") for v in row])
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
