"""Raw results -> the report's tables and the goals verdict (speeds here, costs in .costs)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .costs import DB_TITLE, api_table, incremental_table, memory_table, phase
from .report import (
    Goal,
    Table,
    fmt_int,
    fmt_rate,
    fmt_ratio,
    fmt_s,
    median,
)
from .run import Options, Results

LOAD_GOAL = {"sqlite": 0.7, "postgres": 0.6, "mysql": 0.7}
RAW_NAME = {
    "sqlite": "executemany, 1 tx/batch",
    "postgres": "COPY, 1 tx/batch",
    "mysql": "multi-row executemany, 1 tx/batch",
}
BUDGET_GOAL = 9.5


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
                # each repetition's ours and raw ran back to back: compare them pairwise
                ratio = median([r["raw_s"] / r[f"ours_{path}_s"] for r in w["runs"]])
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
            "medians of the repetitions (the ratio: of each repetition's back-to-back pair). Ours = evolve + insert_missing/upsert (the loader's default "
            "bulk path; PostgreSQL also shows its alternative path); raw = COPY (PostgreSQL) or "
            "executemany (SQLite, MySQL) with a hand-written conversion of the JSON and timestamp "
            "columns. Mapping = `prepare()` (records to rows), which the engine also runs per page "
            "and the ratio excludes; the last column includes it.",
        ),
    )
    return table, goals


# --- end to end ----------------------------------------------------------------------


def e2e_table(res: Results, opts: Options) -> Table:
    dbs = [db for db in res.runs if phase(res.runs[db], "full")]
    names: list[str] = []
    for db in dbs:
        for obj in phase(res.runs[db], "full")["objects"]:  # type: ignore[index]
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
            obj = next(o for o in phase(res.runs[db], "full")["objects"] if o["name"] == name)  # type: ignore[index]
            n = obj["inserted"] + obj["updated"]
            count = n if count is None else count
            seconds = obj["seconds"]
            cells += [fmt_s(seconds), fmt_rate(n / seconds if seconds else None)]
        rows.append((cells[0], fmt_int(count), *cells[1:]))
    total = ["**Total (wall)**", ""]
    for db in dbs:
        full = phase(res.runs[db], "full")
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
        f"concurrency {b['concurrency']}. Requests/s = (calls − 1) / (last request sent − first "
        "sent), the rate the server's budget counts; over the whole span, last answer included: "
        f"{b.get('overall_rps', 0):.2f}; "
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
