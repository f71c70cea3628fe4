"""Run the receiver: uvicorn serves the application until SIGTERM or Ctrl-C.

On a signal uvicorn stops accepting connections, lets the requests in flight finish
(each waits for its event's commit) for at most :data:`GRACE` seconds, then the writer
thread commits whatever is queued and stops.
"""

from __future__ import annotations

from dataclasses import dataclass

import uvicorn

from ..clock import Clock, system_clock
from ..load import Target
from ..logs import emit
from .app import create_app
from .batcher import Batcher
from .store import EventStore

GRACE = 4
"""Seconds a stop waits for requests in flight (Customer.io's own timeout is 4 s)."""


@dataclass(frozen=True)
class ListenOptions:
    host: str = "127.0.0.1"
    port: int = 8080
    key: str = ""
    backlog: int = 2048


def prepare(target: Target, *, clock: Clock = system_clock) -> EventStore:
    """The event store, its table created or checked (before any request is taken)."""
    store = EventStore(target, clock=clock)
    store.ensure()
    return store


def serve(options: ListenOptions, store: EventStore) -> None:
    """Serve until stopped; returns after the last queued event is committed."""
    batcher = Batcher(store)
    app = create_app(options.key, batcher, clock=store.clock)
    config = uvicorn.Config(
        app,
        host=options.host,
        port=options.port,
        log_config=None,
        access_log=False,
        lifespan="off",
        backlog=options.backlog,
        timeout_graceful_shutdown=GRACE,
        server_header=False,
    )
    server = uvicorn.Server(config)
    emit(
        "listen.ready",
        f"listening on http://{options.host}:{options.port}/reporting "
        f"(events into {store.events.name}; GET /healthz)",
        host=options.host,
        port=options.port,
    )
    try:
        server.run()
    finally:
        batcher.close()
        emit(
            "listen.stopped",
            f"stopped; {batcher.written} event(s) written",
            written=batcher.written,
        )
