"""Which WHERE conditions the API can apply, per object read.

Only conditions that must hold for every row of the answer are used: the
conjuncts of the top-level WHERE and of inner joins' ON. Each one of the form
``column = literal``, ``column IN (literals)`` or a time bound is pushed when
the catalog says the API (or the fan-out) can apply it:

* the object's ``pushdown`` rules (``query`` parameters such as Activities'
  ``type``, ``parent`` ids such as CampaignActions' ``campaign_id``);
* any field of people (the people search filters by attribute, email, id,
  cio_id, and by ``segment_id``, which is no column of the records);
* ``customer_id`` of a person's children (the person's id, as deliveries carry
  it) becomes a people filter, so one person is read, not the workspace;
* the read floor and end of objects the API filters by time (``start_ts`` and
  ``end_ts`` on deliveries), and the floor of newest-first listings (Activities
  stop paging below it);
* the filters of a parent joined on its key (``m.cio_id = c.cio_id``,
  ``a.campaign_id = c.id``) restrict the child's fan-out to those parents.

Everything is evaluated locally again (pushing only narrows what is fetched),
except the filter-only ``segment_id`` of people, which the records lack.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlglot import exp

from ..catalog import ObjectSpec
from ..catalog.fields import FILTER_ONLY, fields_of
from ..catalog.model import PEOPLE
from ..extract import Filter
from .names import Resolved, Source

Scalar = str | int | float | bool


@dataclass
class Pushed:
    """What the API is asked for one source."""

    filters: list[Filter] = field(default_factory=list)
    """Filters on the source's object and on its ancestors (fan-out cut)."""
    floor: int | None = None
    until: int | None = None
    notes: list[str] = field(default_factory=list)
    """Human lines: what was pushed and how (for --explain)."""
    dropped: set[int] = field(default_factory=set)
    """Conjunct node ids fully handled by the API, removed from the local WHERE."""
    exact: set[int] = field(default_factory=set)
    """Conjunct node ids every fetched record satisfies (the API or the read filters it)."""


def conjuncts(tree: exp.Expr) -> list[exp.Expr]:
    """The conditions every answer row satisfies (top-level WHERE, inner joins' ON)."""
    out: list[exp.Expr] = []
    if not isinstance(tree, exp.Select):
        return out
    where = tree.args.get("where")
    if where is not None:
        out.extend(split(where.this))
    for join in tree.args.get("joins") or []:
        on = join.args.get("on")
        if on is not None and not join.side and join.kind.upper() not in ("CROSS",):
            out.extend(split(on))
    return out


def split(node: exp.Expr) -> Iterator[exp.Expr]:
    """The conjuncts of ``a AND (b AND c)``."""
    node = node.unnest() if isinstance(node, exp.Paren) else node
    if isinstance(node, exp.And):
        yield from split(node.left)
        yield from split(node.right)
    else:
        yield node


def literal(node: exp.Expr) -> Scalar | None:
    """A literal's Python value (None: not a literal)."""
    if isinstance(node, exp.Paren):
        return literal(node.this)
    if isinstance(node, exp.Neg):
        inner = literal(node.this)
        return -inner if isinstance(inner, int | float) and not isinstance(inner, bool) else None
    if isinstance(node, exp.Boolean):
        return bool(node.this)
    if isinstance(node, exp.Literal):
        if node.is_string:
            return str(node.this)
        text = str(node.this)
        try:
            return int(text)
        except ValueError:
            return float(text)
    return None


