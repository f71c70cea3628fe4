"""SQL straight over Customer.io: ``cio-replicate query "SQL"``, no database needed.

Modules, each one concern::

    parse     SQL text -> one statement (sqlglot), syntax errors with their position
    names     the objects read and the object of each column (unknown names: exit 2)
    pushdown  which conditions the API applies (filters, parent ids, time bounds)
    plan      a SELECT's reads, what SQLite evaluates, LIMIT's early stop
    cost      the API calls each read will make, before it runs
    local     the in-memory SQLite database, loaded through the replicator's loader
    select    estimate, check --max-calls, fetch through the extractors, answer
    dml       INSERT/UPDATE/DELETE through the write path of ``import``
    output    an aligned table, CSV, JSON, JSON lines

:func:`prepare` is pure (no call); :func:`execute` runs a prepared statement.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlglot import exp

from ..extract import ListingCache
from ..http import CioClient
from ..writeback import procedures
from .dml import DmlSummary, apply, change_of, rows_by_name
from .local import Answer, LocalStore
from .output import FORMATS, Format, write
from .parse import Statement, parse_statement
from .plan import Plan, make_plan
from .select import DEFAULT_MAX_CALLS, Reader, check_calls, estimates, explain_lines, run_select

__all__ = [
    "DEFAULT_MAX_CALLS",
    "FORMATS",
    "Answer",
    "Format",
    "Options",
    "Prepared",
    "Result",
    "execute",
    "prepare",
    "write",
]

Echo = Callable[[str], None]


@dataclass(frozen=True)
class Options:
    now: int
    max_calls: int = DEFAULT_MAX_CALLS
    explain: bool = False
    dry_run: bool = False
    verbose: bool = False


@dataclass(frozen=True)
class Prepared:
    statement: Statement
    plan: Plan | None = None
    """A SELECT's plan (None for DML and calls, whose SELECT is planned when run)."""

    @property
    def kind(self) -> str:
        return self.statement.kind


@dataclass
class Result:
    answer: Answer | None = None
    explain: list[str] = field(default_factory=list)
    dml: DmlSummary | None = None
    request: dict[str, Any] | None = None
    """A call's request, in a dry run."""


def prepare(text: str) -> Prepared:
    """Parse and check the statement (objects, columns): no API call."""
    statement = parse_statement(text)
    if statement.kind == "select":
        assert statement.tree is not None
        return Prepared(statement, make_plan(text, statement.tree))
    if statement.kind == "call":
        procedures.prepare(text, {}, 0.0)  # a wrong procedure or argument: before any call
    return Prepared(statement)


def execute(prepared: Prepared, client: CioClient, options: Options, echo: Echo) -> Result:
    reader = Reader(client, options.now, ListingCache(), options.max_calls)
    if prepared.kind == "call":
        return _call(prepared, client, options)
    if prepared.plan is not None:
        return _select(prepared.plan, reader, options)
    return _dml(prepared.statement, reader, client, options, echo)


def _select(plan: Plan, reader: Reader, options: Options) -> Result:
    found = estimates(plan, reader)
    if options.explain:
        return Result(explain=explain_lines(plan, found))
    check_calls(found, options.max_calls)
    store = LocalStore()
    try:
        return Result(answer=run_select(plan, reader, store))
    finally:
        store.close()


def _dml(
    statement: Statement, reader: Reader, client: CioClient, options: Options, echo: Echo
) -> Result:
    lines: list[str] = []

    def select(text: str, tree: exp.Expr) -> list[dict[str, Any]]:
        plan = make_plan(text, tree)
        found = estimates(plan, reader)
        lines.extend(explain_lines(plan, found))
        if options.explain:
            return []
        check_calls(found, options.max_calls)
        store = LocalStore()
        try:
            answer = run_select(plan, reader, store)
        finally:
            store.close()
        return rows_by_name(answer.columns, answer.rows)

    change = change_of(statement, select)
    if options.explain:
        lines.append(f"then {change.mode.upper()} {change.object_name} through the import path")
        return Result(explain=lines)
    summary = apply(change, client, dry_run=options.dry_run, echo=echo, verbose=options.verbose)
    return Result(dml=summary)


def _call(prepared: Prepared, client: CioClient, options: Options) -> Result:
    request = procedures.prepare(prepared.statement.text, {}, options.now)
    if options.dry_run or options.explain:
        return Result(request=request.as_dict())
    answer = procedures.call(client, request)
    data = answer if isinstance(answer, dict) else {"answer": answer}
    columns = tuple(data)
    row = tuple(v if not isinstance(v, dict | list) else json.dumps(v) for v in data.values())
    return Result(answer=Answer(columns, [row]))
