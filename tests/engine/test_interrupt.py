"""Interruption (SIGINT, SIGTERM, a stop request): quick, clean, and nothing lost.

The subprocess tests run ``cio-replicate replicate`` against a sandbox served on
loopback from this process, with latency on every request, and signal it once
it is well into the per-person children (or the default objects). The sandbox
notes when each request arrives, so the tests count the requests sent after
the signal: each thread making requests may have one on its way when the stop
is observed, none starts after. Then: the exit code, ``_cio_runs`` and
``_cio_run_objects`` say interrupted (no object left running, no "client has
been closed" anywhere), no lock is held, and a rerun ends exact.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

from cio_replicate import state
from cio_replicate.catalog import CATALOG
from cio_replicate.config import load_settings
from cio_replicate.connect import open_client
from cio_replicate.errors import Interrupted
from cio_replicate.http import RateLimiter
from cio_replicate.sandbox import Sandbox
from cio_replicate.sandbox.faults import Faults
from cio_replicate.sandbox.server import serve

from .conftest import Harness, subprocess_env
from .expected import DEFAULT_TABLES, TABLES, check_tables

CONCURRENCY = 2
"""Objects at once and requests per object: the client's pool holds 2 x 3 = 6 connections."""
IN_FLIGHT = CONCURRENCY * (CONCURRENCY + 1) + 1
"""Requests that may still arrive once the stop is observed: one per thread that makes
requests (per object running: its own and its fan-out's or streams'; plus the people
feed's consumer), each having passed its last stop check just before."""
LATENCY = 0.05
BATCH_SIZE = 100
"""Rows per batch: big enough that a run stopping only between batches (as it did)
sends dozens of requests after the signal, small enough that batches commit before."""
CLOSED = "client has been closed"
PER_PERSON = ("/segments", "/messages", "/activities")
UNDER_WAY = 30
"""Requests after which the default selection is under way (it sends about 100)."""


class Arrivals(Sandbox):
    """The sandbox, noting when each request arrives (before its latency)."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.arrived: list[tuple[float, str]] = []
        self._arrival_lock = threading.Lock()

    def handle(self, request: httpx.Request) -> httpx.Response:
        with self._arrival_lock:
            self.arrived.append((time.monotonic(), request.url.path))
        return super().handle(request)

    def after(self, moment: float) -> list[str]:
        with self._arrival_lock:
            return [path for at, path in self.arrived if at > moment]


@pytest.fixture(scope="module")
def slow() -> Iterator[tuple[Arrivals, str]]:
    sb = Arrivals("tiny", seed=1, faults=Faults(latency=LATENCY))
    server = serve(sb)
    yield sb, server.base_url
    server.shutdown()


def _per_person(path: str) -> bool:
    return path.startswith("/v1/customers/cio_") and path.endswith(PER_PERSON)


def _start(base_url: str, url: str, objects: Sequence[str]) -> subprocess.Popen[str]:
    env = subprocess_env(base_url, url, None)
    env["CIO_CONCURRENCY"] = str(CONCURRENCY)
    env["CIO_BATCH_SIZE"] = str(BATCH_SIZE)
    return subprocess.Popen(
        [sys.executable, "-m", "cio_replicate", "replicate", *objects],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _wait_until(proc: subprocess.Popen[str], sb: Arrivals, since: int, per_person: int) -> None:
    """Until the run sent ``per_person`` per-person requests (0: :data:`UNDER_WAY` requests)."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        seen = [path for _, path in sb.arrived[since:]]
        if per_person and sum(_per_person(p) for p in seen) >= per_person:
            return
        if not per_person and len(seen) >= UNDER_WAY:
            return
        if proc.poll() is not None:
            out, err = proc.communicate()
            pytest.fail(f"the run ended before the signal: {err[-2000:]}")
        time.sleep(0.01)
    pytest.fail("the run never got under way")


def _rows(url: str, query: str) -> list[tuple[object, ...]]:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return [tuple(r) for r in conn.execute(sa.text(query)).all()]
    finally:
        engine.dispose()


