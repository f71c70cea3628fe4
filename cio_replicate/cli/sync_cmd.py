"""``sync``: keep a table and the workspace in step both ways (Collections)."""

from __future__ import annotations

import click

from ..catalog import CATALOG, get_object
from ..clock import system_clock
from ..connect import open_client
from ..engine.crash import CrashPoints
from ..errors import PartialFailure, UsageError
from ..load import Target
from ..source import guard_target
from ..sync import SyncReport, sync_collections
from . import output
from .context import announce
from .options import load_cli_settings, settings_options

_CONNECTION = ("source", "region", "app_api_url", "track_api_url", "sandbox_scale", "sandbox_seed")


@click.command("sync")
@click.argument("object_name", metavar="OBJECT")
@click.option(
    "--prefer",
    type=click.Choice(["newer", "source", "target"]),
    default="newer",
    show_default=True,
    help="A collection changed on both sides since the last sync: keep Customer.io's version "
    "(source), the table's (target), or the newer change (Customer.io's updated_at against "
    "the time a sync first saw the table's change).",
)
@click.option("--dry-run", is_flag=True, help="Print the plan (each way) and change nothing.")
@click.option(
    "--force", is_flag=True, help="Use a target that holds data from another source anyway."
)
@settings_options(*_CONNECTION, "target_url", "rate_limit", "concurrency")
@click.pass_context
def sync_command(
    ctx: click.Context,
    /,
    object_name: str,
    prefer: str,
    dry_run: bool,
    force: bool,
    **flags: object,
) -> None:
    """Keep the target's table of OBJECT (Collections) and the workspace in step, both ways.

    Rows inserted in the table (name, data; id NULL) are created in Customer.io and get
    their id; rows changed or deleted there are updated or deleted there; collections
    created, changed or deleted in Customer.io reach the table. Changes are found
    against the state of the last sync (kept in _cio_sync_collections): a run with no
    change sends no write. Exit 4 if some collections failed (the others are synced;
    the failed ones are retried next run).
    """
    spec = get_object(object_name)
    if not spec.synced:
        synced = ", ".join(s.name for s in CATALOG if s.synced)
        raise UsageError(f"{spec.name} does not support sync; objects that do: {synced}")
    settings = load_cli_settings(ctx, flags)
    announce(ctx, settings, writes_source=not dry_run)
    guard_target(settings, force=force, writes=True)
    crash = CrashPoints.from_env()
    with (
        open_client(settings) as client,
        Target(
            settings.target_url,
            column_names=settings.column_names,
            schema=settings.target_schema,
        ) as target,
    ):
        report = sync_collections(
            client,
            target,
            system_clock,
            prefer="newer" if prefer == "newer" else "source" if prefer == "source" else "target",
            dry_run=dry_run,
            reached=lambda event: crash.reached("create") if event == "create" else None,
        )
    _show(report)
    if report.failures:
        raise PartialFailure(
            f"{len(report.failures)} collection(s) not synced (retried next run): "
            + "; ".join(report.failures)
        )


def _show(report: SyncReport) -> None:
    steps = report.plan.writes if report.dry_run else report.done
    for action in steps:
        if action.kind != "record":
            output.say("sync.step", ("would " if report.dry_run else "") + action.describe())
    for conflict in report.conflicts:
        output.say("sync.conflict", conflict.describe(), level="warning")
    counts = report.counts()
    shown = ", ".join(f"{k} {v}" for k, v in sorted(counts.items())) or "nothing to do"
    head = "plan (dry run, nothing changed)" if report.dry_run else "synced"
    output.summary(**counts, conflicts=len(report.conflicts), dry_run=report.dry_run)
    if not output.json_mode():
        click.echo(f"Collections {head}: {shown}; {len(report.conflicts)} conflict(s)")


COMMANDS: list[click.Command] = [sync_command]
