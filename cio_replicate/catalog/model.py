"""The shape of a catalog entry: :class:`ObjectSpec` and its filter pushdowns.

Shared defaults live on the dataclass so an entry states only what differs.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal

Api = Literal["app", "track"]
Method = Literal["GET", "POST"]
Mode = Literal["incremental", "append", "full"]
Dml = Literal["INSERT", "UPDATE", "DELETE"]
PushdownKind = Literal["query", "filter", "parent", "since"]

EMPTY: Mapping[str, Any] = MappingProxyType({})


def _empty() -> Mapping[str, Any]:
    return EMPTY


def frozen(**items: Any) -> Mapping[str, Any]:
    """A read-only mapping (catalog entries must not be mutated)."""
    return MappingProxyType(dict(items))


@dataclass(frozen=True)
class Pushdown:
    """A filter the API can apply, so the tool does not fetch and discard.

    kind: ``query`` adds ``param=<value>`` to the request; ``filter`` puts a
    condition of the people/objects filter grammar in the body (``param`` is
    ``segment`` or ``attribute``); ``parent`` fans out only over the parent
    records whose key equals the value (the path placeholder ``param`` is
    filled directly, no parent listing needed); ``since`` sends the read
    floor (unix seconds) as query ``param``.
    """

    column: str
    kind: PushdownKind
    param: str
    description: str


@dataclass(frozen=True)
class Cost:
    """The cost model of a fan-out whose calls are worth announcing before it runs.

    ``per_parent`` calls per parent record (``more``: when there can be more);
    the parents (``parents``, e.g. people) are counted by reading their listing
    (``listing`` pages, e.g. search) once up front, so it is read twice.
    """

    per_parent: int = 1
    parents: str = "people"
    listing: str = "search"
    more: str | None = None


@dataclass(frozen=True)
class ObjectSpec:
    """One replicated object: where it comes from and how it is kept current.

    path placeholders (``{campaign_id}``) are filled from the parent record's
    fields named by ``parent_params`` (placeholder -> parent field); ``inherit``
    (child column -> parent field) stamps the parent's key onto child rows whose
    records do not carry it. ``rename`` (API field -> column) applies before
    keys are read, e.g. a person's segment ``id`` becomes ``segment_id``.
    ``page_size`` None on a paginated object means the endpoint accepts only
    ``start`` (no limit parameter). ``newest_first``: the listing is documented
    newest first by ``cursor`` and takes no time filter, so a run with a read
    floor stops after the first page that reaches below it. ``feeds``: the
    object whose records this one's pass also fetches; when a run selects both,
    that object reads them from this one's pass instead of reading its own.
    ``cost``: the calls to announce before a run (per-person fan-outs).
    """

    name: str
    table: str
    path: str
    envelope: str | None
    mode: Mode
    cursor: str | None
    description: str
    key: tuple[str, ...] = ("id",)
    api: Api = "app"
    method: Method = "GET"
    parent: str | None = None
    parent_params: Mapping[str, str] = field(default_factory=_empty)
    inherit: Mapping[str, str] = field(default_factory=_empty)
    rename: Mapping[str, str] = field(default_factory=_empty)
    params: Mapping[str, str] = field(default_factory=_empty)
    body: Mapping[str, Any] | None = None
    paginated: bool = False
    page_size: int | None = None
    batch_size: int | None = None
    timestamps: tuple[str, ...] = ()
    per_person: bool = False
    default: bool = True
    dml: frozenset[Dml] = frozenset()
    extractor: str | None = None
    pushdown: tuple[Pushdown, ...] = ()
    newest_first: bool = False
    feeds: str | None = None
    cost: Cost | None = None

    def __hash__(self) -> int:
        return hash(self.name)

    @property
    def since_param(self) -> str | None:
        """Query parameter that takes the read floor, if the API filters by time."""
        for rule in self.pushdown:
            if rule.kind == "since":
                return rule.param
        return None

    @property
    def source(self) -> str:
        return f"{self.method} {self.path}"

    def render_path(self, parent_record: Mapping[str, Any] | None = None) -> str:
        """The path with placeholders filled from a parent record's fields."""
        values = {
            placeholder: str((parent_record or {})[source])
            for placeholder, source in self.parent_params.items()
        }
        return self.path.format(**values)
