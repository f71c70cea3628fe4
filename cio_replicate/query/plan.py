"""A SELECT's plan: what each object read asks of the API, and what is left to SQLite.

Built from the statement before any call: :func:`make_plan` resolves the
objects and columns, works out the pushdowns (:mod:`.pushdown`), and decides
whether ``LIMIT`` may stop the reading early (one object read by a listing, no
ORDER BY, GROUP BY, DISTINCT, aggregate or window: the first rows that satisfy
the statement are an answer; when the API applies every condition, pages are
asked for no more rows than the LIMIT).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlglot import exp

from ..catalog import ObjectSpec
from ..catalog.fields import FILTER_ONLY
from ..errors import UsageError
from ..extract import Filter, Filters
from .names import Resolved, resolve
from .parse import node_position
from .pushdown import Pushed, conjuncts, literal, plan_pushdown, split


@dataclass(frozen=True)
class Read:
    """One object to fetch, and what the API is asked to leave out."""

    spec: ObjectSpec
    filters: tuple[Filter, ...] = ()
    floor: int | None = None
    until: int | None = None
    notes: tuple[str, ...] = ()

    @property
    def as_filters(self) -> Filters:
        return Filters(self.filters)


@dataclass(frozen=True)
class Plan:
    text: str
    tree: exp.Expr
    resolved: Resolved
    reads: tuple[Read, ...]
    dropped: frozenset[int] = frozenset()
    limit: int | None = None
    """Rows after which reading may stop (LIMIT + OFFSET), None: read everything."""
    all_pushed: bool = False
    """Every condition of the single object read is applied by the API."""
    local: tuple[str, ...] = field(default_factory=tuple)
    """What SQLite evaluates (for --explain)."""


def make_plan(text: str, tree: exp.Expr) -> Plan:
    resolved = resolve(text, tree)
    pushed = plan_pushdown(tree, resolved)
    reads: dict[str, Read] = {}
    for source in resolved.sources:
        mine = pushed[source.alias]
        if source.spec.name in reads:
            reads[source.spec.name] = Read(source.spec)  # read twice: nothing pushed
            continue
        reads[source.spec.name] = Read(
            source.spec, tuple(mine.filters), mine.floor, mine.until, tuple(mine.notes)
        )
    dropped = frozenset(i for p in pushed.values() for i in p.dropped)
    _check_filter_only(text, tree, resolved, dropped)
    limit = _early_limit(tree, resolved)
    return Plan(
        text,
        tree,
        resolved,
        tuple(reads.values()),
        dropped,
        limit,
        all_pushed=limit is not None and _all_pushed(tree, pushed),
        local=tuple(_local_parts(tree, dropped)),
    )


def _check_filter_only(
    text: str, tree: exp.Expr, resolved: Resolved, dropped: frozenset[int]
) -> None:
    """A filter-only name (people's ``segment_id``) is no column: it may only appear in a
    condition the API takes (``segment_id = N`` or ``IN (...)`` in the WHERE)."""
    inside = {id(n) for node in tree.walk() if id(node) in dropped for n in node.walk()}
    for column in tree.find_all(exp.Column):
        source = resolved.source_of(column)
        if source is None or id(column) in inside:
            continue
        if column.name in FILTER_ONLY.get(source.spec.name, frozenset()):
            raise UsageError(
                f"{column.name} is no column of {source.spec.name}: it selects people in the "
                f"WHERE, as {column.name} = N or {column.name} IN (N, M), joined to the other "
                f"conditions with AND\nat {node_position(text, column)}"
            )


def _early_limit(tree: exp.Expr, resolved: Resolved) -> int | None:
    if not isinstance(tree, exp.Select) or len(resolved.sources) != 1:
        return None
    spec = resolved.sources[0].spec
    if spec.parent is not None or spec.extractor is not None:
        return None  # a fan-out reads its parents' children side by side: all of them
    if any(tree.args.get(k) for k in ("group", "order", "distinct", "having", "joins")):
        return None
    if tree.find(exp.AggFunc) is not None or tree.find(exp.Window) is not None:
        return None
    if any(s is not tree for s in tree.find_all(exp.Select)):
        return None
    limit = tree.args.get("limit")
    count = literal(limit.expression) if limit is not None else None
    if not isinstance(count, int) or isinstance(count, bool):
        return None
    offset = tree.args.get("offset")
    skip = literal(offset.expression) if offset is not None else 0
    return count + (skip if isinstance(skip, int) and not isinstance(skip, bool) else 0)


def _all_pushed(tree: exp.Expr, pushed: dict[str, Pushed]) -> bool:
    """Every record fetched satisfies every condition (then pages of LIMIT rows suffice)."""
    exact = {i for p in pushed.values() for i in p.exact}
    return all(id(c) in exact for c in conjuncts(tree))


def _local_parts(tree: exp.Expr, dropped: frozenset[int]) -> list[str]:
    parts: list[str] = []
    where = tree.args.get("where") if isinstance(tree, exp.Select) else None
    if where is not None:
        kept = [c.sql() for c in split(where.this) if id(c) not in dropped]
        if kept:
            parts.append("WHERE " + " AND ".join(kept))
    if isinstance(tree, exp.Select):
        if tree.args.get("joins"):
            parts.append(f"{len(tree.args['joins'])} join(s)")
        for key, label in (
            ("group", "GROUP BY"),
            ("having", "HAVING"),
            ("order", "ORDER BY"),
            ("distinct", "DISTINCT"),
        ):
            node = tree.args.get(key)
            if node is not None:
                parts.append(label if key == "distinct" else node.sql())
        if tree.find(exp.AggFunc) is not None and not tree.args.get("group"):
            parts.append("aggregates")
        if tree.args.get("limit") is not None:
            parts.append(tree.args["limit"].sql())
    else:
        parts.append("the whole statement (set operations, subqueries)")
    return parts
