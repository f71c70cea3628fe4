"""``export``, ``import`` and ``call``: write-back commands, thin over cio_replicate.writeback."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import BinaryIO, cast

import click

from ..catalog import get_object, resolve_selection
from ..clock import system_clock
from ..connect import open_client
from ..errors import PartialFailure, UsageError
from ..source import guard_target
from ..writeback import importer, procedures, tables
from ..writeback.csvfiles import RejectsWriter, default_rejects_path, read_header, read_rows
from ..writeback.dml import Mode
from ..writeback.progress import Journal
from ..writeback.sqlcall import parse_params
from . import output as cli_output
from .context import CliState, announce
from .options import load_cli_settings, settings_options

_CONNECTION = ("source", "region", "app_api_url", "track_api_url", "sandbox_scale", "sandbox_seed")


def _stdout() -> BinaryIO:
    return sys.stdout.buffer


def _json_output(ctx: click.Context) -> bool:
    state = ctx.find_object(CliState)
    return bool(state and state.log_format == "json")


def _import_line(text: str) -> None:
    cli_output.say("import.row", text)


@click.command("export")
@click.argument("object_name", metavar="OBJECT")
@click.option(
    "-o",
    "--output",
    required=True,
    metavar="FILE.csv",
    help="Where to write the CSV (UTF-8, with a header); '-' writes to stdout. A regular file "
    "is written as FILE.part and renamed when complete; a FIFO, /dev/stdout or >(gzip ...) is "
    "written straight. A missing folder is an error (exit 2).",
)
@click.option(
    "--filter",
    "filters",
    multiple=True,
    metavar="OBJECT.FIELD=V[,V...]",
    help="Only records whose field equals one of the values (repeatable), as in replicate.",
)
@click.option(
    "--columns",
    metavar="A,B,...",
    help="Exactly these columns, in this order (a name that is no field of the object is an "
    "error, exit 2). Default: the fields of the first 1000 records, plus a _cio_extra JSON "
    "column for fields that appear only later.",
)
@click.option(
    "--spreadsheet-safe",
    "safe",
    is_flag=True,
    help="For files opened in a spreadsheet: prefix ' to text cells beginning with = + - @, tab "
    "or CR, so they are not run as formulas (plain numbers are kept). Off by default: the ' "
    "is data to any program reading the file, import included.",
)
@settings_options(*_CONNECTION, "rate_limit", "concurrency")
@click.pass_context
def export_command(
    ctx: click.Context,
    /,
    object_name: str,
    output: str,
    filters: tuple[str, ...],
    columns: str | None,
    safe: bool,
    **flags: object,
) -> None:
    """Export OBJECT to CSV, reading straight from the API and streaming.

    Timestamps are ISO 8601 UTC, nested values JSON text. With no configuration the
    built-in sandbox's demo workspace is exported.
    """
    # imported here: the extraction machinery is only needed by this command
    from ..extract.filters import check_reach, parse_filters
    from ..writeback import export as exporting
    from ..writeback.outputs import check_output

    spec = get_object(object_name)
    wanted = [c.strip() for c in columns.split(",") if c.strip()] if columns else None
    if columns is not None and not wanted:
        raise UsageError("--columns needs at least one column name")
    parsed = parse_filters(filters)
    check_reach(parsed, resolve_selection([spec.name]).read, f"export {spec.name}")
    target = check_output(output)  # before any call: a wrong path costs nothing
    settings = load_cli_settings(ctx, flags)
    announce(ctx, settings, target=False, extra=f"output: {'stdout' if output == '-' else output}")
    with open_client(settings) as client:
        rows = exporting.records(client, spec, parsed, int(system_clock()), settings.batch_size)
        result = exporting.export_to(target, spec, rows, wanted, _stdout, safe=safe)
    summary = {"object": spec.name, "rows": result.rows, "columns": len(result.columns)}
    aside = target.kind != "atomic"  # -o - or /dev/stdout: keep the summary out of the CSV
    if aside:
        cli_output.data_output()
    if _json_output(ctx):
        cli_output.summary(**summary, output=output)  # the closing summary object
    else:
        where = "stdout" if output == "-" else output
        click.echo(
            f"{spec.name}: {result.rows} rows, {len(result.columns)} columns -> {where}",
            err=aside,
        )
    if result.rows_with_extra:
        cli_output.say(
            "export.note",
            f"note: {result.rows_with_extra} rows have fields beyond the header, kept as JSON "
            f"in {exporting.EXTRA_COLUMN}",
            err=True,
        )
    if result.never_seen:
        cli_output.say(
            "export.note", f"note: no record had column(s) {', '.join(result.never_seen)}", err=True
        )
    if result.risky and not safe:
        cli_output.say(
            "export.note",
            f"note: {result.risky} cell(s) begin with = + - @, tab or CR, which a spreadsheet "
            "runs as a formula; export with --spreadsheet-safe for a file people will open",
            err=True,
        )


@click.command("import")
@click.argument("object_name", metavar="OBJECT")
@click.argument("csv_file", metavar="[FILE.csv]", required=False)
@click.option(
    "--operation",
    "mode",
    type=click.Choice(["insert", "update", "delete", "upsert"]),
    required=True,
    help="What each row does. upsert: update when the record exists, else insert.",
)
@click.option(
    "--map",
    "mappings",
    multiple=True,
    metavar="COLUMN=FIELD",
    help="Read COLUMN as FIELD (repeatable); COLUMN= (empty field) ignores the column.",
)
@click.option(
    "--from-table",
    metavar="TABLE",
    help="Read rows from this table of the target database instead of a CSV file.",
)
@click.option("--dry-run", is_flag=True, help="Validate every row and print what would be sent.")
@click.option(
    "--rejects",
    metavar="FILE.csv",
    help="Where failed rows go, with their error (default: beside the input, NAME.rejects.csv). "
    "Created only when a row fails; its folder must exist.",
)
@click.option(
    "--force",
    is_flag=True,
    help="With --from-table: send rows even when the target holds data from another source "
    "(e.g. a copy of the sandbox, imported into a real workspace).",
)
@settings_options(*_CONNECTION, "target_url", "rate_limit", "track_rate_limit")
@click.pass_context
def import_command(
    ctx: click.Context,
    /,
    object_name: str,
    csv_file: str | None,
    mode: str,
    mappings: tuple[str, ...],
    from_table: str | None,
    dry_run: bool,
    rejects: str | None,
    force: bool,
    **flags: object,
) -> None:
    """Import rows from FILE.csv (or --from-table) into OBJECT of Customer.io.

    Every row is validated before it is sent; failed rows go to the rejects file with
    their error. A rerun (same file) skips rows already done and never inserts twice.
    Exit code 4 when any row failed.
    """
    if (csv_file is None) == (from_table is None):
        raise UsageError("give either FILE.csv or --from-table TABLE")
    settings = load_cli_settings(ctx, flags)
    state = ctx.find_object(CliState)
    mapping = importer.parse_mapping(mappings)
    source_input = f"table {from_table}" if from_table is not None else csv_file
    announce(
        ctx,
        settings,
        target=from_table is not None,
        writes_source=True,
        extra=f"input: {source_input}",
    )
    if from_table is not None:
        guard_target(settings, force=force, writes=False)
        columns, renames = tables.table_columns(
            settings.target_url, from_table, schema=settings.target_schema
        )
        mapping = {**renames, **mapping}
        rows = tables.read_table(settings.target_url, from_table, schema=settings.target_schema)
        journal = Journal(None)
        rejects_path = Path(rejects or f"{from_table}.rejects.csv")
    else:
        assert csv_file is not None
        path = Path(csv_file)
        columns = read_header(path)
        rows = read_rows(path)
        journal = Journal(None if dry_run else importer.default_journal_path(path))
        rejects_path = Path(rejects) if rejects else default_rejects_path(path)
    job = importer.ImportJob(
        object_name,
        cast(Mode, mode),
        columns,
        mapping,
        dry_run=dry_run,
        strict_columns=from_table is None,
        verbose=bool(state and state.verbose),
    )
    importer.check_job(job)
    rejected = RejectsWriter(rejects_path, columns)  # a wrong path fails before any call
    with open_client(settings) as client, rejected:
        summary = importer.run_import(job, rows, client, rejected, journal, _import_line)
    if _json_output(ctx):
        cli_output.summary(**summary.as_dict())  # the closing summary object
    else:
        click.echo(summary.text())
    if rejected.stale and not summary.rejected:
        cli_output.say(
            "import.note",
            f"note: {rejects_path} is from an earlier run (this run rejected no row; "
            "the file was left as it was)",
            err=True,
        )
    if summary.rejected:
        raise PartialFailure(f"{summary.rejected} row(s) failed; see {rejects_path}")


@click.command("call", epilog="\b\n" + procedures.procedures_help())
@click.argument("statement")
@click.option(
    "--param",
    "params",
    multiple=True,
    metavar="NAME=VALUE",
    help="Value of a :NAME placeholder (repeatable); the value is taken as text.",
)
@click.option("--dry-run", is_flag=True, help="Validate and print the request, send nothing.")
@settings_options(*_CONNECTION, "transactional_rate_limit")
@click.pass_context
def call_command(
    ctx: click.Context, /, statement: str, params: tuple[str, ...], dry_run: bool, **flags: object
) -> None:
    """Run a procedure: call NAME(args), arguments as SQL literals or :Name placeholders.

    Arguments go in the order listed below (the connector's names and parameter
    lists); NULL leaves an optional one out. Prints the API's answer as JSON,
    e.g. {"delivery_id": ..., "queued_at": ...}.
    """
    request = procedures.prepare(statement, parse_params(params), system_clock())
    cli_output.data_output()  # the request (dry run) or the API's answer, as JSON
    if dry_run:
        click.echo(json.dumps(request.as_dict(), ensure_ascii=False))
        return
    settings = load_cli_settings(ctx, flags)
    announce(ctx, settings, target=False, writes_source=True)
    with open_client(settings) as client:
        answer = procedures.call(client, request)
    click.echo(json.dumps(answer if answer is not None else {}, ensure_ascii=False))


COMMANDS: list[click.Command] = [export_command, import_command, call_command]
