"""``cio-replicate replicate``: copy the workspace into the target database."""

from __future__ import annotations

import click

from ..catalog import resolve_selection
from ..engine import RunOptions, replicate_with_settings
from ..errors import CioReplicateError, Interrupted, PartialFailure
from ..extract.filters import check_reach, parse_filters
from ..source import guard_target
from . import output
from .context import CliState, announce
from .options import load_cli_settings, settings_options
from .signals import StopOnSignals


@click.command("replicate")
@click.argument("objects", nargs=-1, metavar="[OBJECT ...]")
@click.option(
    "--filter",
    "filters",
    multiple=True,
    metavar="OBJECT.FIELD=V[,V...]",
    help="Only records whose field equals one of the values (repeatable). Pushed down to the "
    "API where it can filter: Customers.email=person1@example.com, Customers.segment=3, "
    "Customers.plan=pro, Campaigns.id=2,5, CampaignActions.campaign_id=2. Filtered runs do "
    "not move watermarks. An unknown field, an impossible value (id=abc) or a filter on an "
    "object the run does not read is an error (exit 2).",
)
@click.option(
    "--full-refresh",
    is_flag=True,
    help="Reset the watermarks of the selected objects and rebuild their tables.",
)
@click.option(
    "--lock-wait",
    type=click.FloatRange(min=0),
    default=0.0,
    show_default=True,
    metavar="SECONDS",
    help="Wait this long for an object another run is working on, then skip it.",
)
@click.option(
    "--force",
    is_flag=True,
    help="Write even when the target holds data from another source (the sandbox vs a "
    "real workspace, or another workspace).",
)
@settings_options(
    "source",
    "region",
    "app_api_url",
    "track_api_url",
    "target_url",
    "rate_limit",
    "concurrency",
    "sandbox_scale",
    "sandbox_seed",
    "lookback_seconds",
    "metrics_lookback",
    "batch_size",
    "deletes",
)
@click.pass_context
def replicate(
    ctx: click.Context,
    /,
    objects: tuple[str, ...],
    filters: tuple[str, ...],
    full_refresh: bool,
    lock_wait: float,
    force: bool,
    **flags: object,
) -> None:
    """Replicate OBJECTs (default: every object except the per-person children
    CustomerSegments, CustomerMessages and CustomerActivities, which cost one API call
    per person and run when named; ``all``: everything).

    With no configuration at all, the built-in sandbox's demo workspace is copied into
    sqlite:///cio-replicate.db. Exit code 4 when some objects failed (the others are
    committed). A target that holds data from another source (the sandbox vs a real
    workspace) is refused (exit 2) unless --force. Ctrl-C or SIGTERM stops the run at
    once, keeping every committed batch (exit 130, or 143 for SIGTERM); the next run
    continues from there.
    """
    state = ctx.find_object(CliState)
    # A mistake in the selection or the filters is an error before anything runs.
    check_reach(parse_filters(filters), resolve_selection(objects).read, "this run")
    settings = load_cli_settings(ctx, flags)
    announce(ctx, settings)
    guard_target(settings, force=force, writes=True)
    options = RunOptions(
        objects=objects, filters=filters, full_refresh=full_refresh, lock_wait=lock_wait
    )
    with StopOnSignals() as stopping:  # until the command ends: a 2nd Ctrl-C changes nothing
        report = replicate_with_settings(settings, options, stop=stopping.event)
        if output.json_mode():
            output.summary(**report.summary_fields())  # the closing summary object
        else:
            click.echo(report.summary(verbose=bool(state and state.verbose)))
        if report.interrupted:
            raise Interrupted(
                "interrupted: the batches committed are kept and the next run continues from there",
                signal_number=stopping.signal_number,
            )
        if report.failed:
            reasons = "; ".join(f"{r.name}: {r.message}" for r in report.failed)
            if len(report.failed) == len(report.results):
                # Nothing was committed: not a partial failure (exit 4) but a failed run.
                raise CioReplicateError(f"every object failed: {reasons}")
            raise PartialFailure(f"{len(report.failed)} object(s) failed: {reasons}")


COMMANDS: list[click.Command] = [replicate]
