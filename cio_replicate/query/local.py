"""The local engine: an in-memory SQLite database loaded through the replicator's
own mapper and loader, where everything the API cannot do is evaluated.

Each object read becomes the table the replicator would make of it (same
column names, timestamps as UTC, nested values as JSON text, rows upserted by
key so a record listed twice counts once). The statement is then rewritten for
that database (:func:`local_sql`): object names become table names, a column no
record had becomes NULL, time literals compared with a timestamp column become
the stored form, and conditions the API already applied and the records cannot
express (people's ``segment_id``) become TRUE.

The statement is the user's own SQL, transpiled by sqlglot and run as is on
this private database (not the tool's own SQL: there is no Core form of an
arbitrary statement).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.pool import StaticPool
from sqlglot import exp

from .. import systables
from ..catalog import ObjectSpec
from ..load import TableWriter, Target
from ..load.names import SYNCED_AT
from .names import Resolved
from .pushdown import literal, unix

STORED_TIME = "%Y-%m-%d %H:%M:%S.%f"
"""How the loader's UtcDateTime keeps a time in SQLite (UTC wall time, as text)."""


@dataclass(frozen=True)
class Answer:
    columns: tuple[str, ...]
    rows: list[tuple[Any, ...]]


class LocalStore:
    """One statement's private SQLite database."""

    def __init__(self) -> None:
        engine = sa.create_engine("sqlite://", poolclass=StaticPool)
        self.target = Target(engine)
        with self.target.begin() as conn:
            systables.columns.create(conn)
        self._writers: dict[str, TableWriter] = {}
        self._stubs: set[str] = set()

    def close(self) -> None:
        self.target.engine.dispose()

    def writer(self, spec: ObjectSpec) -> TableWriter:
        found = self._writers.get(spec.name)
        if found is None:
            found = self.target.table(spec.table, key=spec.key, timestamps=spec.timestamps)
            found.object_name = spec.name
            self._writers[spec.name] = found
        return found

    def load(self, spec: ObjectSpec, records: Sequence[Mapping[str, Any]]) -> None:
        """Add a batch of the object's records (upserted by key)."""
        if not records:
            return
        writer = self.writer(spec)
        rows = writer.prepare(records)
        with self.target.begin() as conn:
            writer.upsert(conn, rows)

    def ensure(self, spec: ObjectSpec) -> None:
        """Make sure the object's table exists (an object with no record: no column)."""
        writer = self.writer(spec)
        if writer.columns or spec.table in self._stubs:
            return
        stub = sa.Table(writer.name, sa.MetaData(), sa.Column(SYNCED_AT, sa.Text))
        with self.target.begin() as conn:
            stub.create(conn)
        self._stubs.add(spec.table)

    def column(self, spec: ObjectSpec, field: str) -> tuple[str, bool] | None:
        """(SQL column name, is a timestamp) of a field, or None if no record had it."""
        col = self.writer(spec).column(field)
        return None if col is None else (col.name, col.type == "timestamp")

    def run(self, sql: str) -> Answer:
        with self.target.connect() as conn:
            result = conn.exec_driver_sql(sql)
            names = tuple(result.keys())
            rows = [tuple(shown(v) for v in r) for r in result.fetchall()]
        return Answer(names, rows)

    def count(self, sql: str) -> int:
        """Rows the statement answers (for LIMIT's early stop)."""
        answer = self.run(f"SELECT COUNT(*) FROM ({sql})")  # noqa: S608 - our own wrapper
        return int(answer.rows[0][0])


_STORED = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}")


def shown(raw: Any) -> Any:
    """A stored time as ISO 8601 UTC (as ``export`` writes it); other values as they are."""
    if isinstance(raw, str) and _STORED.fullmatch(raw):
        return datetime.fromisoformat(raw + "+00:00").isoformat().replace(".000000", "")
    return raw


def stored_time(seconds: int) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime(STORED_TIME)


_COMPARISONS = (exp.EQ, exp.NEQ, exp.GT, exp.GTE, exp.LT, exp.LTE)


def local_sql(
    tree: exp.Expr, resolved: Resolved, store: LocalStore, dropped: Iterable[int] = ()
) -> str:
    """The statement for the local database (see the module's description)."""
    gone = set(dropped)
    copy = tree.copy()
    # the copy's nodes are new objects: map them by their place in a parallel walk
    pairs = list(zip(tree.walk(), copy.walk(), strict=True))
    for old, new in pairs:
        if isinstance(old, exp.Column) and isinstance(new, exp.Column):
            source = resolved.source_of(old)
            if source is not None:
                _column(new, source.spec, store)
    for old, new in pairs:
        if id(old) in gone:
            new.replace(exp.true())
    for table in list(copy.find_all(exp.Table)):
        _table(table, resolved, store)
    for node in list(copy.find_all(*_COMPARISONS, exp.Between, exp.In)):
        _times(node)
    for column in list(copy.find_all(exp.Column)):
        if column.meta.get("cio_null"):
            named = isinstance(column.parent, exp.Select) and column.arg_key == "expressions"
            column.replace(exp.alias_(exp.Null(), column.name) if named else exp.Null())
    return copy.sql(dialect="sqlite")


def _column(column: exp.Column, spec: ObjectSpec, store: LocalStore) -> None:
    found = store.column(spec, column.name)
    if found is None:
        column.meta["cio_null"] = True
        return
    name, is_time = found
    column.set("this", exp.to_identifier(name, quoted=True))
    if is_time:
        column.meta["cio_time"] = True


def _table(table: exp.Table, resolved: Resolved, store: LocalStore) -> None:
    spec = next(
        (s.spec for s in resolved.sources if s.spec.name.lower() == table.name.lower()), None
    )
    if spec is None:
        spec = next((s.spec for s in resolved.sources if s.spec.table == table.name.lower()), None)
    if spec is None:
        return  # a CTE
    alias = table.alias or table.name
    store.ensure(spec)
    table.set("this", exp.to_identifier(store.writer(spec).name, quoted=True))
    table.set("db", None)
    table.set("alias", exp.TableAlias(this=exp.to_identifier(alias, quoted=True)))


def _times(node: exp.Expr) -> None:
    """Literals compared with a timestamp column take the stored form."""
    operands = [node.this]
    if isinstance(node, exp.Between):
        operands = [node.this]
        others = [node.args["low"], node.args["high"]]
    elif isinstance(node, exp.In):
        others = list(node.expressions)
    else:
        operands = [node.this, node.expression]
        others = operands
    if not any(isinstance(o, exp.Column) and o.meta.get("cio_time") for o in operands):
        return
    for other in others:
        if isinstance(other, exp.Column):
            continue
        value = literal(other)
        seconds = unix(value) if value is not None else None
        if seconds is not None:
            other.replace(exp.Literal.string(stored_time(seconds)))
