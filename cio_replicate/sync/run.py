"""One ``sync Collections``: read the three states, plan, then apply each step on
its own (a step that fails is reported and retried next run; the others stay
done).

Every step writes the other side first, then the table and the state in one
transaction, so a crash between the two leaves the state as it was and the
rerun sees the same change again (sending it again is harmless: PUT and
DELETE are idempotent). A create is the exception: it is recorded as an
intent before the POST, and a rerun finds the collection it made by name
(:func:`cio_replicate.sync.plan.make_plan` links it) instead of making another.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..catalog import get_object
from ..clock import Clock
from ..errors import ApiError, CioReplicateError, NotFoundError
from ..extract import Client
from ..extract.collections import content_path
from ..load import TableWriter, Target
from ..locks import try_lock
from ..state import load_state
from ..threads import Threads
from . import store
from .plan import Action, Conflict, Known, Plan, Prefer, Remote, make_plan, needs_content

log = logging.getLogger("cio_replicate.sync")
OBJECT = "Collections"
LISTING = "/v1/collections"


class SyncBusy(CioReplicateError):
    """Another run holds the Collections lock."""


@dataclass
class SyncReport:
    plan: Plan
    dry_run: bool
    done: list[Action] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)

    @property
    def conflicts(self) -> list[Conflict]:
        return self.plan.conflicts

    def counts(self) -> dict[str, int]:
        """Steps per ``<kind>_<way>`` (planned in a dry run, else done)."""
        out: dict[str, int] = {}
        for action in self.plan.writes if self.dry_run else self.done:
            if action.kind == "record":
                continue
            key = f"{action.kind}_{action.way}"
            out[key] = out.get(key, 0) + 1
        return out


def read_remotes(
    client: Client, known: Mapping[int, Known], threads: Threads | None = None
) -> dict[int, Remote]:
    """The workspace's collections; data only for those whose ``updated_at`` moved."""
    body = client.app("GET", LISTING)
    listed = body.get("collections") if isinstance(body, dict) else None
    if not isinstance(listed, list):
        raise ApiError(f"GET {LISTING}: no 'collections' list in the answer")
    remotes = {int(r["id"]): Remote(r) for r in listed if isinstance(r, dict) and "id" in r}

    def fetch(remote: Remote) -> Remote | None:
        try:
            return Remote(remote.record, client.app("GET", content_path(remote.id)), True)
        except NotFoundError:  # deleted since the listing
            return None

    wanted = [r for r in remotes.values() if needs_content(known, r)]
    for cid, found in zip(
        [r.id for r in wanted], client.fan_out(fetch, wanted, threads), strict=True
    ):
        if found is None:
            del remotes[cid]
        else:
            remotes[cid] = found
    return remotes


def sync_collections(
    client: Client,
    target: Target,
    clock: Clock,
    *,
    prefer: Prefer = "newer",
    dry_run: bool = False,
    reached: Callable[[str], None] = lambda event: None,
) -> SyncReport:
    """Bring the table and the workspace's collections in step (see the module doc).

    ``reached("create")`` is called after each create's POST, before its id is
    written back (the crash tests kill the process there)."""
    spec = get_object(OBJECT)
    lock = try_lock(target.engine, OBJECT, str(uuid.uuid4()), clock=clock)
    if lock is None:
        raise SyncBusy("another run works on Collections right now; try again when it ends")
    try:
        writer = store.table_writer(target, spec)
        known, intents = store.read_state(target)
        locals_ = store.read_rows(target, writer)
        remotes = read_remotes(client, known)
        now = int(clock())
        with target.connect() as conn:
            replicated = load_state(conn, OBJECT).watermark
        plan = make_plan(
            locals_, known, intents, remotes, prefer=prefer, now=now, replicated=replicated
        )
        report = SyncReport(plan, dry_run)
        report.failures.extend(plan.problems)
        if dry_run:
            return report
        with target.begin() as conn:
            for name in plan.stale_intents:
                store.drop_intent(conn, name)
        for action in plan.actions:
            try:
                _apply(client, target, writer, clock, action, reached)
            except ApiError as exc:
                report.failures.append(f"{action.describe()}: {exc}")
                _failed(target, clock, action, exc, now)
                continue
            report.done.append(action)
        return report
    finally:
        lock.release()


def _failed(target: Target, clock: Clock, action: Action, exc: ApiError, now: int) -> None:
    """Keep the table's change pending (seen at ``now``); a refused create is no intent."""
    with target.begin() as conn:
        if action.way == "to_cio" and action.id is not None:
            store.mark_seen(conn, action.id, now)
        refused = exc.status is not None and 400 <= exc.status < 500
        if action.kind == "create" and action.way == "to_cio" and refused:
            store.drop_intent(conn, action.name)


def _apply(
    client: Client,
    target: Target,
    writer: TableWriter,
    clock: Clock,
    action: Action,
    reached: Callable[[str], None],
) -> None:
    local, remote = action.local, action.remote
    if action.way == "to_table":
        with target.begin() as conn:
            if action.kind == "link" and local is not None and remote is not None:
                store.link_row(conn, writer, local.name, remote.id)
                store.drop_intent(conn, local.name)
                store.remember(conn, clock, remote, remote.digest or "")
            elif action.kind == "delete" and action.id is not None:
                store.delete_row(conn, writer, action.id)
                store.forget(conn, action.id)
            elif remote is not None:  # create, update, record
                if action.kind != "record":
                    store.write_record(conn, writer, remote)
                store.remember(conn, clock, remote, remote.digest or _digest(local, remote))
        return
    if action.kind == "delete" and action.id is not None:
        try:
            client.app("DELETE", f"{LISTING}/{action.id}")
        except NotFoundError:
            pass  # already gone
        with target.begin() as conn:
            store.forget(conn, action.id)
        return
    if local is None:
        raise ValueError(f"{action.describe()}: no row to send")
    body = {"name": local.name, "data": local.data}
    if action.kind == "create":
        with target.begin() as conn:
            store.record_intent(conn, clock, local.name, local.digest)
        answer = client.app("POST", LISTING, json=body)
        reached("create")
    else:
        answer = client.app("PUT", f"{LISTING}/{action.id}", json=body, idempotent=True)
    made = Remote(_collection(answer), local.data, True)
    with target.begin() as conn:
        if action.kind == "create":
            if action.replaces is not None:
                store.delete_row(conn, writer, action.replaces)
                store.forget(conn, action.replaces)
            else:
                store.link_row(conn, writer, local.name, made.id)
            store.drop_intent(conn, local.name)
        store.write_record(conn, writer, made)
        store.remember(conn, clock, made, local.digest)


def _digest(local: Any, remote: Remote) -> str:
    return local.digest if local is not None else remote.digest or ""


def _collection(answer: Any) -> dict[str, Any]:
    rec = answer.get("collection") if isinstance(answer, dict) else None
    if not isinstance(rec, dict) or "id" not in rec:
        raise ApiError("the answer has no 'collection' with an id")
    return rec
