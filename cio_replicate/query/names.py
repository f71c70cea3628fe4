"""Which catalog objects a statement reads, and which object each column belongs to.

Objects are named by their catalog name or table name, in any case
(``CustomerMessages``, ``customer_messages``). A column must be a documented
field of its object (:mod:`cio_replicate.catalog.fields`), its key, or a
column it inherits from its parent; people and custom objects also take any
attribute name. A mistake is a UsageError (exit 2) with the position in the
statement, the known names and a did-you-mean.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlglot import exp

from ..catalog import ObjectSpec, get_object
from ..catalog.fields import OPEN, fields_of
from ..catalog.select import did_you_mean
from ..errors import UsageError
from .parse import node_position


@dataclass(frozen=True)
class Source:
    """One object read by the statement, under the name the statement gives it."""

    alias: str
    """Lower case: the alias, else the name as written."""
    spec: ObjectSpec

    @property
    def open(self) -> bool:
        return self.spec.name in OPEN


def known_columns(spec: ObjectSpec) -> list[str]:
    """The columns a statement may name on ``spec``, in a stable order."""
    names = dict.fromkeys([*spec.key, *spec.inherit, *spec.rename.values()])
    names.update(dict.fromkeys(fields_of(spec.name)))
    return [n for n in names if n not in spec.rename]


@dataclass
class Resolved:
    """The sources of a statement and, for each column node, its source (None: an
    output alias or a column of a subquery)."""

    sources: list[Source]
    columns: dict[int, Source] = field(default_factory=dict)

    def source_of(self, column: exp.Column) -> Source | None:
        return self.columns.get(id(column))


def _cte_names(tree: exp.Expr) -> set[str]:
    return {cte.alias_or_name.lower() for cte in tree.find_all(exp.CTE)}


def resolve(text: str, tree: exp.Expr) -> Resolved:
    """Find the objects and check every column; UsageError on an unknown name."""
    ctes = _cte_names(tree)
    sources: list[Source] = []
    by_table: dict[int, Source] = {}
    for table in tree.find_all(exp.Table):
        if table.name.lower() in ctes and not table.db:
            continue
        spec = _object(text, table)
        alias = (table.alias or table.name).lower()
        if any(s.alias == alias for s in sources):
            alias = f"{alias}#{len(sources)}"  # the same object twice without alias: left to SQL
        sources.append(Source(alias, spec))
        by_table[id(table)] = sources[-1]
    resolved = Resolved(sources)
    derived = bool(ctes) or any(
        isinstance(s, exp.Subquery) for s in tree.find_all(exp.Subquery) if s.alias
    )
    outputs = {a.alias.lower() for a in tree.find_all(exp.Alias) if a.alias}
    for column in tree.find_all(exp.Column):
        if isinstance(column.this, exp.Star):
            continue
        scoped = _in_scope(column, by_table) or sources
        source = _column_source(text, column, scoped, derived, outputs)
        if source is not None:
            resolved.columns[id(column)] = source
    return resolved


def _in_scope(column: exp.Column, by_table: dict[int, Source]) -> list[Source]:
    """The sources an unqualified column may belong to: those of the innermost SELECT
    that has one with this column, else all of the enclosing SELECTs' (innermost first)."""
    found: list[Source] = []
    select = column.find_ancestor(exp.Select)
    while select is not None:
        items = [select.args.get("from_"), *(select.args.get("joins") or [])]
        here = [
            by_table[id(item.this)]
            for item in items
            if item is not None and id(item.this) in by_table
        ]
        if any(column.name in known_columns(s.spec) for s in here) and not column.table:
            return here
        found.extend(here)
        select = select.find_ancestor(exp.Select)
    return found


def _object(text: str, table: exp.Table) -> ObjectSpec:
    try:
        return get_object(table.name)
    except UsageError as exc:
        raise UsageError(f"{exc}\nat {node_position(text, table)}") from None


def _column_source(
    text: str, column: exp.Column, sources: list[Source], derived: bool, outputs: set[str]
) -> Source | None:
    name = column.name
    qualifier = column.table.lower()
    if qualifier:
        source = next((s for s in sources if s.alias == qualifier), None)
        if source is None:
            source = next((s for s in sources if s.spec.name.lower() == qualifier), None)
        if source is None:
            if derived:
                return None  # a subquery's or a CTE's column
            aliases = ", ".join(s.alias for s in sources)
            raise UsageError(
                f"unknown table or alias {column.table!r} (the statement reads: {aliases})\n"
                f"at {node_position(text, column)}"
            )
        _check(text, column, source)
        return source
    owners = [s for s in sources if name in known_columns(s.spec)]
    if len({s.alias for s in owners}) > 1 and name.lower() not in outputs:
        raise UsageError(
            f"ambiguous column {name!r}: {', '.join(s.spec.name for s in owners)} all have it; "
            f"qualify it ({owners[0].alias}.{name})\nat {node_position(text, column)}"
        )
    if owners:
        return owners[0]
    if name.lower() in outputs or derived:
        return None
    opened = [s for s in sources if s.open]
    if opened:
        return opened[0]
    if len(sources) == 1:
        _check(text, column, sources[0])
    known = sorted({c for s in sources for c in known_columns(s.spec)})
    raise UsageError(
        f"unknown column {name!r}{did_you_mean(name, known)} (columns of "
        f"{', '.join(s.spec.name for s in sources)}: {', '.join(known)})\n"
        f"at {node_position(text, column)}"
    )


def _check(text: str, column: exp.Column, source: Source) -> None:
    if source.open:
        return
    known = known_columns(source.spec)
    if column.name not in known:
        raise UsageError(
            f"{source.spec.name} has no column {column.name!r}"
            f"{did_you_mean(column.name, known)} (columns: {', '.join(known)})\n"
            f"at {node_position(text, column)}"
        )
