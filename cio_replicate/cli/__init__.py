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
import sqlalchemy as sa

from .. import __version__
from ..errors import EXIT_UNEXPECTED, EXIT_USAGE, CioReplicateError
from ..load.dberrors import describe
from ..logs import redact, setup_logging
from . import output
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
    output.set_command(ctx.invoked_subcommand)
    ctx.obj = CliState(verbose=verbose, log_format=log_format, config_path=config_path)


def _register() -> None:
    # Each command group lives in its own module and registers itself here.
    from . import admin, check, listen_cmd, query, replicate, sandbox_cmd, sync_cmd, writeback

    for module in (admin, check, replicate, listen_cmd, sandbox_cmd, sync_cmd, writeback, query):
        for command in module.COMMANDS:
            cli.add_command(command)


_register()


def main(argv: list[str] | None = None) -> int:
    """Console-script entry point: run the CLI and map errors to exit codes.

    With ``--log-format json`` every exit path ends with one summary object
    holding the exit code (:mod:`.output`).
    """
    args = list(sys.argv[1:] if argv is None else argv)
    output.begin(args)
    code = _main(args)
    output.finish(code)
    return code


def _main(args: list[str]) -> int:
    verbose = "-v" in args or "--verbose" in args
    try:
        # click's main() without its handlers: they print a bare newline on Ctrl-C
        with terminate_like_interrupt(), cli.make_context("cio-replicate", args) as ctx:
            cli.invoke(ctx)
    except click.exceptions.Abort as exc:
        code = 143 if isinstance(exc.__cause__, Terminated) else 130
        output.error("aborted", code, text="aborted")
        return code
    except click.exceptions.Exit as exc:
        output.data_output()  # --help, --version: printed on stdout
        return int(exc.exit_code)
    except click.ClickException as exc:
        code = EXIT_USAGE if exc.exit_code in (1, 2) else int(exc.exit_code)
        if output.json_mode():
            output.error(exc.format_message(), code, event="usage_error")
        else:
            exc.show()
        return code
    except CioReplicateError as exc:
        output.error(str(exc), exc.exit_code)
        return exc.exit_code
    except KeyboardInterrupt as exc:
        code = 143 if isinstance(exc, Terminated) else 130
        # on a terminal, end the line the ^C echo is on
        newline = "\n" if sys.stderr.isatty() else ""
        output.error("interrupted", code, text=newline + "interrupted")
        return code
    except sa.exc.DBAPIError as exc:  # one line, no SQL and no parameters unless -vv
        trace = traceback.format_exc() if _verbosity(args) >= 2 else None
        output.error(describe(exc), EXIT_UNEXPECTED, traceback=trace)
        if trace and not output.json_mode():
            click.echo(redact(trace), err=True)
        return EXIT_UNEXPECTED
    except Exception as exc:
        message = type(exc).__name__ + ": " + str(exc)
        trace = traceback.format_exc() if verbose else None
        output.error(message, EXIT_UNEXPECTED, text=f"unexpected error: {message}", traceback=trace)
        if trace and not output.json_mode():
            click.echo(redact(trace), err=True)
        return EXIT_UNEXPECTED
    return 0


def _verbosity(argv: list[str]) -> int:
    """How many -v the global options hold (-v, -vv, --verbose), before the command."""
    count = 0
    for arg in argv:
        if arg == "--verbose":
            count += 1
        elif arg.startswith("-") and not arg.startswith("--") and set(arg[1:]) == {"v"}:
            count += len(arg) - 1
        elif not arg.startswith("-"):
            break
    return count


def run() -> None:
    sys.exit(main())
