"""Per-scope call counters: objects running side by side each count their own calls."""

from __future__ import annotations

import threading
from collections.abc import Callable

import httpx

from cio_replicate.http import CioClient

from .conftest import FakeClock, FakeServer, ok

MakeClient = Callable[..., CioClient]


def test_calls_count_under_the_scope_they_were_made_in_fan_out_threads_included(
    make_client: MakeClient, clock: FakeClock
) -> None:
    server = FakeServer(lambda r, n: ok({}) if n % 3 else httpx.Response(429), clock)
    client = make_client(server, concurrency=4)
    log = client.log

    def work(name: str, calls: int) -> None:
        with log.scope(name):
            list(client.fan_out(lambda i: client.app("GET", f"/v1/{name}/{i}"), range(calls)))

    threads = [threading.Thread(target=work, args=(n, c)) for n, c in (("a", 7), ("b", 5))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    client.app("GET", "/v1/outside")

    a, b, total = log.snapshot("a"), log.snapshot("b"), log.snapshot()
    # every third attempt is a 429 and retried: attempts are counted where they were made
    sent = {s: sum(1 for r in server.requests if r.url.path.startswith(f"/v1/{s}/")) for s in "ab"}
    assert (a.calls, b.calls) == (sent["a"], sent["b"])
    outside = sum(1 for r in server.requests if r.url.path == "/v1/outside")
    assert a.calls + b.calls + outside == total.calls == len(server.requests)
    assert a.throttled + b.throttled <= total.throttled
    assert a.throttled > 0 and b.throttled > 0
    assert log.snapshot("never") == type(total)()
    mark = log.snapshot("a")
    with log.scope("a"):
        client.app("GET", "/v1/a/again")
    assert log.since(mark, "a").calls == 1
