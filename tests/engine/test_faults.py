"""Trouble on the wire: 5xx answers, truncated bodies and 429 bursts end in an exact copy;
one forbidden object (403) fails alone and the run exits with 4."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx

from cio_replicate.load import Target
from cio_replicate.sandbox import Faults, Sandbox
from cio_replicate.sandbox.router import app_error_body
from cio_replicate.sandbox.server import serve

from .conftest import Harness, client_for, replicate_subprocess
from .expected import DEFAULT_TABLES, TABLES, check_tables

FORBIDDEN = "/v1/exports"


def test_faults_end_in_an_exact_copy(db_url: str) -> None:
    # Dense enough that every kind of fault happens, sparse enough that no request meets
    # ten in a row (which one does depends on thread scheduling: flaky at 0.15 + 0.1).
    faults = Faults(error_rate=0.1, truncate_rate=0.05, burst_429_every=9, seed=7)
    sb = Sandbox("tiny", seed=1, faults=faults)
    client = client_for(sb, max_retry_wait=86_400)
    target = Target(db_url, clock=sb.clock)
    try:
        report = Harness(sb, db_url, client, target, batch_size=7).run(["all"])
    finally:
        client.close()
        target.dispose()
    statuses = [r.status for r in sb.requests]
    assert 429 in statuses and any(s >= 500 for s in statuses)  # the faults did happen
    assert sum(r.throttled for r in report.results) > 0
    assert report.status == "success", [(r.name, r.message) for r in report.failed]
    assert check_tables(db_url, sb.workspace, TABLES) == {}


class ScopedSandbox(Sandbox):
    """The sandbox, with an App API key whose scope leaves out one path (403)."""

    def handle(self, request: httpx.Request) -> httpx.Response:
        if request.url.path.startswith(FORBIDDEN):
            body: Any = app_error_body(403, "Forbidden: the key's scope does not allow this")
            return httpx.Response(403, json=body, request=request)
        return super().handle(request)


def test_forbidden_object_fails_alone_with_exit_code_4(db_url: str, tmp_path: Path) -> None:
    sb = ScopedSandbox("tiny", seed=1)
    server = serve(sb)
    try:
        run = replicate_subprocess(server.base_url, db_url)
    finally:
        server.shutdown()
    assert run.returncode == 4, run.stderr[-2000:]
    assert "Exports" in run.stderr and "403" in run.stderr
    lines = {ln.split()[0]: ln.split() for ln in run.stdout.splitlines() if ln.split()}
    assert lines["Exports"][2] == "failed"
    others = [t for t in DEFAULT_TABLES if t != "exports"]
    assert check_tables(db_url, sb.workspace, others) == {}
    target = Target(db_url)
    try:
        with target.connect() as conn:
            import sqlalchemy as sa

            state = conn.execute(
                sa.text("SELECT watermark FROM _cio_state WHERE object_name = 'Exports'")
            ).first()
            status = conn.execute(
                sa.text(
                    "SELECT status, message FROM _cio_run_objects WHERE object_name = 'Exports'"
                )
            ).one()
    finally:
        target.dispose()
    assert state is None or state[0] is None  # its watermark stays put
    assert status[0] == "failed" and "403" in status[1]


class ClosedSandbox(Sandbox):
    """Every App API path is out of the key's scope (403)."""

    def handle(self, request: httpx.Request) -> httpx.Response:
        if request.url.path.startswith("/v1/"):
            body: Any = app_error_body(403, "Forbidden: the key's scope does not allow this")
            return httpx.Response(403, json=body, request=request)
        return super().handle(request)


def test_a_run_where_every_object_failed_exits_1_not_4(sqlite_url: str) -> None:
    sb = ClosedSandbox("tiny", seed=1)
    server = serve(sb)
    try:
        run = replicate_subprocess(server.base_url, sqlite_url, objects=("Campaigns", "Segments"))
    finally:
        server.shutdown()
    assert run.returncode == 1, run.stderr[-2000:]
    assert "every object failed" in run.stderr and "403" in run.stderr
