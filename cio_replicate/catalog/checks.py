"""Consistency rules for the catalog, as a function tests (and the CLI) can run.

`check_catalog` returns one message per broken rule; an empty list means the
catalog is consistent. Tests run it on the real catalog and on deliberately
broken copies, so each rule is shown to be able to fail.
"""

from __future__ import annotations

import re
import string
from collections.abc import Mapping, Sequence

from .fields import fields_of
from .model import PEOPLE, ObjectSpec, WriteSpec, carries
from .objects import UNCONFIRMED_MAX

# Cursor fields that hold a record's creation time: such a record never
# changes once seen, so only new records are read (Skyvia: "only the CreateDate
# field ... detects only the new records"). Any other cursor is an update time.
CREATION_CURSORS = frozenset({"created", "created_at", "timestamp"})

# Documented page-size maxima (reference section 7); anything else: 100.
DOCUMENTED_MAX: Mapping[str, int] = {
    "/v1/customers": 1000,
    "/v1/messages": 1000,
    "/v1/activities": 100,
    "/v1/segments/{segment_id}/membership": 30000,
}
ATTRIBUTE_BATCH_MAX = 100

# Irregular extractions the engine implements as named functions.
EXTRACTORS = frozenset(
    {
        "collections",
        "customers",
        "customers_attributes",
        "metrics",
        "objects",
        "segment_memberships",
    }
)

_TABLE = re.compile(r"^[a-z][a-z0-9_]{0,62}$")


def placeholders(path: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(path) if name}


def _names(catalog: Sequence[ObjectSpec]) -> list[str]:
    problems: list[str] = []
    seen: dict[str, tuple[int, str]] = {}
    for position, spec in enumerate(catalog):
        for label in {spec.name.lower(), spec.table.lower()}:
            first, other = seen.setdefault(label, (position, spec.name))
            if first != position:
                problems.append(f"{spec.name}: name or table {label!r} already used by {other}")
        if spec.name.lower() == "all":
            problems.append(f"{spec.name}: 'all' is reserved for the whole catalog")
        if not _TABLE.match(spec.table) or spec.table.startswith("_"):
            problems.append(f"{spec.name}: table {spec.table!r} is not a plain snake_case name")
    return problems


def _lineage(spec: ObjectSpec, earlier: Mapping[str, ObjectSpec]) -> list[str]:
    problems: list[str] = []
    holes = placeholders(spec.path)
    if spec.parent is None:
        if holes or spec.parent_params or spec.inherit:
            problems.append(f"{spec.name}: has path placeholders or parent fields but no parent")
        return problems
    parent = earlier.get(spec.parent)
    if parent is None:
        problems.append(f"{spec.name}: parent {spec.parent!r} is not an earlier catalog entry")
        return problems
    if missing := holes - set(spec.parent_params):
        problems.append(f"{spec.name}: path placeholders {sorted(missing)} not in parent_params")
    if (extra := set(spec.parent_params) - holes) and spec.extractor is None:
        problems.append(f"{spec.name}: parent_params {sorted(extra)} fill no path placeholder")
    # A parent's key, or a field its records document (an action's campaign_id); a
    # parent built from a filter (a `parent` pushdown) holds only its key.
    known = set(parent.key) | set(fields_of(parent.name))
    if any(rule.kind == "parent" for rule in spec.pushdown):
        known = set(parent.key)
    for label, fields in (("parent_params", spec.parent_params), ("inherit", spec.inherit)):
        if bad := set(fields.values()) - known:
            problems.append(
                f"{spec.name}: {label} uses {sorted(bad)}, not a key or field of {parent.name}"
            )
    return problems


def _replication(spec: ObjectSpec) -> list[str]:
    problems: list[str] = []
    if spec.mode in ("incremental", "append") and spec.cursor is None:
        problems.append(f"{spec.name}: {spec.mode} needs a cursor")
    if spec.cursor is not None and spec.cursor not in spec.timestamps:
        problems.append(f"{spec.name}: cursor {spec.cursor!r} is not a timestamp field")
    if len(set(spec.timestamps)) != len(spec.timestamps):
        problems.append(f"{spec.name}: duplicate timestamp fields")
    if spec.cursor in CREATION_CURSORS and spec.mode != "append":
        problems.append(f"{spec.name}: cursor {spec.cursor!r} is a creation time, must be append")
    if spec.mode == "append" and spec.cursor not in CREATION_CURSORS:
        problems.append(f"{spec.name}: append needs a creation-time cursor")
    for rule in spec.pushdown:
        if rule.kind == "since" and (spec.mode == "full" or rule.column != spec.cursor):
            problems.append(f"{spec.name}: 'since' pushdown must filter the cursor")
    if spec.metrics is not None and (
        spec.mode != "append" or spec.extractor is not None or spec.metrics in spec.key
    ):
        problems.append(f"{spec.name}: metrics are re-read on append objects of regular listings")
    if spec.metrics is not None and spec.since_param is None and not spec.newest_first:
        problems.append(f"{spec.name}: a metrics window needs a 'since' pushdown or newest_first")
    if spec.per_person != (spec.cost is not None):
        problems.append(f"{spec.name}: exactly the per_person objects declare a cost model")
    if not spec.key:
        problems.append(f"{spec.name}: needs a key")
    if spec.kept_text and not spec.typed_strings:
        problems.append(f"{spec.name}: kept_text without typed_strings")
    if spec.typed_strings and (loose := set(spec.key) - set(spec.kept_text)):
        problems.append(f"{spec.name}: typed_strings must keep key {sorted(loose)} as text")
    return problems