def _check_clean_stop(url: str, stderr: str) -> None:
    """The run and its objects say interrupted, nothing says 'client closed', no lock held."""
    assert CLOSED not in stderr and "Traceback" not in stderr, stderr[-3000:]
    runs = _rows(url, "SELECT status, error FROM _cio_runs")
    assert [r[0] for r in runs] == ["interrupted"], (runs, stderr[-3000:])
    objects = _rows(url, "SELECT object_name, status, message FROM _cio_run_objects")
    # objects not started have no row; those stopped part way say interrupted, not failed
    assert {str(r[1]) for r in objects} <= {"success", "interrupted"}, objects
    assert not [r for r in objects if CLOSED in str(r[2])], objects
    assert _rows(url, "SELECT object_name FROM _cio_locks") == []
    engine = sa.create_engine(url, poolclass=sa.NullPool)  # a connection per session lock
    held = []
    try:  # a second run can take every lock at once
        for spec in CATALOG:
            lock = state.try_lock(engine, spec.name, "second-run")
            assert lock is not None, f"{spec.name} is still locked"
            held.append(lock)
    finally:
        for lock in held:
            lock.release()
        engine.dispose()


def _interrupt(
    sb: Arrivals,
    base_url: str,
    url: str,
    sig: signal.Signals,
    objects: Sequence[str],
    *,
    per_person: int,
    twice: bool = False,
) -> tuple[int, list[str], str]:
    """Signal a run once it is under way: (exit code, requests started after, stderr).

    "After" counts from the moment this test read the run's "stopping" line (the
    signal observed; from the signal itself if there is none): the requests the
    run sent after, plus those it had on their way, each noted on arrival."""
    since = len(sb.arrived)
    proc = _start(base_url, url, objects)
    lines: list[tuple[float, str]] = []
    assert proc.stderr is not None and proc.stdout is not None
    stderr = proc.stderr

    def read_stderr() -> None:
        for line in stderr:
            lines.append((time.monotonic(), line))

    readers = [threading.Thread(target=read_stderr), threading.Thread(target=proc.stdout.read)]
    stopping = f"{sig.name}: stopping"
    try:
        for reader in readers:
            reader.start()
        _wait_until(proc, sb, since, per_person)
        signalled = time.monotonic()
        proc.send_signal(sig)
        deadline = time.monotonic() + 60  # bounds only against a hang
        while not any(ln.startswith(stopping) for _, ln in list(lines)) and proc.poll() is None:
            assert time.monotonic() < deadline, "the signal was never observed"
            time.sleep(0.005)
        if twice:
            proc.send_signal(sig)  # while it stops
        proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
        for reader in readers:
            reader.join()
        stderr.close()
        proc.stdout.close()
    observed = [at for at, ln in lines if ln.startswith(stopping)]
    return (
        proc.returncode,
        sb.after(observed[0] if observed else signalled),
        "".join(ln for _, ln in lines),
    )


def _rerun_is_exact(base_url: str, url: str, objects: Sequence[str], tables: list[str]) -> None:
    rerun = _start(base_url, url, objects)
    out, err = rerun.communicate(timeout=300)
    assert rerun.returncode == 0, err[-2000:]
    assert check_tables(url, Sandbox("tiny", seed=1).workspace, tables) == {}


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["sigint", "sigterm"])
def test_signal_during_replicate_all_stops_at_once_and_cleanly(
    slow: tuple[Arrivals, str], db_url: str, sig: signal.Signals
) -> None:
    sb, base_url = slow
    code, late, err = _interrupt(sb, base_url, db_url, sig, ["all"], per_person=8)
    assert code == 128 + sig, err[-3000:]
    assert len(late) <= IN_FLIGHT, (late, err[-3000:])
    assert f"{sig.name}: stopping" in err
    _check_clean_stop(db_url, err)
    kept = _rows(db_url, "SELECT SUM(rows_inserted + rows_updated) FROM _cio_run_objects")
    assert int(kept[0][0] or 0) > 0  # batches committed before the stop are kept...
    _rerun_is_exact(base_url, db_url, ["all"], list(TABLES))  # ...and the rerun ends exact


def test_sigint_during_the_default_selection(slow: tuple[Arrivals, str], sqlite_url: str) -> None:
    sb, base_url = slow
    code, late, err = _interrupt(sb, base_url, sqlite_url, signal.SIGINT, [], per_person=0)
    assert code == 130, err[-3000:]
    assert len(late) <= IN_FLIGHT, (late, err[-3000:])
    _check_clean_stop(sqlite_url, err)
    _rerun_is_exact(base_url, sqlite_url, [], DEFAULT_TABLES)


def test_a_second_sigint_while_stopping_changes_nothing(
    slow: tuple[Arrivals, str], sqlite_url: str
) -> None:
    sb, base_url = slow
    code, late, err = _interrupt(
        sb, base_url, sqlite_url, signal.SIGINT, ["all"], per_person=8, twice=True
    )
    assert code == 130, err[-3000:]
    assert len(late) <= IN_FLIGHT, (late, err[-3000:])
    _check_clean_stop(sqlite_url, err)
    _rerun_is_exact(base_url, sqlite_url, ["all"], list(TABLES))


