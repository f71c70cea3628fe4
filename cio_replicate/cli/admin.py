"""``db upgrade``, ``status`` and ``objects``: the target's bookkeeping and the catalog."""

from __future__ import annotations

import json
import time
from dataclasses import asdict
from datetime import datetime
from typing import Any

import click
import sqlalchemy as sa

from ..catalog import CATALOG, catalog_text, format_table, spec_json
from ..config import masked_url, shown_target
from ..errors import CioReplicateError, UsageError
from ..load import target_engine
from ..load.deletes import row_counts
from ..load.dialects import missing_database_file
from ..load.naming import recorded as recorded_naming
from ..migrate import current_revision, head_revision, upgrade
from ..state import (
    LockHolder,
    ObjectStats,
    holder_is_live,
    last_object_errors,
    last_object_runs,
    load_states,
    lock_holders,
)
from ..systables import columns
from ..systables import target as target_table
from . import output
from .context import CliState
from .options import load_cli_settings, settings_options


def _verbose(ctx: click.Context) -> bool:
    state = ctx.find_object(CliState)
    return bool(state and state.verbose)


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _unix_iso(seconds: int | None) -> str | None:
    return None if seconds is None else time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(seconds))


# --- db upgrade -------------------------------------------------------------------


@click.group("db")
def db() -> None:
    """The tool's own tables (_cio_*) in the target database."""


@db.command("upgrade")
@settings_options("target_url")
@click.pass_context
def db_upgrade(ctx: click.Context, /, **flags: object) -> None:
    """Create or upgrade the system tables (state, runs, locks, column map).

    Safe to run at any time and from several processes at once: it only ever
    touches cio-replicate's own _cio_* tables, never replicated data.
    """
    settings = load_cli_settings(ctx, flags, needs_source=False)
    url = settings.target_url
    with target_engine(url, schema=settings.target_schema) as engine:
        before = current_revision(engine)
        after = upgrade(engine)
    target = shown_target(url, settings.target_schema)
    if before == after:
        text = f"{target}: already at revision {after}"
    else:
        text = f"{target}: upgraded {before or '(empty)'} -> {after}"
    output.say("db.upgrade", text, target=target, revision=after, previous_revision=before)


# --- status -----------------------------------------------------------------------


def _record_json(item: ObjectStats | LockHolder) -> dict[str, Any]:
    """A run or lock record as JSON (times ISO 8601 UTC); the object is the caller's key."""
    if isinstance(item, ObjectStats):
        values = item.run_fields()
    else:
        values = asdict(item)
        del values["object_name"]
    return {k: _iso(v) if isinstance(v, datetime) else v for k, v in values.items()}


def _run_json(item: ObjectStats | None) -> dict[str, Any] | None:
    return None if item is None else _record_json(item)


def _lock_json(holder: LockHolder | None, live: bool) -> dict[str, Any] | None:
    return None if holder is None else {**_record_json(holder), "live": live}


def _status_report(engine: sa.Engine) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        states = load_states(conn)
        last = last_object_runs(conn)
        failed = last_object_errors(conn)
        holders = {h.object_name: h for h in lock_holders(conn)}
        now = time.time()
        live = {name: holder_is_live(conn, h, now=now) for name, h in holders.items()}
        counts = {spec.name: row_counts(conn, spec.table) for spec in CATALOG}
    names = [s.name for s in CATALOG]
    names += sorted((set(states) | set(last)) - set(names))  # objects no longer in the catalog
    report = []
    for name in names:
        st = states.get(name)
        report.append(
            {
                "object": name,
                "watermark": _unix_iso(st.watermark if st else None),
                "watermark_unix": st.watermark if st else None,
                "rows_total": st.rows_total if st else 0,
                "rows_live": (counts.get(name) or (0, 0))[0],
                "rows_deleted": (counts.get(name) or (0, 0))[1],
                "resumable": bool(st and st.resume is not None),
                "last_run": _run_json(last.get(name)),
                "last_error": _run_json(failed.get(name)),
                "lock": _lock_json(holders.get(name), live.get(name, False)),
            }
        )
    return report


def _status_row(item: dict[str, Any]) -> tuple[str, ...]:
    run, error, lock = item["last_run"], item["last_error"], item["lock"]
    holder = ""
    if lock:
        holder = f"{lock['run_id'][:8]} pid {lock['pid']}@{lock['host']}"
        holder += "" if lock["live"] else " (stale)"
    message = (error["message"] or error["status"]) if error else ""
    return (
        item["object"],
        item["watermark"] or "-",
        str(item["rows_total"]),
        str(item["rows_live"]),
        str(item["rows_deleted"]),
        run["run_id"][:8] if run else "never",
        run["status"] if run else "",
        (run["finished_at"] or run["started_at"] or "") if run else "",
        holder,
        message if len(message) <= 60 else message[:57] + "...",
    )


STATUS_HEADERS = (
    "Object",
    "Watermark (UTC)",
    "Rows",
    "Live",
    "Deleted",
    "Last run",
    "Status",
    "At (UTC)",
    "Lock",
    "Last error",
)
SHORT_STATUS_HEADERS = ("Object", "Watermark (UTC)", "Rows", "Last run", "Lock or last error")
WIDTH = 100


def _rows_cell(item: dict[str, Any]) -> str:
    """Rows, and how many of them are marked deleted (``deletes = "soft"``)."""
    deleted = item["rows_deleted"]
    return f"{item['rows_total']:,}" + (f" ({deleted:,} deleted)" if deleted else "")


