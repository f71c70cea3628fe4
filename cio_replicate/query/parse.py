"""SQL text -> one statement: a SELECT, an INSERT/UPDATE/DELETE, or a procedure call.

Parsed with sqlglot (its default dialect, which reads the SQL analysts write:
standard joins, aggregates, ``LIMIT``, quoted identifiers). ``call NAME(...)``
is recognised first and left to :mod:`cio_replicate.writeback.sqlcall`, which
the ``call`` command uses too. A syntax error is a UsageError (exit 2) giving
the line and column and the text around them.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Literal

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError, TokenError

from ..errors import UsageError

Kind = Literal["select", "insert", "update", "delete", "call"]

_CALL = re.compile(r"^\s*(?:call|exec|execute)\s+[A-Za-z_]", re.IGNORECASE)


@dataclass(frozen=True)
class Statement:
    kind: Kind
    text: str
    tree: exp.Expr | None = None
    """The sqlglot tree (None for a call, which sqlcall parses)."""


def position(text: str, line: int, col: int) -> str:
    """``line 1, column 17: select from >>>where<<< ...``."""
    lines = text.splitlines() or [""]
    shown = lines[line - 1] if 0 < line <= len(lines) else ""
    where = f"line {line}, column {col}" if len(lines) > 1 else f"column {col}"
    if not shown:
        return where
    marker = " " * max(0, col - 1) + "^"
    return f"{where}:\n  {shown}\n  {marker}"


def node_position(text: str, node: exp.Expr) -> str:
    """Where a node of the tree starts in ``text`` (its identifier's position)."""
    ident = node.this if isinstance(node, exp.Column | exp.Table) else node
    meta = getattr(ident, "meta", None) or {}
    if "line" in meta and "col" in meta:
        start = int(meta.get("start", 0))
        end = int(meta.get("end", start))
        return position(text, int(meta["line"]), int(meta["col"]) - (end - start))
    return "position unknown"


def parse_statement(text: str) -> Statement:
    """One statement (a trailing ``;`` allowed); UsageError for anything else."""
    if not text.strip():
        raise UsageError("no SQL given: pass a statement, -f FILE.sql, or run on a terminal")
    if _CALL.match(text):
        return Statement("call", text)
    quiet = logging.getLogger("sqlglot")
    level = quiet.level
    quiet.setLevel(logging.ERROR)  # its "falling back to a Command" note: we say it better
    try:
        trees = [t for t in sqlglot.parse(text) if t is not None]
    except ParseError as exc:
        first = exc.errors[0] if exc.errors else {}
        where = position(text, int(first.get("line", 1)), int(first.get("col", 1)))
        detail = str(first.get("description", exc)).split(" for <")[0]
        raise UsageError(f"SQL syntax error at {where}\n{_friendly(detail)}") from None
    except TokenError as exc:
        raise UsageError(f"SQL syntax error: {exc}") from None
    finally:
        quiet.setLevel(level)
    if len(trees) != 1:
        raise UsageError(f"one statement at a time, got {len(trees)}")
    tree = trees[0]
    if isinstance(tree, exp.Query):
        return Statement("select", text, tree)
    if isinstance(tree, exp.Insert):
        return Statement("insert", text, tree)
    if isinstance(tree, exp.Update):
        return Statement("update", text, tree)
    if isinstance(tree, exp.Delete):
        return Statement("delete", text, tree)
    raise UsageError(
        f"unsupported statement {text.strip().split()[0].upper()!r}: use SELECT, INSERT, "
        "UPDATE, DELETE or call NAME(...)"
    )


def _friendly(detail: str) -> str:
    """sqlglot's message, with its token dump shortened to the token's text."""
    token = re.search(r"<Token token_type: [^,]+, text: ([^,]*),", detail)
    if token is not None:
        detail = detail[: token.start()] + repr(token.group(1)) + " " + detail[token.end() :]
        detail = re.sub(r"line: .*?>", "", detail).strip()
    return detail
