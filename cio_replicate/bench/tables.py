"""Raw results -> the report's tables and the goals verdict."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .apimin import GROUPS, OTHER, Counts, compare, minimum, minimum_unchanged, totals
from .proc import Params
from .report import (
    Goal,
    Table,
    fmt_int,
    fmt_mib,
    fmt_rate,
    fmt_ratio,
    fmt_s,
    median,
)
from .run import Options, Results

DB_TITLE = {"sqlite": "SQLite", "postgres": "PostgreSQL", "mysql": "MySQL"}
LOAD_GOAL = {"sqlite": 0.7, "postgres": 0.6, "mysql": 0.7}
RAW_NAME = {
    "sqlite": "executemany, 1 tx/batch",
    "postgres": "COPY, 1 tx/batch",
    "mysql": "multi-row executemany, 1 tx/batch",
}
BUDGET_GOAL = 9.5
API_SLACK = 1.05
MEMORY_CAP = 250.0
MEMORY_GROWTH = 1.2  # large/demo peak ratio still counted as "flat"


def _phase(run: Params | None, name: str) -> Params | None:
    for phase in (run or {}).get("phases", []):
        if phase["phase"] == name:
            return dict(phase)
    return None


# --- load path ---------------------------------------------------------------------


def load_table(res: Results) -> tuple[Table, list[Goal]]:
    rows: list[tuple[str, ...]] = []
    goals: list[Goal] = []
    batch = 1000
    for db, data in res.load.items():
        worst: float | None = None
        for workload, w in data["workloads"].items():
            batch = int(data.get("batch", batch))
            n = int(w["rows"])
            raw = median([r["raw_s"] for r in w["runs"]])
            mapping = median([r["map_s"] for r in w["runs"]])
            for i, path in enumerate(w["paths"]):
                mine = median([r[f"ours_{path}_s"] for r in w["runs"]])
                ratio = raw / mine
                if i == 0:
                    worst = ratio if worst is None else min(worst, ratio)
                label = f"{workload} ({w['op']}, {w['columns']} cols)"
                rows.append(
                    (
                        DB_TITLE[db],
                        label if i == 0 else f"{label}, path {path}",
                        fmt_int(n),
                        fmt_rate(n / mine),
                        fmt_rate(n / raw),
                        fmt_ratio(ratio),
                        fmt_rate(n / mapping),
                        fmt_ratio(raw / (mine + mapping)),
                    )
                )
        goal = LOAD_GOAL[db]
        goals.append(
            Goal(
                f"Load path ≥ {goal} of raw on {DB_TITLE[db]} ({RAW_NAME[db]})",
                f"{fmt_ratio(worst)} (lowest workload)",
                None if worst is None else worst >= goal,
            )
        )
    table = Table(
        "2. Load path: our loader vs the raw driver",
        (
            "Database",
            "Workload",
            "Rows",
            "Ours rows/s",
            "Raw rows/s",
            "Ours / raw",
            "Mapping rows/s",
            "Incl. mapping / raw",
        ),
        tuple(rows),
        (
            f"Same prepared rows, {batch:,} per transaction, into empty tables of the same shape; "
            "median of the repetitions. Ours = evolve + insert_missing/upsert (the loader's default "
            "bulk path; PostgreSQL also shows its alternative path); raw = COPY (PostgreSQL) or "
            "executemany (SQLite, MySQL) with a hand-written conversion of the JSON and timestamp "
            "columns. Mapping = `prepare()` (records to rows), which the engine also runs per page "
            "and the ratio excludes; the last column includes it.",
        ),
    )
    return table, goals


# --- end to end ----------------------------------------------------------------------


def e2e_table(res: Results, opts: Options) -> Table:
    dbs = [db for db in res.runs if _phase(res.runs[db], "full")]
    names: list[str] = []
    for db in dbs:
        for obj in _phase(res.runs[db], "full")["objects"]:  # type: ignore[index]
            if obj["name"] not in names:
                names.append(obj["name"])
    headers = ["Object", "Rows"] + [
        f"{DB_TITLE[db]} {unit}" for db in dbs for unit in ("s", "rows/s")
    ]
    rows: list[tuple[str, ...]] = []
    for name in names:
        cells = [name]
        count: int | None = None
        for db in dbs:
            obj = next(o for o in _phase(res.runs[db], "full")["objects"] if o["name"] == name)  # type: ignore[index]
            n = obj["inserted"] + obj["updated"]
            count = n if count is None else count
            seconds = obj["seconds"]
            cells += [fmt_s(seconds), fmt_rate(n / seconds if seconds else None)]
        rows.append((cells[0], fmt_int(count), *cells[1:]))
    total = ["**Total (wall)**", ""]
    for db in dbs:
        full = _phase(res.runs[db], "full")
        assert full is not None
        n = full["rows_written"]
        total[1] = fmt_int(n)
        wall = full["measure"]["wall_s"]
        total += [f"**{fmt_s(wall)}**", f"**{fmt_rate(n / wall)}**"]
    rows.append(tuple(total))
    notes = [
        f"Scale `{opts.scale}`, in-process sandbox (httpx MockTransport), rate limiter off, "
        "one child process per database; rows = inserted + updated."
    ]
    first = next(iter(res.runs.values()), {})
    if first.get("replay"):
        rp = first["replay"]
        notes.append(
            f"Serving cost: replaying the same {rp['requests']:,} requests to a fresh sandbox "
            f"with a bare httpx client (no engine, no database) took {fmt_s(rp['measure']['wall_s'])} s: "
            "that much of each wall time above is the simulator and the HTTP layer, not the tool."
        )
    return Table(f"1. End to end ({opts.scale})", tuple(headers), tuple(rows), tuple(notes))


# --- API efficiency ------------------------------------------------------------------------


def api_table(res: Results) -> tuple[Table, list[Goal]]:
    run = next((r for r in res.runs.values() if r.get("counts")), None)
    full = _phase(run, "full")
    if run is None or full is None:
        return Table("3. API efficiency", (), ()), [
            Goal("API calls within 5 % of the minimum", "–", None)
        ]
    counts = counts_from(run["counts"])
    least, least_again = minimum(counts), minimum_unchanged(counts)
    again = _phase(run, "again")
    again_tally: dict[str, int] = again["tally"] if again else {}
    rows: list[tuple[str, ...]] = []
    effs = compare(full["tally"], least)
    for e in effs:
        least_nc = least_again.get(e.group)
        rows.append(
            (
                e.group,
                e.objects,
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
        "No-change minimum: one call per time-filtered message listing (`start_ts`), everything "
        "else read in full again (the API has no 'changed since' filter for it).",
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
    headers = ("Group", "Objects", "Calls", "Minimum", "Ratio", "No-change calls", "No-change min")
    title = "3. API efficiency (full replication, then a no-change rerun)"
    return Table(title, headers, tuple(rows), tuple(notes)), goals


def counts_from(data: Params) -> Counts:
    """Counts back from their JSON form (tuples came back as lists)."""
    fields: dict[str, Any] = {k: tuple(v) if isinstance(v, list) else v for k, v in data.items()}
    return Counts(**fields)


# --- budget ------------------------------------------------------------------------------------


def budget_table(res: Results, opts: Options) -> tuple[Table, list[Goal]]:
    b = res.budget
    if not b:
        return Table("4. Budget use", (), ()), [Goal("≥ 9.5 requests/s, no 429", "–", None)]
    rows: list[tuple[str, ...]] = [
        (
            "**Whole run**",
            fmt_int(b["calls"]),
            fmt_s(b["span_s"]),
            f"**{b['achieved_rps']:.2f}**",
            fmt_int(b["throttled"]),
        )
    ]
    for o in b["objects"]:
        rate = o["api_calls"] / o["seconds"] if o["seconds"] else None
        rows.append(
            (
                o["name"],
                fmt_int(o["api_calls"]),
                fmt_s(o["seconds"]),
                fmt_ratio(rate),
                fmt_int(o["throttled"]),
            )
        )
    notes = (
        f"`cio-replicate` engine against `sandbox serve --scale {opts.budget_scale} --rate-limit 10 "
        "--latency 0.25` in its own process (loopback HTTP), client limiter at its default 10/s, "
        f"concurrency {b['concurrency']}. Requests/s = calls / (last response − first request); "
        f"retries {b['retries']}, limiter waits {b['limiter_wait_s']} s, retry waits {b['retry_wait_s']} s.",
    )
    ok = b["achieved_rps"] >= BUDGET_GOAL and b["throttled"] == 0
    goal = Goal(
        "≥ 9.5 requests/s under 10/s with 250 ms latency, no 429",
        f"{b['achieved_rps']:.2f} req/s, {b['throttled']} × 429",
        ok,
    )
    return Table(
        "4. Budget use (loopback, 10 req/s, 250 ms latency)",
        ("Object", "Calls", "Seconds", "Requests/s", "429s"),
        tuple(rows),
        notes,
    ), [goal]


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
        full = _phase(run, "full")
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
            large < MEMORY_CAP and flat,
        )
    notes = (
        "Peak RSS of the process, from wait4 (whole runs) or the kernel's high-water mark reset per run (in-process phases).",
    )
    return Table(
        "6. Peak resident memory", ("Run", "Scale", "Peak RSS", "Wall s"), tuple(rows), notes
    ), [goal]


def build(res: Results, opts: Options) -> tuple[list[Table], list[Goal]]:
    tables: list[Table] = []
    goals: list[Goal] = []
    if "e2e" in opts.only:
        tables.append(e2e_table(res, opts))
    parts: Sequence[tuple[str, Any]] = (
        ("load", lambda: load_table(res)),
        ("api", lambda: api_table(res)),
        ("budget", lambda: budget_table(res, opts)),
        ("incremental", lambda: incremental_table(res)),
        ("memory", lambda: memory_table(res, opts)),
    )
    for section, make in parts:
        if section in opts.only:
            table, more = make()
            tables.append(table)
            goals.extend(more)
    order = ["1.", "2.", "3.", "4.", "5.", "6."]
    tables.sort(key=lambda t: next((i for i, p in enumerate(order) if t.title.startswith(p)), 9))
    return tables, goals
