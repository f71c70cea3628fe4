"""What a run costs: API calls against the minimum, incremental reruns, memory."""

from __future__ import annotations

from typing import Any

from .apimin import GROUPS, OTHER, Counts, compare, minimum, minimum_unchanged, records, totals
from .proc import Params
from .report import Goal, Table, fmt_int, fmt_mib, fmt_ratio, fmt_s
from .run import Options, Results
from .window import describe

DB_TITLE = {"sqlite": "SQLite", "postgres": "PostgreSQL", "mysql": "MySQL"}
API_SLACK = 1.05
MEMORY_CAP_MIB = 250e6 / 2**20  # the goal's 250 MB, in MiB (238.4)
MEMORY_GROWTH = 2.0  # large/demo peak ratio counted as "flat": the data grows 333 times


def phase(run: Params | None, name: str) -> Params | None:
    for one in (run or {}).get("phases", []):
        if one["phase"] == name:
            return dict(one)
    return None


# --- API efficiency ------------------------------------------------------------------------


def api_table(res: Results) -> tuple[Table, list[Goal]]:
    run = next((r for r in res.runs.values() if r.get("counts")), None)
    full = phase(run, "full")
    if run is None or full is None:
        return Table("3. API efficiency", (), ()), [
            Goal("API calls within 5 % of the minimum", "–", None)
        ]
    counts = counts_from(run["counts"])
    least, least_again = minimum(counts), minimum_unchanged(counts)
    again = phase(run, "again")
    again_tally: dict[str, int] = again["tally"] if again else {}
    held = records(counts)
    loaded = {o["name"]: o["inserted"] + o["updated"] for o in full["objects"]}
    rows: list[tuple[str, ...]] = []
    effs = compare(full["tally"], least)
    for e in effs:
        least_nc = least_again.get(e.group)
        first_object = e.objects.split(",")[0].strip()
        rows.append(
            (
                e.group,
                e.objects,
                fmt_int(held.get(e.group)),
                fmt_int(loaded.get(first_object)) if first_object else "–",
                fmt_int(e.made),
                fmt_int(e.least),
                fmt_ratio(e.ratio),
                fmt_int(again_tally.get(e.group, 0)) if again else "–",
                fmt_int(least_nc) if again and least_nc is not None else "–",
            )
        )
    made, least_total = totals(effs)
    ratio = made / least_total if least_total else None
    again_made = sum(again_tally.values()) if again else None
    again_least = sum(v for k, v in least_again.items() if again_tally.get(k)) if again else None
    rows.append(
        (
            "**Total**",
            "(groups the run read)",
            "",
            "",
            f"**{fmt_int(made)}**",
            f"**{fmt_int(least_total)}**",
            f"**{fmt_ratio(ratio)}**",
            fmt_int(again_made),
            fmt_int(again_least),
        )
    )
    unread = [g.name for g in GROUPS if not full["tally"].get(g.name)]
    notes = [
        "Minimum = sum over list endpoints of ceil(records / documented max page) (at least 1), "
        "plus one call per parent where no bulk endpoint exists; people = ceil(P/1000) searches "
        "+ ceil(P/100) attribute batches. Counted from the sandbox's data and the API reference, "
        "not from our catalog; calls classified by the paths the sandbox saw.",
        "No-change minimum: one call per time-filtered message listing (`start_ts`) and one page "
        "of the newest-first activity log; everything else read in full again (the API has no "
        "'changed since' filter for it). Records held (counted in the sandbox) next to rows "
        "loaded (of the first object named) shows whether a read is complete.",
    ]
    if unread:
        notes.append("Not read by the run (excluded from the total): " + ", ".join(unread) + ".")
    if full["tally"].get(OTHER):
        notes.append(f"{full['tally'][OTHER]} calls matched no known endpoint.")
    goals = [
        Goal(
            "API calls within 5 % of the minimum (full replication)",
            f"{fmt_int(made)} calls / {fmt_int(least_total)} minimum = {fmt_ratio(ratio)}",
            None if ratio is None else ratio <= API_SLACK,
        )
    ]
    if again_made is not None and again_least:
        goals.append(
            Goal(
                "A no-change rerun spends calls only on what the API cannot filter",
                f"{fmt_int(again_made)} calls / {fmt_int(again_least)} minimum",
                again_made <= again_least * API_SLACK,
            )
        )
    headers = (
        "Group",
        "Objects",
        "Records held",
        "Rows loaded",
        "Calls",
        "Minimum",
        "Ratio",
        "No-change calls",
        "No-change min",
    )
    title = "3. API efficiency (full replication, then a no-change rerun)"
    return Table(title, headers, tuple(rows), tuple(notes)), goals


