"""``query``: SQL over Customer.io's objects, thin over cio_replicate.query."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO, cast

import click

from ..clock import system_clock
from ..config import Settings
from ..connect import open_client
from ..errors import UsageError
from ..writeback.outputs import Output, check_output, open_output
from . import output as cli_output
from .context import CliState, announce
from .options import load_cli_settings, settings_options

if TYPE_CHECKING:
    from .. import query

_CONNECTION = ("source", "region", "app_api_url", "track_api_url", "sandbox_scale", "sandbox_seed")
PROMPT = "cio> "


@click.command("query")
@click.argument("sql", required=False)
@click.option(
    "-f", "--file", "sql_file", metavar="FILE.sql", help="Read the statement from a file."
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "csv", "json", "jsonl"]),
    default="table",
    show_default=True,
    help="How the answer is printed.",
)
@click.option("-o", "--output", metavar="FILE", help="Write the answer to FILE instead of stdout.")
@click.option(
    "--explain",
    is_flag=True,
    help="Print the objects read, the filters pushed to the API, what is evaluated locally "
    "and the estimated API calls; run nothing.",
)
@click.option(
    "--max-calls",
    type=click.IntRange(min=1),
    default=1000,
    show_default=True,
    help="Refuse a statement estimated to make more API calls than this, and stop one "
    "that passes it while reading (exit 2).",
)
@click.option("--dry-run", is_flag=True, help="INSERT/UPDATE/DELETE/call: show what would be sent.")
@settings_options(*_CONNECTION, "rate_limit", "track_rate_limit", "transactional_rate_limit")
@click.pass_context
def query_command(
    ctx: click.Context,
    /,
    sql: str | None,
    sql_file: str | None,
    fmt: str,
    output: str | None,
    explain: bool,
    max_calls: int,
    dry_run: bool,
    **flags: object,
) -> None:
    """Run SQL over the objects of Customer.io (the names of `objects`, any case).

    SELECT (joins, aggregates, ORDER BY, LIMIT) fetches each object through the API,
    pushing every WHERE condition the API can apply, and evaluates the rest in an
    in-memory SQLite database. INSERT, UPDATE and DELETE write through the import
    path; call NAME(...) runs a procedure. Without SQL on a terminal: a prompt.
    """
    from .. import query

    statements = _statements(sql, sql_file)
    target = check_output(output) if output is not None else None  # before any call
    shown = cast("query.Format", fmt)
    settings = load_cli_settings(ctx, flags)
    state = ctx.find_object(CliState)
    verbose = bool(state and state.verbose)
    options = query.Options(
        now=int(system_clock()),
        max_calls=max_calls,
        explain=explain,
        dry_run=dry_run,
        verbose=verbose,
    )
    if statements is None:
        _interactive(ctx, settings, options, shown)
        return
    prepared = query.prepare(statements)  # a bad statement costs no call
    writes = prepared.kind in ("insert", "update", "delete", "call") and not dry_run
    announce(ctx, settings, target=False, writes_source=writes)
    with open_client(settings) as client:
        result = query.execute(prepared, client, options, _say)
    _show(result, shown, target)


def _statements(sql: str | None, sql_file: str | None) -> str | None:
    if sql is not None and sql_file is not None:
        raise UsageError("give the SQL either as an argument or with -f FILE.sql, not both")
    if sql_file is not None:
        try:
            return Path(sql_file).read_text(encoding="utf-8")
        except OSError as exc:
            raise UsageError(f"cannot read {sql_file}: {exc.strerror}") from None
    if sql is not None:
        return sql
    if sys.stdin.isatty():
        return None
    return sys.stdin.read()


def _say(text: str) -> None:
    cli_output.say("query.row", text, err=True)


def _stdout() -> BinaryIO:
    return sys.stdout.buffer


def _show(result: query.Result, fmt: query.Format, target: Output | None) -> None:
    """The answer as data on stdout (or in ``-o FILE``); figures in the closing summary."""
    from .. import query as q

    if result.explain or result.request is not None:
        cli_output.data_output()
    for line in result.explain:
        click.echo(line)
    if result.request is not None:
        click.echo(json.dumps(result.request, ensure_ascii=False))
    if result.dml is not None:
        if cli_output.json_mode():
            cli_output.summary(**result.dml.as_dict())
        else:
            click.echo(result.dml.text())
    answer = result.answer
    if answer is None:
        return
    cli_output.summary(rows=len(answer.rows), columns=len(answer.columns))
    if target is None:
        cli_output.data_output()
        q.write(sys.stdout, answer, fmt, terminal=sys.stdout.isatty())
        return
    if target.kind != "atomic":
        cli_output.data_output()
    with open_output(target, _stdout) as handle:
        q.write(handle, answer, fmt)
    if target.kind == "atomic":
        click.echo(f"{len(answer.rows)} row(s) -> {target.path}", err=True)


def _interactive(
    ctx: click.Context, settings: Settings, options: query.Options, fmt: query.Format
) -> None:
    """A prompt: one statement per line (end a line with \\ to continue it); empty quits."""
    from .. import query as q
    from ..errors import CioReplicateError

    announce(ctx, settings, target=False, writes_source=True)
    click.echo("SQL over Customer.io; an empty line or Ctrl-D quits.", err=True)
    with open_client(settings) as client:
        while True:
            try:
                text = click.prompt(PROMPT, default="", show_default=False, prompt_suffix="")
            except (EOFError, click.exceptions.Abort):
                return
            while text.endswith("\\"):
                text = text[:-1] + "\n" + click.prompt("...> ", default="", prompt_suffix="")
            if not text.strip():
                return
            try:
                prepared = q.prepare(text)
                _show(q.execute(prepared, client, options, _say), fmt, None)
            except CioReplicateError as exc:
                click.echo(f"error: {exc}", err=True)


COMMANDS: list[click.Command] = [query_command]
