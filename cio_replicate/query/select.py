"""Run a SELECT: estimate, check the call limit, fetch each object, answer in SQLite."""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import UsageError
from ..extract import ExtractContext, ListingCache, extract
from ..http import CioClient
from .cost import Calls, calls_of
from .local import Answer, LocalStore, local_sql
from .plan import Plan, Read
from .pushdown import literal

DEFAULT_MAX_CALLS = 1000
BATCH = 1000


@dataclass(frozen=True)
class Estimated:
    read: Read
    calls: Calls


@dataclass
class Reader:
    """What the reads of one statement share: the client, the time, the listings kept,
    and the most calls the statement may make."""

    client: CioClient
    now: int
    listings: ListingCache
    max_calls: int = DEFAULT_MAX_CALLS

    def calls(self) -> int:
        return self.client.log.calls

    def context(self, read: Read, batch_size: int = BATCH) -> ExtractContext:
        until = read.until if read.until is not None else self.now
        return ExtractContext(
            self.client,
            read.spec,
            floor=read.floor,
            until=until,
            filters=read.as_filters,
            batch_size=batch_size,
            listings=self.listings,
        )


def estimates(plan: Plan, reader: Reader) -> list[Estimated]:
    return [Estimated(read, calls_of(reader.context(read))) for read in plan.reads]


def check_calls(found: list[Estimated], max_calls: int) -> None:
    """Refuse a statement whose estimate exceeds ``max_calls``, saying how to narrow it."""
    total = sum(e.calls.calls for e in found)
    if total <= max_calls:
        return
    worst = max(found, key=lambda e: e.calls.calls)
    spec = worst.read.spec
    if spec.per_person:
        how = (
            f"{spec.name} is read one person at a time: name the person "
            f"(WHERE cio_id = '...' or customer_id = '...'), or join Customers on cio_id "
            "and filter it (WHERE c.email = '...')"
        )
    elif spec.parent is not None:
        first = next((r.column for r in spec.pushdown if r.kind == "parent"), None)
        how = f"{spec.name} is read per {spec.parent} record: " + (
            f"name them (WHERE {first} = ...)" if first else f"filter {spec.parent}"
        )
    else:
        how = f"filter {spec.name} on a field the API filters"
    raise UsageError(
        f"this query would make about {total:,} API calls, more than --max-calls "
        f"{max_calls:,} ({spec.name}: {worst.calls.detail}). {how}; "
        "or raise --max-calls"
    )


def explain_lines(plan: Plan, found: list[Estimated]) -> list[str]:
    lines = ["objects read:"]
    for item in found:
        read = item.read
        lines.append(f"  {read.spec.name} ({read.spec.source})")
        if read.notes:
            lines.append("    pushed to the API:")
            lines.extend(f"      {note}" for note in read.notes)
        else:
            lines.append("    pushed to the API: nothing (every record is read)")
        lines.append(f"    estimated calls: {item.calls.calls:,} ({item.calls.detail})")
    if plan.limit is not None:
        lines.append(f"reading stops once {plan.limit:,} row(s) answer the statement")
    lines.append("evaluated locally (SQLite): " + ("; ".join(plan.local) or "nothing more"))
    total = sum(e.calls.calls for e in found)
    lines.append(f"estimated API calls: {total:,}")
    return lines


def run_select(plan: Plan, reader: Reader, store: LocalStore) -> Answer:
    """Fetch every read into ``store`` and answer there; a read that passes the call
    limit (a listing longer than estimated) stops the statement."""
    start = reader.calls()
    for read in plan.reads:
        # a listing stops at the page that completes the answer; a fan-out reads its
        # parents' children side by side, so it reads them all (filters narrow them)
        listing = read.spec.parent is None and read.spec.extractor is None
        stop = plan.limit if len(plan.reads) == 1 and listing else None
        size = max(1, min(BATCH, stop)) if stop is not None and plan.all_pushed else BATCH
        ctx = reader.context(read, size)
        batches = extract(ctx)
        try:
            for batch in batches:
                _within(reader, start, read)
                store.load(read.spec, batch.records)
                if stop is not None and batch.records and _enough(plan, store, stop):
                    break
        finally:
            close = getattr(batches, "close", None)
            if close is not None:
                close()  # no page is requested after an early stop
        store.ensure(read.spec)
    return store.run(local_sql(plan.tree, plan.resolved, store, plan.dropped))


def _within(reader: Reader, start: int, read: Read) -> None:
    made = reader.calls() - start
    if made > reader.max_calls:
        raise UsageError(
            f"stopped after {made:,} API calls, more than --max-calls {reader.max_calls:,}, "
            f"while reading {read.spec.name} (its listing is longer than estimated); narrow "
            "the statement (a time range, a parent id, a person) or raise --max-calls"
        )


def _enough(plan: Plan, store: LocalStore, wanted: int) -> bool:
    if wanted == 0:
        return True
    return store.count(local_sql(plan.tree, plan.resolved, store, plan.dropped)) >= wanted - (
        _offset(plan)
    )


def _offset(plan: Plan) -> int:
    offset = plan.tree.args.get("offset")
    if offset is None:
        return 0
    value = literal(offset.expression)
    return value if isinstance(value, int) and not isinstance(value, bool) else 0
