"""The shape of a catalog entry: :class:`ObjectSpec`, its filter pushdowns and
its :class:`WriteSpec` (the DML an object supports and how rows are written).

Shared defaults live on the dataclasses so an entry states only what differs;
facts that follow from others (``per_person``, ``default``, ``dml``) are derived.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal

Method = Literal["GET", "POST"]
Mode = Literal["incremental", "append", "full"]
Dml = Literal["INSERT", "UPDATE", "DELETE"]
PushdownKind = Literal["query", "filter", "parent", "since"]
Writer = Literal["app", "people"]
FieldType = Literal[
    "text",
    "int",
    "time",
    "bool",
    "json",
    "json_text",
    "any",
    "url",
    "text_list",
    "json_array",
    "json_object",
]
"""One vocabulary for the fields of records (catalog/fields.py) and the fields a write sends
(catalog/writes.py). A record field is text, int, time (unix seconds), bool, json (nested),
json_text (a JSON document inside a string, as actions' ``headers``) or any (not checked); a
write refines text to url and json to text_list, json_array or json_object
(:func:`read_kind` maps a write type back; :func:`carries` checks one against a record's)."""

_READ_KIND: Mapping[str, str] = MappingProxyType(
    {"url": "text", "text_list": "json", "json_array": "json", "json_object": "json"}
)


def read_kind(kind: FieldType) -> FieldType:
    """The kind a record carries for a field written as ``kind``."""
    return _READ_KIND.get(kind, kind)  # type: ignore[return-value]


def carries(record: FieldType, written: FieldType) -> bool:
    """Can a record field of kind ``record`` hold what a write of kind ``written`` sends?"""
    read = read_kind(written)
    return record in (read, "any") or (record == "json_text" and read == "json")


PEOPLE = "Customers"  # the people object: its children are read one call per person

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
class WriteSpec:
    """The DML an object supports and the write mechanics its rows need.

    ``writer``: ``people`` writes through the Track API (writeback/people.py),
    ``app`` through the App API (writeback/appwriter.py). Paths and the record
    key are not declared here: INSERT posts to the object's listing path,
    UPDATE/DELETE address ``<path>/{<last key field>}`` (see writeback/dml.py).
    ``fields`` are writable (with their types), ``readonly`` are accepted in
    input and ignored. ``natural_key``: an INSERT of a value that already exists
    is reported, not repeated. ``one_of``: a row gives at most one of these
    fields, an INSERT exactly one. ``update_at_listing``: UPDATE is a PUT of
    ``{key, fields}`` to the listing path (snippets). ``wrap``: the request
    body's envelope, e.g. ``{"segment": {...}}``.
    """

    operations: frozenset[Dml]
    writer: Writer = "app"
    fields: Mapping[str, FieldType] = field(default_factory=_empty)
    readonly: frozenset[str] = frozenset()
    natural_key: str | None = None
    insert_required: tuple[str, ...] = ()
    update_required: tuple[str, ...] = ()
    one_of: tuple[str, ...] = ()
    update_at_listing: bool = False
    wrap: str | None = None
    choices: Mapping[str, frozenset[str]] = field(default_factory=_empty)


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
    floor stops after the first page that reaches below it. ``write``: the
    DML the object supports and how (None: read-only). ``feeds``: the
    object whose records this one's pass also fetches; when a run selects both,
    that object reads them from this one's pass instead of reading its own.
    ``cost``: the calls to announce before a run (per-person fan-outs).
    ``metrics``: the field of engagement metrics (deliveries' ``metrics``: event -> unix
    seconds) that keeps changing after a record is created; the records created inside the
    ``metrics_lookback`` window are read again each run and upserted, this field merged key
    by key with the stored one (:mod:`cio_replicate.load.merge`).
    ``synced``: ``sync`` keeps the table and the workspace in step both ways, so
    the table's key is nullable (a row a user inserts has no id until it is
    created) and ``_cio_synced_at`` may be left out of an INSERT.
    ``current``: an append object (its cursor, the create date, decides what
    is new) whose rows still change in place: the records its run reads
    anyway are upserted by key (people: every person of the shared pass).
    ``on_request``: left out of the default selection (one call per child of a
    parent, e.g. per campaign action): replicated when named, or with ``all``.
    ``typed_strings``: the API gives every value as a string (people's attributes): the
    loader types them (bool, int, float, timestamp) where every value of a batch converts
    losslessly (:mod:`cio_replicate.load.infer`), except the fields of ``kept_text``
    (identifiers: an id "42" stays text).
    """

    name: str
    table: str
    path: str
    envelope: str | None
    mode: Mode
    cursor: str | None
    description: str
    key: tuple[str, ...] = ("id",)
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
    write: WriteSpec | None = None
    extractor: str | None = None
    pushdown: tuple[Pushdown, ...] = ()
    newest_first: bool = False
    feeds: str | None = None
    cost: Cost | None = None
    metrics: str | None = None
    synced: bool = False
    current: bool = False
    on_request: bool = False
    typed_strings: bool = False
    kept_text: tuple[str, ...] = ()

    def __hash__(self) -> int:
        return hash(self.name)

    @property
    def per_person(self) -> bool:
        """One API call per person: a child of the people object addressed by a person's key."""
        return self.parent == PEOPLE and bool(self.parent_params)

    @property
    def default(self) -> bool:
        """In the selection a run makes when no object is named (all but per-person
        and on-request ones)."""
        return not self.per_person and not self.on_request

    @property
    def typed(self) -> tuple[str, ...] | None:
        """What ``Target.table(typed=...)`` takes: the fields kept as text when the
        strings are typed (``typed_strings``), None when they are not."""
        return self.kept_text if self.typed_strings else None

    @property
    def dml(self) -> frozenset[Dml]:
        return self.write.operations if self.write is not None else frozenset()

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