# --- in-process: a stop request from the transport, at an exact request ------------------


def test_stop_request_mid_fan_out_in_process(harness: Harness) -> None:
    """The stop is set while the 10th per-person request is answered: at most the
    requests already on their way follow, every object ends success or interrupted,
    the locks are free, and the next run ends exact."""
    h = harness
    stop = threading.Event()
    seen: list[tuple[bool, str]] = []
    lock = threading.Lock()

    def answer(request: httpx.Request) -> httpx.Response:
        with lock:
            seen.append((stop.is_set(), request.url.path))
            if sum(_per_person(p) for _, p in seen) == 10:
                stop.set()
        return h.sandbox.handle(request)

    settings = load_settings(
        None,
        env={},
        flags={"rate_limit": 1e6, "allow_unsafe_rate_limit": True, "concurrency": CONCURRENCY},
    )
    client = open_client(
        settings,
        transport=httpx.MockTransport(answer),
        clock=h.sandbox.clock,
        sleep=lambda s: None,
        stop=stop,
    )
    h.client, h.workers = client, CONCURRENCY
    try:
        report = h.run(["all"])
    finally:
        client.close()
    after = [path for was_set, path in seen if was_set]
    assert len(after) <= IN_FLIGHT, after
    assert report.status == "interrupted"
    assert {r.status for r in report.results} <= {"success", "interrupted"}
    _check_clean_stop(h.url, "")

    rerun = open_client(settings, transport=h.sandbox.transport(), clock=h.sandbox.clock,
                        sleep=lambda s: None)  # fmt: skip
    h.client = rerun
    try:
        assert h.run(["all"]).status == "success"
    finally:
        rerun.close()
    assert check_tables(h.url, h.sandbox.workspace, list(TABLES)) == {}


def test_a_stopped_client_sends_nothing_and_retries_nothing() -> None:
    """A 429 answered after the stop is not retried (no backoff either); nothing starts after."""
    sb = Sandbox("tiny", seed=1)
    stop = threading.Event()
    paths: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        paths.append(request.url.path)
        stop.set()  # the stop comes while this request is on its way
        return httpx.Response(429, headers={"Retry-After": "30"}, json={"errors": []})

    settings = load_settings(None, env={}, flags={"source": "sandbox"})
    client = open_client(settings, transport=httpx.MockTransport(answer), clock=sb.clock,
                         sleep=lambda s: None, stop=stop)  # fmt: skip
    with client:
        with pytest.raises(Interrupted):
            client.app("GET", "/v1/campaigns")
        assert paths == ["/v1/campaigns"]
        with pytest.raises(Interrupted):
            list(client.fan_out(lambda i: client.app("GET", f"/v1/campaigns/{i}"), range(5)))
        assert paths == ["/v1/campaigns"]


def test_a_stop_ends_a_rate_limit_wait() -> None:
    """On the real clock: the next slot is an hour away, the stop ends the wait."""
    limiter = RateLimiter(1 / 3600)
    limiter.acquire()  # the first slot is now; the next one in an hour
    stop = threading.Event()
    returned: list[float] = []
    waiter = threading.Thread(target=lambda: returned.append(limiter.acquire(stop)), daemon=True)
    waiter.start()
    stop.set()
    waiter.join(timeout=60)  # a bound against a hang, not a timing
    assert returned and not waiter.is_alive()


def test_sigterm_stops_a_long_export_like_ctrl_c(
    slow: tuple[Arrivals, str], tmp_path: Path
) -> None:
    """Write commands: SIGTERM (what cron, systemd and Kubernetes send) acts as Ctrl-C."""
    sb, base_url = slow
    since = len(sb.arrived)
    env = subprocess_env(base_url, f"sqlite:///{tmp_path}/unused.db", None)
    out = tmp_path / "messages.csv"
    proc = subprocess.Popen(
        [sys.executable, "-m", "cio_replicate", "export", "Messages", "-o", str(out)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 120
        while sum(p == "/v1/messages" for _, p in sb.arrived[since:]) < 3:
            assert proc.poll() is None and time.monotonic() < deadline, "no export under way"
            time.sleep(0.01)
        signalled = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        _out, err = proc.communicate(timeout=60)  # bound only against a hang
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 143, err[-2000:]
    assert "Traceback" not in err and CLOSED not in err, err[-2000:]
    assert len(sb.after(signalled)) <= 1  # paged one request at a time