def _paging(spec: ObjectSpec) -> list[str]:
    problems: list[str] = []
    if not spec.paginated and spec.page_size is not None:
        problems.append(f"{spec.name}: page_size on an unpaginated endpoint")
    limit = DOCUMENTED_MAX.get(spec.path, UNCONFIRMED_MAX)
    if spec.page_size is not None and not 0 < spec.page_size <= limit:
        problems.append(f"{spec.name}: page_size {spec.page_size} outside 1..{limit}")
    if spec.batch_size is not None and not 0 < spec.batch_size <= ATTRIBUTE_BATCH_MAX:
        problems.append(f"{spec.name}: batch_size {spec.batch_size} outside 1..100")
    if spec.extractor is not None and spec.extractor not in EXTRACTORS:
        problems.append(f"{spec.name}: unknown extractor {spec.extractor!r}")
    if spec.extractor is None and (spec.envelope is None or spec.method != "GET"):
        problems.append(f"{spec.name}: a regular extraction needs a GET with an envelope")
    plain = spec.paginated and spec.cursor and spec.parent is None and spec.extractor is None
    if spec.newest_first and not plain:
        problems.append(f"{spec.name}: newest_first needs a paginated listing with a cursor")
    return problems


def _writes(spec: ObjectSpec) -> list[str]:
    write = spec.write
    if write is None:
        return []
    problems: list[str] = []
    if not write.operations:
        problems.append(f"{spec.name}: a write spec with no DML operation")
    if write.writer == "people":
        if spec.name != PEOPLE:
            problems.append(f"{spec.name}: only {PEOPLE} are written through the Track API")
        return problems
    fields = set(write.fields)
    named: dict[str, set[str]] = {
        "natural_key": {write.natural_key} if write.natural_key else set(),
        "insert_required": set(write.insert_required),
        "update_required": set(write.update_required),
        "one_of": set(write.one_of),
        "choices": set(write.choices),
    }
    for label, used in named.items():
        if bad := used - fields:
            problems.append(f"{spec.name}: {label} {sorted(bad)} not among the writable fields")
    if overlap := fields & write.readonly:
        problems.append(f"{spec.name}: {sorted(overlap)} both writable and read-only")
    problems += _agrees_with_records(spec.name, write)
    if "INSERT" in write.operations:
        if spec.parent is not None:
            problems.append(f"{spec.name}: INSERT posts to the listing, which needs no parent")
        if not write.insert_required:
            problems.append(f"{spec.name}: INSERT needs insert_required fields")
        if write.natural_key is not None and write.natural_key not in write.insert_required:
            problems.append(f"{spec.name}: natural_key must be required on INSERT")
    elif write.insert_required or write.natural_key or write.one_of:
        problems.append(f"{spec.name}: INSERT rules on an object without INSERT")
    if "UPDATE" in write.operations and not fields:
        problems.append(f"{spec.name}: UPDATE needs writable fields")
    if write.update_at_listing and "UPDATE" not in write.operations:
        problems.append(f"{spec.name}: update_at_listing without UPDATE")
    if len(spec.key) != 1:
        problems.append(f"{spec.name}: the write path addresses a record by one key field")
    return problems


def _agrees_with_records(name: str, write: WriteSpec) -> list[str]:
    """A write spec restates no record fact differently: its read-only names are fields of
    the records, and a writable field the records carry has the records' kind."""
    record = fields_of(name)
    problems = [
        f"{name}: read-only {field!r} is not a field of its records (catalog/fields.py)"
        for field in sorted(write.readonly - set(record))
    ]
    for field, kind in write.fields.items():
        carried = record.get(field)
        if carried is not None and not carries(carried, kind):
            problems.append(
                f"{name}: {field!r} is written as {kind} but its records carry {carried}"
            )
    return problems


def check_catalog(catalog: Sequence[ObjectSpec]) -> list[str]:
    """Every rule the catalog breaks, as readable messages ([] when consistent)."""
    problems = _names(catalog)
    earlier: dict[str, ObjectSpec] = {}
    for spec in catalog:
        problems += _lineage(spec, earlier)
        problems += _replication(spec)
        problems += _paging(spec)
        problems += _writes(spec)
        fed = earlier.get(spec.feeds or "")
        if spec.feeds is not None and (fed is None or not (fed.extractor and spec.extractor)):
            problems.append(f"{spec.name}: feeds {spec.feeds!r}, not an earlier irregular entry")
        earlier[spec.name] = spec
    return problems
