"""A receiver on a real database, served by uvicorn on loopback, and Customer.io-signed requests.

The signature is computed here from the reference's words (HMAC-SHA256 of
``v0:<timestamp>:<body>``, hex), not with the tool's own function.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
import uvicorn

from cio_replicate.listen.app import create_app
from cio_replicate.listen.batcher import Batcher
from cio_replicate.listen.server import prepare
from cio_replicate.listen.store import EventStore
from cio_replicate.load import Target
from cio_replicate.migrate import upgrade
from tests.engine.conftest import harness  # noqa: F401  (a fixture of these tests too)

KEY = "whsec-test-signing-key"


def signed(payload: Any, *, key: str = KEY, at: int | None = None) -> tuple[bytes, dict[str, str]]:
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    stamp = str(int(time.time()) if at is None else at)
    digest = hmac.new(key.encode(), f"v0:{stamp}:".encode() + body, hashlib.sha256).hexdigest()
    return body, {"X-CIO-Timestamp": stamp, "X-CIO-Signature": digest}


def event(
    event_id: str, delivery_id: str | None, metric: str = "opened", ts: int = 1_700_000_000
) -> dict[str, Any]:
    data: dict[str, Any] = {
        "identifiers": {"id": "person-1", "email": "ann@example.com", "cio_id": "cio1"},
        "campaign_id": 7,
        "action_id": 11,
    }
    if delivery_id is not None:
        data["delivery_id"] = delivery_id
    return {
        "event_id": event_id,
        "object_type": "email",
        "metric": metric,
        "timestamp": ts,
        "data": data,
    }


@dataclass
class Receiver:
    client: httpx.Client
    target: Target
    store: EventStore

    def post(self, payload: Any, **kw: Any) -> int:
        body, headers = signed(payload, **kw)
        return self.client.post("/reporting", content=body, headers=headers).status_code

    def events(self) -> list[dict[str, Any]]:
        table = self.store.events.sa_table()
        with self.target.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(sa.select(table))]


@pytest.fixture
def receiver(db_url: str) -> Iterator[Receiver]:
    upgrade(db_url)
    target = Target(db_url)
    store = prepare(target)
    batcher = Batcher(store)
    with serving(create_app(KEY, batcher)) as base_url, httpx.Client(base_url=base_url) as client:
        yield Receiver(client, target, store)
    batcher.close()
    target.dispose()


@contextlib.contextmanager
def serving(app: Any) -> Iterator[str]:
    """Serve an ASGI app with uvicorn in a thread on a free loopback port; its base URL."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    config = uvicorn.Config(app, log_config=None, access_log=False, lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()
