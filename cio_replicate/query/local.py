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
from ..catalog import ObjectSpec, get_object
from ..errors import UsageError
from ..load import TableWriter, Target
from ..load.names import SYNCED_AT
from .names import Resolved, known_columns
from .pushdown import literal, unix

STORED_TIME = "%Y-%m-%d %H:%M:%S.%f"
"""How the loader's UtcDateTime keeps a time in SQLite (UTC wall time, as text)."""


@dataclass(frozen=True)
class LocalQuery:
    sql: str
    booleans: frozenset[int] = frozenset()
    """Output positions that are boolean columns (SQLite answers 0/1)."""
    nested: frozenset[int] = frozenset()
    """Output positions that are JSON columns (nested values, kept as JSON text)."""


@dataclass(frozen=True)
class Answer:
    columns: tuple[str, ...]
    rows: list[tuple[Any, ...]]
    nested: frozenset[int] = frozenset()
    """Positions holding JSON text (the JSON formats write them as JSON values)."""


class LocalStore:
    """One statement's private SQLite database."""

    def __init__(self) -> None:
        engine = sa.create_engine("sqlite://", poolclass=StaticPool)
        self.target = Target(engine, column_names="api")  # answers show API field names
        with self.target.begin() as conn:
            systables.columns.create(conn)
            systables.target.create(conn)
        self._writers: dict[str, TableWriter] = {}
        self._stubs: set[str] = set()

    def close(self) -> None:
        self.target.engine.dispose()

    def writer(self, spec: ObjectSpec) -> TableWriter:
        found = self._writers.get(spec.name)
        if found is None:
            found = self.target.table(
                spec.table,
                key=spec.key,
                timestamps=spec.timestamps,
                typed=spec.typed,
            )
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

    def column(self, spec: ObjectSpec, field: str) -> tuple[str, str] | None:
        """(SQL column name, logical type) of a field, or None if no record had it."""
        col = self.writer(spec).column(field)
        return None if col is None else (col.name, col.type)

    def run(self, query: LocalQuery) -> Answer:
        try:
            with self.target.connect() as conn:
                result = conn.exec_driver_sql(query.sql)
                names = tuple(result.keys())
                rows = [_row(r, query.booleans) for r in result.fetchall()]
        except sa.exc.DBAPIError as exc:  # the statement's own mistake (a function, a type)
            cause = str(exc.orig) if exc.orig is not None else str(exc)
            raise UsageError(f"the statement failed in SQLite: {cause}") from None
        return Answer(names, rows, query.nested)

    def count(self, query: LocalQuery) -> int:
        """Rows the statement answers (for LIMIT's early stop)."""
        wrapped = f"SELECT COUNT(*) FROM ({query.sql})"  # noqa: S608 - our own wrapper
        answer = self.run(LocalQuery(wrapped))
        return int(answer.rows[0][0])


def _row(values: Sequence[Any], booleans: frozenset[int]) -> tuple[Any, ...]:
    return tuple(
        bool(v) if i in booleans and isinstance(v, int) else shown(v) for i, v in enumerate(values)
    )


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
) -> LocalQuery:
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
    for select in list(copy.find_all(exp.Select)):
        _stars(select, resolved, store)
    for node in list(copy.find_all(*_COMPARISONS, exp.Between, exp.In)):
        _times(node)
    for column in list(copy.find_all(exp.Column)):
        if column.meta.get("cio_null"):
            named = isinstance(column.parent, exp.Select) and column.arg_key == "expressions"
            column.replace(exp.alias_(exp.Null(), column.name) if named else exp.Null())
    kinds: dict[str, set[int]] = {"cio_bool": set(), "cio_json": set()}
    if isinstance(copy, exp.Select):
        for i, item in enumerate(copy.expressions):
            inner = item.this if isinstance(item, exp.Alias) else item
            for kind, positions in kinds.items():
                if isinstance(inner, exp.Column) and inner.meta.get(kind):
                    positions.add(i)
    return LocalQuery(
        copy.sql(dialect="sqlite"), frozenset(kinds["cio_bool"]), frozenset(kinds["cio_json"])
    )


def _column(column: exp.Column, spec: ObjectSpec, store: LocalStore) -> None:
    found = store.column(spec, column.name)
    if found is None:
        column.meta["cio_null"] = True
        return
    name, logical = found
    column.set("this", exp.to_identifier(name, quoted=True))
    if logical == "timestamp":
        column.meta["cio_time"] = True
    if logical in ("bool", "json"):
        column.meta[f"cio_{logical}"] = True


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
    table.meta["cio_object"] = spec.name


def _stars(select: exp.Select, resolved: Resolved, store: LocalStore) -> None:
    """``*`` and ``t.*`` list the object's columns, without the loader's ``_cio_synced_at``."""
    tables: list[tuple[str, ObjectSpec]] = []
    for item in [select.args.get("from_"), *(select.args.get("joins") or [])]:
        node = item.this if item is not None else None
        if isinstance(node, exp.Table) and isinstance(node.meta.get("cio_object"), str):
            tables.append((node.alias_or_name, get_object(node.meta["cio_object"])))
    if not tables:
        return
    expanded: list[exp.Expr] = []
    for item in select.expressions:
        star = isinstance(item, exp.Star)
        qualified = isinstance(item, exp.Column) and isinstance(item.this, exp.Star)
        if not star and not qualified:
            expanded.append(item)
            continue
        wanted = [t for t in tables if star or t[0].lower() == item.table.lower()]
        if not wanted:
            expanded.append(item)
            continue
        for alias, spec in wanted:
            columns = store.writer(spec).columns
            for col in columns:
                column = exp.column(col.name, table=alias, quoted=True)
                if col.type in ("bool", "json"):
                    column.meta[f"cio_{col.type}"] = True
                expanded.append(column)
            if not columns:  # no record: the documented fields, all NULL
                expanded.extend(exp.alias_(exp.Null(), n) for n in known_columns(spec))
    if expanded:
        select.set("expressions", expanded)


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