def unix(value: Scalar) -> int | None:
    """A time bound as unix seconds: a number, or ISO 8601 text (UTC unless stated)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return int(value)
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp())


def text(value: Scalar) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


@dataclass(frozen=True)
class _Cond:
    node: exp.Expr
    source: Source
    column: str
    op: str  # eq, in, ge, gt, le, lt
    values: tuple[Scalar, ...]


_COMPARE: dict[type[exp.Expr], tuple[str, str]] = {
    exp.GTE: ("ge", "le"),
    exp.GT: ("gt", "lt"),
    exp.LTE: ("le", "ge"),
    exp.LT: ("lt", "gt"),
    exp.EQ: ("eq", "eq"),
}


def _conditions(node: exp.Expr, resolved: Resolved) -> Iterator[_Cond]:
    """The pushable shapes of one conjunct (a BETWEEN gives two bounds)."""
    if isinstance(node, exp.In) and isinstance(node.this, exp.Column):
        source = resolved.source_of(node.this)
        values = [literal(v) for v in node.expressions]
        if source is not None and values and all(v is not None for v in values):
            yield _Cond(
                node, source, node.this.name, "in", tuple(v for v in values if v is not None)
            )
        return
    if isinstance(node, exp.Between) and isinstance(node.this, exp.Column):
        source = resolved.source_of(node.this)
        low, high = literal(node.args["low"]), literal(node.args["high"])
        if source is not None and low is not None and high is not None:
            yield _Cond(node, source, node.this.name, "ge", (low,))
            yield _Cond(node, source, node.this.name, "le", (high,))
        return
    ops = _COMPARE.get(type(node))
    if ops is None:
        return
    left, right = node.args.get("this"), node.args.get("expression")
    for col, other, op in ((left, right, ops[0]), (right, left, ops[1])):
        if isinstance(col, exp.Column) and other is not None:
            value = literal(other)
            source = resolved.source_of(col)
            if value is not None and source is not None:
                yield _Cond(node, source, col.name, op, (value,))
                return


def links(spec: ObjectSpec) -> list[tuple[str, str]]:
    """(child column, parent field) pairs that tie a record of ``spec`` to its parent."""
    pairs = dict(spec.inherit)
    for rule in spec.pushdown:
        if rule.kind == "parent":
            pairs.setdefault(rule.column, spec.parent_params[rule.param])
    return list(pairs.items())


def plan_pushdown(tree: exp.Expr, resolved: Resolved) -> dict[str, Pushed]:
    """Per source alias, what is pushed (sources read twice get nothing pushed)."""
    pushed = {s.alias: Pushed() for s in resolved.sources}
    twice = {
        s.spec for s in resolved.sources if sum(t.spec == s.spec for t in resolved.sources) > 1
    }
    direct = _direct_aliases(tree)
    items = conjuncts(tree)
    for node in items:
        for cond in _conditions(node, resolved):
            if cond.source.spec in twice or cond.source.alias not in direct:
                continue
            _push(cond, pushed[cond.source.alias])
    _inherit(items, resolved, pushed, twice)
    return pushed


def _direct_aliases(tree: exp.Expr) -> set[str]:
    """Aliases of the tables the top-level SELECT reads directly (not in subqueries)."""
    if not isinstance(tree, exp.Select):
        return set()
    tables = [tree.args.get("from_") or tree.args.get("from")]
    tables += [j for j in tree.args.get("joins") or []]
    out: set[str] = set()
    for item in tables:
        node = item.this if item is not None else None
        if isinstance(node, exp.Table):
            out.add((node.alias or node.name).lower())
    return out


def _push(cond: _Cond, into: Pushed) -> None:
    spec = cond.source.spec
    name = cond.column
    if cond.op in ("eq", "in"):
        values = tuple(text(v) for v in cond.values)
        target = _filter_target(spec, name)
        if target is None:
            return
        obj, fld, how = target
        into.filters.append(Filter(obj, fld, values))
        into.notes.append(f"{cond.node.sql()}  ->  {how}")
        into.exact.add(id(cond.node))
        if spec.name == PEOPLE and name in FILTER_ONLY.get(PEOPLE, frozenset()):
            into.dropped.add(id(cond.node))
        return
    bound = unix(cond.values[0])
    time_column = _time_column(spec)
    if bound is None or time_column is None or name != time_column[0]:
        return
    if cond.op in ("ge", "gt"):
        into.floor = bound if into.floor is None else max(into.floor, bound)
        how = time_column[1]
        shown = f"{how} = {into.floor}" if time_column[2] else f"{how} {into.floor} (newest first)"
        into.notes.append(f"{cond.node.sql()}  ->  {shown}")
    elif time_column[2]:
        into.until = bound if into.until is None else min(into.until, bound)
        into.notes.append(f"{cond.node.sql()}  ->  end_ts = {into.until}")


def _filter_target(spec: ObjectSpec, name: str) -> tuple[str, str, str] | None:
    """(object, field, how) of the filter an equality on ``spec.name`` pushes, if any."""
    if spec.name == PEOPLE:  # the people extractor filters its search, whatever the rule
        if fields_of(PEOPLE).get(name) == "json":
            return None
        return PEOPLE, name, "people search filter (POST /v1/customers)"
    for rule in spec.pushdown:
        if rule.column == name and rule.kind == "query":
            return spec.name, name, f"query parameter {rule.param}= ({rule.description})"
        if rule.column == name and rule.kind == "parent":
            return spec.name, name, f"path {spec.path} ({rule.description}, no listing)"
    if spec.per_person and name == "customer_id":
        return PEOPLE, "id", "people search filter on id (only this person's calls)"
    if name in spec.key and spec.extractor is None:
        return spec.name, name, "kept as read (the API lists all; children read only these)"
    return None


def _time_column(spec: ObjectSpec) -> tuple[str, str, bool] | None:
    """(column, how the floor is sent, whether an end bound is sent too)."""
    for rule in spec.pushdown:
        if rule.kind == "since":
            return rule.column, f"query parameter {rule.param}", True
    if spec.newest_first and spec.cursor:
        return spec.cursor, "paging stops below", False
    return None


def _inherit(
    items: Sequence[exp.Expr],
    resolved: Resolved,
    pushed: dict[str, Pushed],
    twice: set[ObjectSpec],
) -> None:
    """Give a child the filters of the parent it is joined to on the parent's key."""
    pairs: list[tuple[Source, Source]] = []
    for node in items:
        if not isinstance(node, exp.EQ):
            continue
        left, right = node.left, node.right
        if not isinstance(left, exp.Column) or not isinstance(right, exp.Column):
            continue
        a, b = resolved.source_of(left), resolved.source_of(right)
        if a is None or b is None or a.spec in twice or b.spec in twice:
            continue
        for child, ccol, parent, pcol in ((a, left, b, right), (b, right, a, left)):
            if child.spec.parent == parent.spec.name and (ccol.name, pcol.name) in links(
                child.spec
            ):
                pairs.append((child, parent))
    changed = True
    while changed:  # a chain of joins passes filters down more than one level
        changed = False
        for child, parent in pairs:
            mine = pushed[child.alias]
            for flt in pushed[parent.alias].filters:
                if flt not in mine.filters and flt.object_name != child.spec.name:
                    mine.filters.append(flt)
                    mine.notes.append(
                        f"joined to {parent.spec.name} {parent.alias}: only the parents "
                        f"with {flt.field} in ({', '.join(flt.values)})"
                    )
                    changed = True
