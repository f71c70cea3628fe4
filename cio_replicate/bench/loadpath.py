"""Our loader against each driver's fastest raw path (child task ``load``).

The same records are loaded into empty tables of the same shape, in batches
of ``batch`` rows, one transaction per batch:

- ours: ``prepare`` + ``evolve`` + ``insert_missing`` (or ``upsert``), as the
  engine does per page, so mapping and type conversion are timed; on
  PostgreSQL once per bulk path the loader offers (COPY stage, executemany);
- raw: :func:`.raw.write_raw` on driver-ready tuples built beforehand (not
  timed) into a copy of the table ours created (same columns and key).

Repetitions alternate which side goes first; the parent takes the median.
Records come from the sandbox: messages as ``GET /v1/messages`` serves them,
people as the Customers extractor shapes them.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from typing import Any

import sqlalchemy as sa

from .. import migrate
from ..catalog import get_object
from ..extract.people import customer_record
from ..load import BulkPath, TableWriter, Target
from ..sandbox import Sandbox
from .proc import Params
from .raw import write_raw

Record = dict[str, Any]
Row = dict[str, Any]  # a prepared row: column name -> value
# workload -> (catalog object whose key and timestamps the table uses, write operation)
WORKLOADS: dict[str, tuple[str, str]] = {
    "messages": ("Messages", "insert_missing"),
    "people": ("Customers", "upsert"),
}


def records(sb: Sandbox, workload: str, n: int) -> list[Record]:
    ws = sb.workspace
    if workload == "messages":
        return [ws.messages.get(j) for j in range(min(n, ws.messages.total))]
    out: list[Record] = []
    for person in ws.iter_people():
        if len(out) >= n:
            break
        out.append(customer_record(ws.customer(person)))
    return out


def _batches(items: Sequence[Record], size: int) -> Iterator[Sequence[Record]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def _writer(target: Target, name: str, workload: str) -> TableWriter:
    spec = get_object(WORKLOADS[workload][0])
    return target.table(name, key=spec.key, timestamps=spec.timestamps, typed=spec.typed)


def prepare(
    target: Target, name: str, workload: str, data: Sequence[Record], batch: int
) -> tuple[TableWriter, list[list[Row]], float]:
    """Our mapper over every batch: (its writer, the rows, seconds spent mapping)."""
    t0 = time.perf_counter()
    table = _writer(target, name, workload)
    rows = [table.prepare(part) for part in _batches(data, batch)]
    return table, rows, time.perf_counter() - t0


def ours(
    target: Target,
    table: TableWriter,
    workload: str,
    batches: Sequence[Sequence[Row]],
    path: BulkPath,
) -> float:
    """Seconds to write prepared rows the way the engine does, one transaction per batch."""
    upsert = WORKLOADS[workload][1] == "upsert"
    t0 = time.perf_counter()
    for rows in batches:
        with target.begin() as conn:
            table.evolve(conn)
            if upsert:
                table.upsert(conn, rows, path=path)
            else:
                table.insert_missing(conn, rows, path=path)
    return time.perf_counter() - t0


def clone_table(engine: sa.Engine, source: str, name: str) -> list[str]:
    """Create an empty copy of ``source`` (columns, types, primary key); its column names."""
    reflected = sa.Table(source, sa.MetaData(), autoload_with=engine)
    meta = sa.MetaData()
    sa.Table(
        name,
        meta,
        *[
            sa.Column(c.name, c.type, primary_key=c.primary_key, nullable=c.nullable)
            for c in reflected.columns
        ],
    )
    meta.create_all(engine)
    return [c.name for c in reflected.columns]


def drop(engine: sa.Engine, *tables: str) -> None:
    quote = engine.dialect.identifier_preparer.quote
    with engine.begin() as conn:
        for name in tables:
            conn.exec_driver_sql(f"DROP TABLE IF EXISTS {quote(name)}")


def measure_workload(
    target: Target, workload: str, data: Sequence[Record], batch: int, repeat: int
) -> Params:
    engine = target.engine
    paths = target.dialect.bulk_paths
    template = f"b_{workload}_template"
    table, _, _ = prepare(target, template, workload, data, batch)
    with target.begin() as conn:
        table.evolve(conn)  # an empty table with every column the data needs: raw copies it
    runs: list[Params] = []
    for rep in range(repeat):
        run: Params = {}
        theirs = f"b_{workload}_raw_{rep}"
        columns = clone_table(engine, template, theirs)
        _, raw_rows, _ = prepare(target, template, workload, data, batch)
        if rep % 2:
            run["raw_rows"], run["raw_s"] = write_raw(engine, theirs, columns, raw_rows)
        del raw_rows
        for path in paths:
            mine = f"b_{workload}_{path}_{rep}"
            table, rows, run["map_s"] = prepare(target, mine, workload, data, batch)
            run[f"ours_{path}_s"] = ours(target, table, workload, rows, path)
            del rows
            drop(engine, mine)
        if not rep % 2:
            _, raw_rows, _ = prepare(target, template, workload, data, batch)
            run["raw_rows"], run["raw_s"] = write_raw(engine, theirs, columns, raw_rows)
            del raw_rows
        drop(engine, theirs)
        runs.append({k: round(v, 4) if isinstance(v, float) else v for k, v in run.items()})
    drop(engine, template)
    return {
        "rows": len(data),
        "op": WORKLOADS[workload][1],
        "columns": len(columns),
        "paths": list(paths),
        "runs": runs,
    }


def run_task(params: Params) -> Params:
    url = str(params["url"])
    n, batch = int(params["rows"]), int(params.get("batch", 1000))
    repeat = int(params.get("repeat", 3))
    sb = Sandbox(str(params.get("source_scale", "large")), int(params.get("seed", 1)))
    migrate.upgrade(url)
    target = Target(url)
    out: Params = {"dialect": target.dialect.name, "batch": batch, "workloads": {}}
    try:
        for workload in params.get("workloads", list(WORKLOADS)):
            data = records(sb, workload, n)
            out["workloads"][workload] = measure_workload(target, workload, data, batch, repeat)
            del data
    finally:
        target.dispose()
    return out
