"""What a sync of Collections must do: a pure function of three states.

The table's rows (:class:`Local`), the state both sides agreed on at the last
sync (:class:`Known`, one per collection id, plus the creates in flight,
:class:`Intent`) and the workspace's collections (:class:`Remote`, with their
data when their ``updated_at`` moved). A side *changed* a collection when its
digest (name and data) differs from the known one, or it no longer has it.
Changed on one side: the change goes to the other. Changed on both (and not to
the same thing): a :class:`Conflict`, settled by ``prefer``. No I/O here.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

Prefer = Literal["newer", "source", "target"]
Way = Literal["to_cio", "to_table"]
Kind = Literal["create", "update", "delete", "link", "record"]


def digest(name: str, data: Any) -> str:
    """Name and data, canonical (key order and spacing do not count)."""
    text = json.dumps([name, data], sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def meta_digest(record: Mapping[str, Any]) -> str:
    """A collection's listing record (name, size, schema, updated_at), canonical."""
    text = json.dumps(record, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def data_problem(data: Any) -> str | None:
    """Why ``data`` cannot be a collection's data (None: it can)."""
    rows = data if isinstance(data, list) else [data]
    if not isinstance(data, list | dict) or not all(isinstance(r, dict) for r in rows):
        return "data must be a JSON array of objects, or a JSON object"
    return None


@dataclass(frozen=True)
class Local:
    """A row of the table (``id`` None: inserted by the user, not created yet)."""

    id: int | None
    name: str
    data: Any
    problem: str | None = None
    """Why the row cannot be sent (bad JSON, no name, data of the wrong shape)."""

    @property
    def digest(self) -> str:
        return digest(self.name, self.data)


@dataclass(frozen=True)
class Known:
    """A collection as both sides had it after the last sync."""

    id: int
    name: str
    digest: str
    updated_at: int | None
    seen_at: int | None = None
    meta: str | None = None
    """The listing record's hash at the last sync (:func:`meta_digest`)."""


@dataclass(frozen=True)
class Intent:
    """A create the tool recorded before sending it (it may or may not have happened)."""

    name: str
    digest: str


@dataclass(frozen=True)
class Remote:
    """A collection of the workspace; ``data`` is fetched only when ``fetched``."""

    record: Mapping[str, Any]
    data: Any = None
    fetched: bool = False

    @property
    def id(self) -> int:
        return int(self.record["id"])

    @property
    def name(self) -> str:
        return str(self.record.get("name") or "")

    @property
    def updated_at(self) -> int | None:
        value = self.record.get("updated_at")
        return int(value) if isinstance(value, int | float) else None

    @property
    def digest(self) -> str | None:
        return digest(self.name, self.data) if self.fetched else None


@dataclass(frozen=True)
class Action:
    """One step: ``way`` says which side is written.

    ``link``: a create the tool made earlier (a crash came before its id reached
    the table) is found by name and its id written into the row. ``record``:
    only the tool's state moves (both sides already agree)."""

    kind: Kind
    way: Way
    name: str
    id: int | None = None
    local: Local | None = None
    remote: Remote | None = None
    replaces: int | None = None
    """create to_cio: the row's old id (its collection was deleted in Customer.io)."""
    conflict: str | None = None

    def describe(self) -> str:
        where = "Customer.io" if self.way == "to_cio" else "table"
        ident = f"#{self.id}" if self.id is not None else "(new)"
        text = f"{self.kind} in {where}: {ident} {self.name!r}"
        return text + (f" [conflict: {self.conflict}]" if self.conflict else "")


@dataclass(frozen=True)
class Conflict:
    id: int
    name: str
    winner: Literal["source", "target"]
    reason: str

    def describe(self) -> str:
        side = "Customer.io" if self.winner == "source" else "the table"
        return f"conflict on #{self.id} {self.name!r}: {side} wins ({self.reason})"


@dataclass
class Plan:
    actions: list[Action] = field(default_factory=list)
    conflicts: list[Conflict] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    """Rows that cannot be sent (reported as failures, retried next run)."""
    stale_intents: list[str] = field(default_factory=list)
    """Names of recorded creates that never happened (forgotten)."""

    @property
    def writes(self) -> list[Action]:
        return [a for a in self.actions if a.kind != "record"]


def needs_content(known: Mapping[int, Known], remote: Remote) -> bool:
    """Fetch this collection's data: new to the tool, or its ``updated_at`` moved."""
    k = known.get(remote.id)
    return k is None or k.updated_at != remote.updated_at or k.meta != meta_digest(remote.record)


def make_plan(
    locals_: Sequence[Local],
    known: Mapping[int, Known],
    intents: Iterable[Intent],
    remotes: Mapping[int, Remote],
    *,
    prefer: Prefer,
    now: int,
    replicated: int | None = None,
) -> Plan:
    """``replicated``: the replication watermark of the table (None: never
    replicated). A collection unknown to the sync state whose ``updated_at`` is
    not above it was in the table as replication wrote it: that is its common
    past, so a first sync sees the table's edits and deletes as such."""
    plan = Plan()
    by_id = {row.id: row for row in locals_ if row.id is not None}
    untracked = {i: r for i, r in remotes.items() if i not in known and i not in by_id}
    _new_rows(plan, [r for r in locals_ if r.id is None], intents, untracked)
    linked = {a.id for a in plan.actions if a.kind == "link"}
    for cid in sorted(set(by_id) | set(known) | set(remotes)):
        if cid in linked:
            continue
        remote = remotes.get(cid)
        base = known.get(cid) or _replicated(remote, replicated)
        _one(plan, by_id.get(cid), base, remote, cid, prefer, now)
    return plan


def _replicated(remote: Remote | None, watermark: int | None) -> Known | None:
    """The state replication left for a collection no sync has seen, if it did."""
    if remote is None or watermark is None or not remote.fetched:
        return None
    if remote.updated_at is None or remote.updated_at > watermark:
        return None
    return Known(remote.id, remote.name, remote.digest or "", remote.updated_at)


def _new_rows(
    plan: Plan,
    rows: Sequence[Local],
    intents: Iterable[Intent],
    untracked: Mapping[int, Remote],
) -> None:
    """Rows without id: link to a create already made (recorded intent, or the same
    name and data), else create. Untracked collections not linked come to the table."""
    intended = {i.name: i for i in intents}
    by_name: dict[str, list[Remote]] = {}
    for remote in untracked.values():
        by_name.setdefault(remote.name, []).append(remote)
    seen: set[str] = set()
    for row in rows:
        if row.problem:
            plan.problems.append(f"new row {row.name!r}: {row.problem}")
            continue
        if row.name in seen:
            plan.problems.append(f"new row {row.name!r}: another new row has this name")
            continue
        seen.add(row.name)
        intent = intended.pop(row.name, None)
        match = next(
            (r for r in by_name.get(row.name, []) if intent or r.digest == row.digest), None
        )
        if match is None:
            plan.actions.append(Action("create", "to_cio", row.name, local=row))
            continue
        by_name[row.name].remove(match)
        plan.actions.append(Action("link", "to_table", row.name, match.id, row, match))
        if match.digest != row.digest:
            plan.actions.append(Action("update", "to_cio", row.name, match.id, row, match))
    plan.stale_intents.extend(intended)


def _one(
    plan: Plan,
    local: Local | None,
    known: Known | None,
    remote: Remote | None,
    cid: int,
    prefer: Prefer,
    now: int,
) -> None:
    name = _name(local, remote, known)
    if local is not None and local.problem:
        plan.problems.append(f"#{cid} {local.name!r}: {local.problem}")
        return
    if known is None:
        if remote is None:  # an id Customer.io does not have (deleted before any sync)
            plan.actions.append(Action("delete", "to_table", name, cid, local))
        elif local is None:
            plan.actions.append(Action("create", "to_table", name, cid, remote=remote))
        elif local.digest == remote.digest:
            plan.actions.append(Action("record", "to_table", name, cid, local, remote))
        else:  # no common past: both count as changed
            _conflict(plan, local, None, remote, cid, prefer, now, "no earlier sync")
        return
    local_changed = local is None or local.digest != known.digest
    remote_changed = remote is None or (remote.fetched and remote.digest != known.digest)
    if not local_changed and not remote_changed:
        if remote is not None and remote.fetched:
            plan.actions.append(Action("record", "to_table", name, cid, local, remote))
        return
    if local_changed and not remote_changed:
        kind: Kind = "delete" if local is None else "update"
        plan.actions.append(Action(kind, "to_cio", name, cid, local, remote))
        return
    if remote_changed and not local_changed:
        kind = "delete" if remote is None else "update"
        plan.actions.append(Action(kind, "to_table", name, cid, local, remote))
        return
    if local is None and remote is None:
        plan.actions.append(Action("delete", "to_table", name, cid))  # forget it
        return
    if local is not None and remote is not None and local.digest == remote.digest:
        plan.actions.append(Action("record", "to_table", name, cid, local, remote))
        return
    _conflict(plan, local, known, remote, cid, prefer, now, "changed on both sides")


def _conflict(
    plan: Plan,
    local: Local | None,
    known: Known | None,
    remote: Remote | None,
    cid: int,
    prefer: Prefer,
    now: int,
    why: str,
) -> None:
    name = _name(local, remote, None)
    if prefer == "newer":
        seen = known.seen_at if known is not None and known.seen_at is not None else now
        # A deletion in Customer.io has no time: the table's change is the newer one.
        changed = remote.updated_at if remote is not None else None
        source_newer = changed is not None and changed > seen
        winner: Literal["source", "target"] = "source" if source_newer else "target"
        reason = f"{why}; Customer.io updated_at {changed} vs table change seen at {seen}"
    else:
        winner = prefer
        reason = f"{why}; --prefer {prefer}"
    plan.conflicts.append(Conflict(cid, name, winner, reason))
    if winner == "source":
        kind: Kind = "delete" if remote is None else "update"
        plan.actions.append(Action(kind, "to_table", name, cid, local, remote, conflict=reason))
    elif local is None:
        plan.actions.append(Action("delete", "to_cio", name, cid, None, remote, conflict=reason))
    elif remote is None:  # deleted in Customer.io: made again, under a new id
        plan.actions.append(
            Action("create", "to_cio", name, None, local, None, replaces=cid, conflict=reason)
        )
    else:
        plan.actions.append(Action("update", "to_cio", name, cid, local, remote, conflict=reason))


def _name(local: Local | None, remote: Remote | None, known: Known | None) -> str:
    for side in (local, remote, known):
        if side is not None:
            return side.name
    return ""
