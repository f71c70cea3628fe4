"""``python -m cio_replicate.bench.listen``: signed events from concurrent senders into
``cio-replicate listen`` receivers (subprocesses) on one database; prints events/s.

    python -m cio_replicate.bench.listen --db postgres --events 10000 --senders 20

Each event is posted until it is answered 200 (as Customer.io retries), over keep-alive
connections, spread over the receivers; the table's rows are counted at the end.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

import click
import sqlalchemy as sa

from .scratch import DATABASES, DbName, reachable, scratch

KEY = "bench-signing-key"
METRICS = ("delivered", "opened", "clicked", "converted")


@dataclass
class Receiver:
    process: subprocess.Popen[bytes]
    port: int
    log: str


@dataclass
class Sent:
    """What the senders saw: the event ids answered 200, other answers, seconds taken."""

    ok: set[str] = field(default_factory=set)
    posts: int = 0
    retried: int = 0
    seconds: float = 0.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _healthy(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2) as sock:
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
            return sock.recv(64).startswith(b"HTTP/1.1 200")
    except OSError:
        return False


@contextlib.contextmanager
def receivers(
    url: str, count: int, *, key: str = KEY, logdir: str | None = None
) -> Iterator[list[Receiver]]:
    """``count`` receiver processes on ``url``, each healthy before this yields."""
    started: list[Receiver] = []
    logdir = logdir or tempfile.mkdtemp(prefix="cio-listen-bench-")
    env = {k: v for k, v in os.environ.items() if not k.startswith("CIO_")}
    env.update(CIO_TARGET_URL=url, CIO_WEBHOOK_SIGNING_KEY=key)
    try:
        for n in range(count):
            port = free_port()
            log = os.path.join(logdir, f"listen-{n}.log")
            with open(log, "wb") as out:
                cmd = [sys.executable, "-m", "cio_replicate", "--log-format", "json", "listen"]
                process = subprocess.Popen(
                    [*cmd, "--port", str(port)], env=env, stdout=out, stderr=subprocess.STDOUT
                )
            started.append(Receiver(process, port, log))
        for receiver in started:
            deadline = time.monotonic() + 60
            while not _healthy(receiver.port):
                if receiver.process.poll() is not None or time.monotonic() > deadline:
                    with open(receiver.log) as out:
                        raise RuntimeError(f"the receiver did not start:\n{out.read()[-2000:]}")
                time.sleep(0.1)
        yield started
    finally:
        for receiver in started:
            if receiver.process.poll() is None:
                receiver.process.terminate()
        for receiver in started:
            try:
                receiver.process.wait(15)
            except subprocess.TimeoutExpired:
                receiver.process.kill()


def make_events(
    count: int, deliveries: Sequence[str], *, start: int = 1_700_000_000
) -> list[bytes]:
    """``count`` distinct events over ``deliveries`` (or made-up delivery ids)."""
    out = []
    for i in range(count):
        delivery = deliveries[i % len(deliveries)] if deliveries else f"bench-{i % 997}"
        payload = {
            "event_id": f"01BENCH{i:012d}",
            "object_type": "email",
            "metric": METRICS[i % len(METRICS)],
            "timestamp": start + (i * 7919) % 100_000,
            "data": {
                "delivery_id": delivery,
                "identifiers": {"id": f"person-{i % 300}", "email": None, "cio_id": f"c{i % 300}"},
                "campaign_id": 1 + i % 5,
                "action_id": 10 + i % 5,
            },
        }
        out.append(json.dumps(payload).encode())
    return out


class _Conn:
    """A minimal HTTP/1.1 keep-alive client (the sender's CPU is not what is measured)."""

    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=30)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buffer = b""

    def post(self, request: bytes) -> int:
        self.sock.sendall(request)
        while b"\r\n\r\n" not in self.buffer:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionResetError("closed")
            self.buffer += chunk
        head, _, rest = self.buffer.partition(b"\r\n\r\n")
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        while len(rest) < length:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionResetError("closed")
            rest += chunk
        self.buffer = rest[length:]
        return int(head.split(b" ", 2)[1])

    def close(self) -> None:
        self.sock.close()