def _status_short(report: list[dict[str, Any]]) -> str:
    """The ``status`` table within :data:`WIDTH` columns; the last column is cut to fit."""
    rows = []
    for item in report:
        run, error, lock = item["last_run"], item["last_error"], item["lock"]
        note = ""
        if lock:
            note = f"locked by run {lock['run_id'][:8]} (pid {lock['pid']})"
            note += "" if lock["live"] else ", stale"
        elif error:
            note = "error: " + (error["message"] or error["status"])
        rows.append(
            [
                item["object"],
                item["watermark"] or "-",
                _rows_cell(item),
                run["status"] if run else "never",
                note,
            ]
        )
    fixed = format_table(SHORT_STATUS_HEADERS[:-1], [r[:-1] for r in rows])
    room = max(20, WIDTH - 2 - max(len(line) for line in fixed.splitlines()))
    for row in rows:
        row[-1] = row[-1] if len(row[-1]) <= room else row[-1][: room - 3] + "..."
    return format_table(SHORT_STATUS_HEADERS, rows)


@click.command("status")
@settings_options("target_url")
@click.option("--json", "as_json", is_flag=True, help="One JSON document instead of a table.")
@click.pass_context
def status(ctx: click.Context, /, as_json: bool, **flags: object) -> None:
    """Per object: watermark, rows live and marked deleted, last run, last error and who
    holds its lock."""
    settings = load_cli_settings(ctx, flags, needs_source=False)
    url = settings.target_url
    if (missing := missing_database_file(url)) is not None:
        raise UsageError(f"no database at {missing}: check --target-url / CIO_TARGET_URL")
    with target_engine(url, schema=settings.target_schema) as engine:
        revision = current_revision(engine)
        if revision is None:
            raise UsageError(
                f"{shown_target(url, settings.target_schema)} has no cio-replicate tables yet: "
                "run `cio-replicate db upgrade`"
            )
        report = _status_report(engine)
    if as_json:
        output.data_output()
        document = {
            "target": masked_url(url),
            "target_schema": settings.target_schema,
            "revision": revision,
            "objects": report,
        }
        click.echo(json.dumps(document, indent=2))
        return
    output.data_output()
    click.echo(f"target: {shown_target(url, settings.target_schema)} (revision {revision})")
    if _verbose(ctx):
        click.echo(format_table(STATUS_HEADERS, [_status_row(item) for item in report]))
    else:
        click.echo(_status_short(report))
        click.echo(
            "Last run ids, times and full errors: cio-replicate -v status (or status --json)"
        )
    if revision != head_revision():
        output.say(
            "warning",
            "note: system tables are behind; run `cio-replicate db upgrade`",
            level="warning",
            err=True,
        )


# --- objects ----------------------------------------------------------------------


def _column_maps(
    url: str, schema: str | None
) -> tuple[dict[str, dict[str, str]], str | None] | None:
    """API name -> column per table from `_cio_columns`, if the target has it, and the
    target's recorded column naming (snake|api; None: not recorded yet)."""
    if missing_database_file(url) is not None:
        return None
    try:
        with target_engine(url, schema=schema) as engine, engine.connect() as conn:
            if not sa.inspect(conn).has_table(columns.name):
                return None
            naming = (
                recorded_naming(conn) if sa.inspect(conn).has_table(target_table.name) else None
            )
            rows = conn.execute(
                sa.select(
                    columns.c.table_name,
                    columns.c.api_name,
                    columns.c.column_name,
                    columns.c.sql_type,
                ).order_by(columns.c.table_name, columns.c.position)
            ).all()
    except CioReplicateError as exc:
        output.say("warning", f"warning: column map not read: {exc}", level="warning", err=True)
        return None
    maps: dict[str, dict[str, str]] = {}
    for table, api_name, column, sql_type in rows:
        # A "raw" column keeps the values of a timestamp field that were no
        # time; it must not hide that field's real column.
        key = "raw_columns" if sql_type == "raw" else "columns"
        maps.setdefault(f"{table}\0{key}", {})[str(api_name)] = str(column)
    return maps, naming


@click.command("objects")
@settings_options("target_url")
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="Every catalog field as JSON, plus each table's API-name -> column map "
    "and the target's column naming (column_names) when the target database has them.",
)
@click.pass_context
def objects(ctx: click.Context, /, as_json: bool, **flags: object) -> None:
    """The Customer.io objects this tool replicates: table, source, key, mode, DML."""
    output.data_output()
    if not as_json:
        click.echo(catalog_text(verbose=_verbose(ctx)))
        return
    settings = load_cli_settings(ctx, flags, needs_source=False)
    found = _column_maps(settings.target_url, settings.target_schema)
    items = []
    for spec in CATALOG:
        item = spec_json(spec)
        if found is not None:
            item["columns"] = found[0].get(f"{spec.table}\0columns", {})
            raw = found[0].get(f"{spec.table}\0raw_columns")
            if raw:
                item["raw_columns"] = raw
        items.append(item)
    document: dict[str, object] = {"objects": items}
    if found is not None and found[1] is not None:
        document["column_names"] = found[1]  # the target's naming: snake or api
    click.echo(json.dumps(document, indent=2))


COMMANDS: list[click.Command] = [db, status, objects]
