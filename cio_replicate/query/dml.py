"""INSERT, UPDATE and DELETE through the write path of ``import``.

The statement becomes rows of field values, as a CSV file would give them
(text; NULL leaves a field out), and each row goes through the object's writer
(:mod:`cio_replicate.writeback`): the same column checks, value checks,
existence checks and Customer.io calls as ``import``. UPDATE and DELETE select
the key of the rows their WHERE matches first (a SELECT with the same
pushdowns, so ``WHERE id = 5`` costs no listing where the API allows).

Nothing is sent unless every row passes: all rows are planned first (as a dry
run does); a rejected row fails the statement (exit 2) with its reason.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlglot import exp

from ..catalog import get_object
from ..errors import ApiError, NotFoundError, PartialFailure, UsageError
from ..http import CioClient
from ..writeback import dml as writeback_dml
from ..writeback.importer import ImportJob, check_job, make_writer
from ..writeback.plan import Plan as RowPlan
from ..writeback.wire import send
from .parse import Statement, node_position
from .pushdown import literal, text

Echo = Callable[[str], None]
Select = Callable[[str, exp.Expr], list[dict[str, Any]]]
"""Runs a SELECT (text, tree) and returns its rows by column name."""


@dataclass(frozen=True)
class Change:
    object_name: str
    mode: writeback_dml.Mode
    columns: tuple[str, ...]
    rows: tuple[dict[str, Any], ...]


@dataclass
class DmlSummary:
    object: str
    operation: str
    rows: int = 0
    sent: int = 0
    succeeded: int = 0
    skipped: int = 0
    failed: int = 0
    dry_run: bool = False
    lines: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "object": self.object,
            "operation": self.operation,
            "rows": self.rows,
            "sent": self.sent,
            "succeeded": self.succeeded,
            "skipped": self.skipped,
            "failed": self.failed,
            "dry_run": self.dry_run,
        }

    def text(self) -> str:
        verb = "would send" if self.dry_run else "sent"
        return (
            f"{self.object} {self.operation}: {self.rows} row(s), {verb} {self.sent}, "
            f"succeeded {self.succeeded}, skipped {self.skipped}, failed {self.failed}"
        )


def key_fields(object_name: str) -> tuple[str, ...]:
    """The fields an UPDATE or DELETE row is addressed by."""
    if object_name == writeback_dml.CUSTOMERS:
        return ("cio_id",)
    return writeback_dml.write_spec(object_name).key


def _table(statement: Statement) -> exp.Table:
    assert statement.tree is not None
    target = statement.tree.this
    table = target.this if isinstance(target, exp.Schema) else target
    if not isinstance(table, exp.Table):
        raise UsageError(f"{statement.kind.upper()} needs an object name")
    return table


def _value(statement: Statement, node: exp.Expr) -> str | None:
    if isinstance(node, exp.Null):
        return None
    found = literal(node)
    if found is None:
        raise UsageError(
            f"only literal values can be written ('text', numbers, TRUE, FALSE, NULL); got "
            f"{node.sql()!r} at {node_position(statement.text, node)}"
        )
    return text(found)


def change_of(statement: Statement, select: Select) -> Change:
    """The rows the statement writes (UPDATE/DELETE: after selecting them)."""
    tree = statement.tree
    assert tree is not None
    table = _table(statement)
    mode: writeback_dml.Mode = {"insert": "insert", "update": "update", "delete": "delete"}[
        statement.kind
    ]  # type: ignore[assignment]
    try:
        name, _ = writeback_dml.resolve(table.name, mode)
    except UsageError as exc:
        raise UsageError(f"{exc} (at {node_position(statement.text, table)})") from None
    if statement.kind == "insert":
        return _insert(statement, tree, name)
    keys = key_fields(name)
    sets: dict[str, str | None] = {}
    for item in tree.expressions if statement.kind == "update" else []:
        if not isinstance(item, exp.EQ) or not isinstance(item.this, exp.Column):
            raise UsageError(f"SET expects column = value, got {item.sql()!r}")
        sets[item.this.name] = _value(statement, item.expression)
    clash = [k for k in sets if k in keys]
    if clash:
        raise UsageError(f"the key {', '.join(clash)} of {name} cannot be changed by UPDATE")
    check_job(ImportJob(name, mode, (*keys, *sets), {}))  # before the rows are selected
    query = exp.select(*[exp.column(k) for k in keys]).from_(table.copy())
    where = tree.args.get("where")
    if where is not None:
        query = query.where(where.this.copy())
    selected = select(query.sql(), query)
    rows = tuple({**{k: _key_text(r.get(k)) for k in keys}, **sets} for r in selected)
    return Change(name, mode, (*keys, *sets), rows)


def _key_text(raw: Any) -> str | None:
    return None if raw is None else text(raw)


def _insert(statement: Statement, tree: exp.Expr, name: str) -> Change:
    target = tree.this
    if not isinstance(target, exp.Schema) or not target.expressions:
        example = f"INSERT INTO {name} (a, b) VALUES ..."  # noqa: S608 - an example
        raise UsageError(f"INSERT into {name} names its columns: {example}")
    columns = tuple(c.name for c in target.expressions)
    values = tree.expression
    if not isinstance(values, exp.Values):
        raise UsageError("INSERT takes VALUES (...) rows (INSERT ... SELECT is not supported)")
    rows = []
    for row in values.expressions:
        items = row.expressions if isinstance(row, exp.Tuple) else [row]
        if len(items) != len(columns):
            raise UsageError(
                f"a VALUES row has {len(items)} value(s) for {len(columns)} column(s) "
                f"at {node_position(statement.text, row)}"
            )
        rows.append(dict(zip(columns, (_value(statement, v) for v in items), strict=True)))
    return Change(name, "insert", columns, tuple(rows))


def apply(
    change: Change, client: CioClient, *, dry_run: bool, echo: Echo, verbose: bool = False
) -> DmlSummary:
    """Check every row, then (unless ``dry_run``) send them; see the module's description."""
    get_object(change.object_name)
    check_job(ImportJob(change.object_name, change.mode, change.columns, {}))
    summary = DmlSummary(change.object_name, change.mode, len(change.rows), dry_run=dry_run)
    checker = make_writer(change.object_name, client)
    plans: list[RowPlan] = []
    problems: list[str] = []
    for number, values in enumerate(change.rows, start=1):
        planned = checker.plan(change.mode, _present(values))
        if planned.outcome == "reject":
            problems.append(f"row {number}: {planned.message}")
        elif planned.outcome == "send":
            checker.applied(planned, None)
        plans.append(planned)
    if problems:
        shown = "; ".join(problems[:5]) + (
            f"; ... ({len(problems)} in all)" if len(problems) > 5 else ""
        )
        raise UsageError(f"nothing was written: {shown}")
    if dry_run:
        for number, planned in enumerate(plans, start=1):
            if planned.request is not None:
                summary.sent += 1
                echo(f"row {number}: would send {planned.operation} {planned.request.describe()}")
            else:
                summary.skipped += 1
                echo(f"row {number}: skipped: {planned.message}")
        return summary
    _send_all(change, client, summary, echo, verbose)
    if summary.failed:
        raise PartialFailure(summary.text())
    return summary


def _present(values: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v is not None}


def _send_all(
    change: Change, client: CioClient, summary: DmlSummary, echo: Echo, verbose: bool
) -> None:
    writer = make_writer(change.object_name, client)
    for number, values in enumerate(change.rows, start=1):
        planned = writer.plan(change.mode, _present(values))
        if planned.outcome != "send" or planned.request is None:
            summary.skipped += 1
            echo(f"row {number}: skipped: {planned.message}")
            continue
        summary.sent += 1
        try:
            response = send(client, planned.request)
        except NotFoundError:
            gone = writer.missing(planned)
            summary.skipped += gone.outcome != "reject"
            summary.failed += gone.outcome == "reject"
            echo(f"row {number}: {gone.message}")
            continue
        except ApiError as exc:
            summary.failed += 1
            echo(f"row {number}: failed: {exc}")
            continue
        note = writer.applied(planned, response)
        summary.succeeded += 1
        if verbose:
            echo(f"row {number}: {planned.operation} done{f' ({note})' if note else ''}")


def rows_by_name(columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> list[dict[str, Any]]:
    return [dict(zip(columns, row, strict=True)) for row in rows]
