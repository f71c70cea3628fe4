"""The command line: a thin click layer over the library.

Library errors become messages and exit codes here, and only here:
0 success, 1 unexpected error, 2 usage or configuration error,
3 authentication or authorization failure, 4 partial failure,
130 interrupted (143: by SIGTERM).
"""

from __future__ import annotations

import sys
import traceback

import click

from .. import __version__
from ..errors import EXIT_UNEXPECTED, EXIT_USAGE, CioReplicateError
from ..logs import redact, setup_logging
from .context import CliState
from .signals import Terminated, terminate_like_interrupt


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "-V", "--version", prog_name="cio-replicate")
@click.option("-v", "--verbose", count=True, help="More log output (-v info, -vv debug).")
@click.option(
    "--log-format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="Log lines (and the run summary) as text or as JSON lines.",
)
@click.option(
    "-c",
    "--config",
    "config_path",
    type=click.Path(dir_okay=False),
    envvar="CIO_CONFIG",
    help="TOML config file (env CIO_CONFIG).",
)
@click.pass_context
def cli(ctx: click.Context, verbose: int, log_format: str, config_path: str | None) -> None:
    """Copy a Customer.io workspace into PostgreSQL, MySQL or SQLite, and write back."""
    setup_logging(verbose, log_format)
    ctx.obj = CliState(verbose=verbose, log_format=log_format, config_path=config_path)


def _register() -> None:
    # Each command group lives in its own module and registers itself here.
    from . import admin, check, replicate, sandbox_cmd, writeback

    for module in (admin, check, replicate, sandbox_cmd, writeback):
        for command in module.COMMANDS:
            cli.add_command(command)


_register()


def main(argv: list[str] | None = None) -> int:
    """Console-script entry point: run the CLI and map errors to exit codes."""
    verbose = "-v" in (argv or sys.argv) or "--verbose" in (argv or sys.argv)
    try:
        with terminate_like_interrupt():
            cli.main(args=argv, prog_name="cio-replicate", standalone_mode=False)
    except click.exceptions.Abort as exc:
        click.echo("aborted", err=True)
        return 143 if isinstance(exc.__cause__, Terminated) else 130
    except click.exceptions.Exit as exc:
        return int(exc.exit_code)
    except click.ClickException as exc:
        exc.show()
        return EXIT_USAGE if exc.exit_code in (1, 2) else int(exc.exit_code)
    except CioReplicateError as exc:
        click.echo(f"error: {redact(str(exc))}", err=True)
        return exc.exit_code
    except KeyboardInterrupt as exc:
        click.echo("interrupted", err=True)
        return 143 if isinstance(exc, Terminated) else 130
    except Exception as exc:
        click.echo(f"unexpected error: {redact(type(exc).__name__ + ': ' + str(exc))}", err=True)
        if verbose:
            click.echo(redact(traceback.format_exc()), err=True)
        return EXIT_UNEXPECTED
    return 0


def run() -> None:
    sys.exit(main())