def signed_request(body: bytes, key: str = KEY, stamp: int | None = None) -> bytes:
    """The whole POST /reporting request, signed as Customer.io signs it."""
    at = str(int(time.time()) if stamp is None else stamp)
    signature = hmac.new(key.encode(), f"v0:{at}:".encode() + body, hashlib.sha256).hexdigest()
    head = (
        f"POST /reporting HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\nX-CIO-Timestamp: {at}\r\n"
        f"X-CIO-Signature: {signature}\r\n\r\n"
    )
    return head.encode() + body


def send(
    ports: Sequence[int],
    bodies: Sequence[bytes],
    *,
    senders: int = 20,
    key: str = KEY,
    stop_when_refused: bool = False,
    stopped: threading.Event | None = None,
) -> Sent:
    """Post every body until answered 200 (signed before the clock starts: a run must end
    within the 5 minutes a signature lasts); ``stop_when_refused``: a sender ends once its
    receivers refuse connections (they were stopped)."""
    result = Sent()
    lock = threading.Lock()
    stopped = stopped or threading.Event()
    requests = [(json.loads(body)["event_id"], signed_request(body, key)) for body in bodies]

    def worker(index: int) -> None:
        conns: dict[int, _Conn] = {}
        try:
            for k, (event_id, request) in enumerate(requests[index::senders]):
                if not deliver(index + k, event_id, request, conns):
                    return
        finally:
            for conn in conns.values():
                conn.close()

    def deliver(slot: int, event_id: str, request: bytes, conns: dict[int, _Conn]) -> bool:
        """Post until 200; False: stop sending (stopped, or refused with stop_when_refused)."""
        attempt = 0
        while not stopped.is_set():
            port = ports[(slot + attempt) % len(ports)]
            try:
                conn = conns.get(port) or _Conn(port)
                conns[port] = conn
                status = conn.post(request)
            except OSError:
                dropped = conns.pop(port, None)
                if dropped is not None:
                    dropped.close()
                status = 0
            with lock:
                result.posts += 1
                if status == 200:
                    result.ok.add(event_id)
                else:
                    result.retried += 1
            if status == 200:
                return True
            if 400 <= status < 500:
                raise RuntimeError(f"event {event_id} refused with {status}")
            if status == 0 and stop_when_refused:
                stopped.set()
                return False
            attempt += 1
            time.sleep(min(0.05 * attempt, 1.0))
        return False

    threads = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(senders)]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    result.seconds = time.perf_counter() - began
    return result


def stored(url: str) -> tuple[int, int]:
    """(rows, distinct event ids) in reporting_events."""
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            query = sa.text("SELECT COUNT(*), COUNT(DISTINCT event_id) FROM reporting_events")
            rows, distinct = conn.execute(query).one()
        return int(rows), int(distinct)
    finally:
        engine.dispose()


@click.command()
@click.option("--db", type=click.Choice(DATABASES), default="postgres", show_default=True)
@click.option("--events", type=click.IntRange(1), default=10_000, show_default=True)
@click.option("--senders", type=click.IntRange(1), default=20, show_default=True)
@click.option("--receivers", "count", type=click.IntRange(1), default=1, show_default=True)
def main(db: DbName, events: int, senders: int, count: int) -> None:
    """Events/s through `cio-replicate listen` into a throw-away database."""
    problem = reachable(db)
    if problem:
        raise click.ClickException(f"{db} is not reachable: {problem}")
    with scratch(db) as url, receivers(url, count) as started:
        bodies = make_events(events, [])
        result = send([r.port for r in started], bodies, senders=senders)
        rows, distinct = stored(url)
    rate = events / result.seconds
    click.echo(
        f"{db}: {events} events from {senders} senders into {count} receiver(s) in "
        f"{result.seconds:.2f} s: {rate:,.0f} events/s ({result.retried} retried posts); "
        f"stored {rows} rows, {distinct} distinct"
    )


if __name__ == "__main__":
    main()
