"""Objects replicated side by side: the budget is used, the data and the counts stay exact.

The sandbox is reached through a transport that holds each request a few
milliseconds and notes which objects (the first path segment after ``/v1/``)
had requests open at the same moment.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator

import httpx
import pytest
import sqlalchemy as sa

from cio_replicate import state
from cio_replicate.config import load_settings
from cio_replicate.connect import open_client
from cio_replicate.load import Target
from cio_replicate.sandbox import Sandbox

from .conftest import Harness
from .expected import DEFAULT_TABLES, check_tables


class Overlap(httpx.BaseTransport):
    """The sandbox's transport, holding each request ``hold`` seconds, noting overlaps."""

    def __init__(self, sb: Sandbox, hold: float = 0.02) -> None:
        self.inner = sb.transport()
        self.hold = hold
        self.lock = threading.Lock()
        self.open: dict[int, str] = {}
        self.most_families = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        parts = request.url.path.split("/")
        family = parts[2] if len(parts) > 2 else ""
        me = threading.get_ident()
        with self.lock:
            self.open[me] = family
            self.most_families = max(self.most_families, len(set(self.open.values())))
        try:
            time.sleep(self.hold)
            return self.inner.handle_request(request)
        finally:
            with self.lock:
                del self.open[me]


@pytest.fixture
def overlapping(sqlite_url: str) -> Iterator[tuple[Harness, Overlap]]:
    sb = Sandbox("tiny", seed=1)
    transport = Overlap(sb)
    flags = {"rate_limit": 1e6, "allow_unsafe_rate_limit": True, "concurrency": 4}
    client = open_client(
        load_settings(None, env={}, flags=flags),
        transport=transport,
        clock=sb.clock,
        sleep=lambda s: None,
    )
    target = Target(sqlite_url, clock=sb.clock)
    yield Harness(sb, sqlite_url, client, target), transport
    client.close()
    target.dispose()


def test_objects_run_side_by_side_and_load_exactly(
    overlapping: tuple[Harness, Overlap],
) -> None:
    harness, transport = overlapping
    report = harness.run()
    assert report.status == "success", report.failed
    # one object at a time never has requests of several objects open at once
    assert transport.most_families >= 2
    assert check_tables(harness.url, harness.sandbox.workspace, DEFAULT_TABLES) == {}


def test_per_object_calls_add_up_to_the_run_and_to_what_the_sandbox_saw(
    overlapping: tuple[Harness, Overlap],
) -> None:
    harness, _transport = overlapping
    report = harness.run()
    assert report.status == "success", report.failed
    per_object = sum(r.api_calls for r in report.results)
    seen = len(harness.sandbox.requests)
    assert per_object == seen
    engine = sa.create_engine(harness.url)
    with engine.connect() as conn:
        stored = state.last_object_runs(conn)
        run_calls = conn.execute(sa.text("SELECT api_calls FROM _cio_runs")).scalar_one()
    engine.dispose()
    assert run_calls == seen
    assert {name: r.api_calls for name, r in stored.items()} == {
        r.name: r.api_calls for r in report.results
    }


def _people_calls(sb: Sandbox) -> tuple[int, int]:
    searches = sum(1 for r in sb.requests if r.method == "POST" and r.path == "/v1/customers")
    fetches = sum(1 for r in sb.requests if r.path == "/v1/customers/attributes")
    return searches, fetches


def test_people_are_read_once_for_customers_and_their_attributes(harness: Harness) -> None:
    people = len(list(harness.sandbox.workspace.iter_people()))
    harness.batch_size = 10  # several attribute calls, several hand-overs
    report = harness.run(["Customers", "CustomersAttributes"])
    assert report.status == "success", report.failed
    searches, fetches = _people_calls(harness.sandbox)
    assert (searches, fetches) == (1, -(-people // 10))
    assert check_tables(harness.url, harness.sandbox.workspace, ["customers"]) == {}
    assert check_tables(harness.url, harness.sandbox.workspace, ["customers_attributes"]) == {}
    by_name = {r.name: r for r in report.results}
    assert by_name["CustomersAttributes"].api_calls == searches + fetches
    assert by_name["Customers"].api_calls == 0
    assert by_name["Customers"].inserted == people


def test_customers_read_people_alone_when_the_shared_pass_is_skipped(harness: Harness) -> None:
    """CustomersAttributes held by another run: Customers searches on its own."""
    people = len(list(harness.sandbox.workspace.iter_people()))
    harness.run(["Segments"])  # creates the state tables
    held = state.try_lock(harness.target.engine, "CustomersAttributes", "other-run")
    assert held is not None
    try:
        report = harness.run(["Customers", "CustomersAttributes"])
    finally:
        held.release()
    by_name = {r.name: r for r in report.results}
    assert by_name["CustomersAttributes"].status == "skipped"
    assert by_name["Customers"].status == "success"
    assert by_name["Customers"].inserted == people
    assert check_tables(harness.url, harness.sandbox.workspace, ["customers"]) == {}


def test_the_costliest_object_of_the_last_run_starts_first(harness: Harness) -> None:
    harness.workers = 1
    first = harness.run()
    costliest = max(first.results, key=lambda r: r.api_calls)
    engine = sa.create_engine(harness.url)
    with engine.connect() as conn:
        calls = {n: r.api_calls for n, r in state.last_object_runs(conn).items()}
    engine.dispose()
    assert calls[costliest.name] == costliest.api_calls
    second = harness.run()
    assert second.status == "success"
    assert harness.progress is not None
    finished = re.findall(r"^(\w+): (?:success|failed|skipped)", harness.progress.getvalue(), re.M)
    assert finished[0] == costliest.name, finished  # with one worker: the order they ran in
    assert finished[0] != second.results[0].name  # not the selection order
