"""``python -m cio_replicate.bench``: run the benchmark, print the tables, write BENCHMARKS.md."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import click

from ..config import SANDBOX_SCALES
from .machine import describe
from .report import Report, carried_notes
from .run import SECTIONS, Options, Results, run
from .scratch import DATABASES, MYSQL_URL, POSTGRES_URL, DbName
from .tables import build


def _csv(value: str, choices: tuple[str, ...], option: str) -> tuple[str, ...]:
    items = tuple(dict.fromkeys(v.strip() for v in value.split(",") if v.strip()))
    bad = [v for v in items if v not in choices]
    if bad or not items:
        raise click.BadParameter(
            f"choose from {', '.join(choices)} (got {value!r})", param_hint=option
        )
    return items


def _revision() -> str:
    """The checked-out commit, if this runs from a git checkout."""
    here = Path(__file__).resolve().parent
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=here, capture_output=True, text=True
        )
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=here,
            capture_output=True,
            text=True,
        )
    except OSError:
        return "unknown"
    if head.returncode != 0:
        return "unknown"
    return head.stdout.strip() + (" (with uncommitted changes)" if dirty.stdout.strip() else "")


def _load_average() -> str:
    try:
        return " / ".join(f"{v:.2f}" for v in os.getloadavg())
    except OSError:
        return "unknown"


def _gist(failure: str) -> str:
    lines = [line.strip() for line in failure.splitlines() if line.strip()]
    return lines[0] if len(lines) < 2 else f"{lines[0]} … {lines[-1]}"


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--scale",
    type=click.Choice(SANDBOX_SCALES),
    default="demo",
    show_default=True,
    help="Sandbox workspace replicated by the end-to-end, API and incremental runs.",
)
@click.option(
    "--databases",
    metavar=",".join(DATABASES),
    default=",".join(DATABASES),
    show_default=True,
    help="Targets (PostgreSQL: CIO_BENCH_POSTGRES_URL, MySQL: CIO_BENCH_MYSQL_URL).",
)
@click.option(
    "--only",
    metavar=",".join(SECTIONS),
    default=",".join(SECTIONS),
    show_default=True,
    help="Sections to measure.",
)
@click.option(
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path("BENCHMARKS.md"),
    show_default=True,
    help="Markdown file to write ('-': print only).",
)
@click.option(
    "--load-rows",
    type=click.IntRange(min=1),
    default=50_000,
    show_default=True,
    help="Rows per load-path workload.",
)
@click.option(
    "--repeat",
    type=click.IntRange(min=1),
    default=5,
    show_default=True,
    help="Load-path repetitions (the median is reported).",
)
@click.option(
    "--budget-scale",
    type=click.Choice(SANDBOX_SCALES),
    default="demo",
    show_default=True,
    help="Workspace replicated in the budget run (10 req/s: demo takes about a minute).",
)
@click.option(
    "--window-scale",
    type=click.Choice(SANDBOX_SCALES),
    default="large",
    show_default=True,
    help="Workspace whose delivery listings measure the metrics window's cost (large: ~10 s).",
)
@click.option(
    "--json",
    "json_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also write the raw results as JSON.",
)
def main(
    scale: str,
    databases: str,
    only: str,
    output: Path,
    load_rows: int,
    repeat: int,
    budget_scale: str,
    window_scale: str,
    json_path: Path | None,
) -> None:
    """Measure replication speed, API efficiency, budget use and memory; write BENCHMARKS.md."""
    chosen_dbs = _csv(databases, DATABASES, "--databases")
    chosen = _csv(only, SECTIONS, "--only")
    opts = Options(
        scale=scale,
        databases=tuple(db for db in DATABASES if db in chosen_dbs),
        only=frozenset(s for s in SECTIONS if s in chosen),
        load_rows=load_rows,
        repeat=repeat,
        budget_scale=budget_scale,
        window_scale=window_scale,
    )
    started = datetime.now(UTC)
    load_before = _load_average()
    revision = _revision()
    t0 = time.perf_counter()
    results: Results = run(opts)
    duration = time.perf_counter() - t0
    tables, goals = build(results, opts)
    dbs: tuple[DbName, ...] = opts.databases
    machine = describe(
        POSTGRES_URL if "postgres" in dbs else None, MYSQL_URL if "mysql" in dbs else None
    )
    remarks = [
        f"- Code: commit {revision}."
        if revision == _revision()
        else f"- Code: commit {revision} at the start, {_revision()} at the end.",
        f"- Load average (1/5/15 min) at start {load_before}, at end {_load_average()}.",
    ]
    remarks += [f"- Skipped {db}: {why}" for db, why in results.skipped.items()]
    remarks += [f"- FAILED {_gist(failure)}" for failure in results.failures]
    remarks += [
        "- Time per section: " + ", ".join(f"{k} {v:.0f} s" for k, v in results.seconds.items())
    ]
    argv = " ".join(shlex.quote(a) for a in sys.argv[1:])
    report = Report(
        command=f"python -m cio_replicate.bench {argv}".strip(),
        started=started.strftime("%Y-%m-%d %H:%M UTC"),
        duration_s=duration,
        scale=scale,
        machine=machine,
        tables=tuple(tables),
        goals=tuple(goals),
        remarks=tuple(remarks),
    )
    previous = output.read_text() if str(output) != "-" and output.exists() else ""
    text = report.markdown(carried_notes(previous))
    click.echo(text)
    if str(output) != "-":
        output.write_text(text)
        click.echo(f"wrote {output}", err=True)
    if json_path is not None:
        json_path.write_text(json.dumps(results.__dict__, indent=1, default=str))
    if results.failures:
        sys.exit(1)


if __name__ == "__main__":
    main()