def counts_from(data: Params) -> Counts:
    """Counts back from their JSON form (tuples came back as lists)."""
    fields: dict[str, Any] = {k: tuple(v) if isinstance(v, list) else v for k, v in data.items()}
    return Counts(**fields)


# --- incremental ---------------------------------------------------------------------------------


def incremental_table(res: Results) -> tuple[Table, list[Goal]]:
    rows: list[tuple[str, ...]] = []
    verdict: bool | None = None
    measured: list[str] = []
    for db, run in res.runs.items():
        for phase in run.get("phases", []):
            label = {"full": "first run", "again": "no change", "day": "after one day"}[
                phase["phase"]
            ]
            m = phase["measure"]
            rows.append(
                (
                    DB_TITLE[db],
                    label,
                    fmt_s(m["wall_s"]),
                    fmt_int(phase["requests"]),
                    fmt_int(phase["rows_written"]),
                    fmt_mib(m["peak_rss_mib"]),
                    phase["status"],
                )
            )
            if phase["phase"] == "again":
                ok = phase["rows_written"] == 0
                verdict = ok if verdict is None else verdict and ok
                measured.append(f"{DB_TITLE[db]}: {phase['rows_written']} rows")
    day = next(
        (p for r in res.runs.values() for p in r.get("phases", []) if p["phase"] == "day"), None
    )
    notes = []
    if day:
        notes.append(
            "One day of mutations: "
            + ", ".join(f"{k.replace('_', ' ')} {v:,}" for k, v in day["changes"].items())
            + "."
        )
    notes += [describe(w) for w in res.window if describe(w)]
    goal = Goal("A no-change rerun writes no row", "; ".join(measured) or "–", verdict)
    return (
        Table(
            "5. Incremental runs",
            ("Database", "Run", "Wall s", "Calls", "Rows written", "Peak RSS (run)", "Status"),
            tuple(rows),
            tuple(notes),
        ),
        [goal],
    )


# --- memory ------------------------------------------------------------------------------------------


def memory_table(res: Results, opts: Options) -> tuple[Table, list[Goal]]:
    rows: list[tuple[str, ...]] = []
    for m in res.memory:
        rows.append(
            (
                "`cio-replicate replicate` → SQLite, sandbox served by its own process",
                m["scale"],
                fmt_mib(m["peak_rss_mib"]),
                fmt_s(m["wall_s"]),
            )
        )
    for db, run in res.runs.items():
        full = phase(run, "full")
        if full:
            m = full["measure"]
            rows.append(
                (
                    f"in-process run → {DB_TITLE[db]} (incl. the sandbox; {fmt_mib(m['base_rss_mib'])} before the run)",
                    opts.scale,
                    fmt_mib(m["peak_rss_mib"]),
                    fmt_s(m["wall_s"]),
                )
            )
    by_scale = {m["scale"]: m["peak_rss_mib"] for m in res.memory}
    large = by_scale.get("large")
    demo = by_scale.get("demo")
    if large is None:
        goal = Goal(
            "Peak memory < 250 MB on the large workspace, flat from demo",
            f"demo {fmt_mib(demo)}; large not run",
            None,
        )
    else:
        flat = demo is None or large <= demo * MEMORY_GROWTH
        goal = Goal(
            "Peak memory < 250 MB on the large workspace, flat from demo",
            f"demo {fmt_mib(demo)} → large {fmt_mib(large)}",
            large < MEMORY_CAP_MIB and flat,
        )
    notes = (
        "Peak RSS (VmHWM) of the measured process: the whole `cio-replicate` process, or the "
        "kernel's high-water mark reset before each in-process run. The goal's 250 MB is "
        f"{MEMORY_CAP_MIB:.1f} MiB; 'flat' means the large workspace (333 times the demo's people "
        f"and messages) peaks below {MEMORY_GROWTH:g} times the demo's peak.",
    )
    return Table(
        "6. Peak resident memory", ("Run", "Scale", "Peak RSS", "Wall s"), tuple(rows), notes
    ), [goal]
