"""Small fake servers (httpx.MockTransport handlers) and a fake clock for client tests."""

from __future__ import annotations

import random
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import httpx
import pytest

from cio_replicate.config import Settings, load_settings
from cio_replicate.connect import open_client
from cio_replicate.http import CioClient

APP_KEY = "app-key-SECRET-1234567890"
TRACK_KEY = "track-key-SECRET-0987654321"
SITE_ID = "site-42"
START = 1_767_225_600.0  # 2026-01-01T00:00:00Z


class FakeClock:
    """Unix-seconds clock whose sleep advances time instantly and records each wait."""

    def __init__(self, now: float = START) -> None:
        self.now = now
        self.sleeps: list[float] = []
        self._lock = threading.Lock()

    def __call__(self) -> float:
        with self._lock:
            return self.now

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.sleeps.append(seconds)
            self.now += seconds


@dataclass
class FakeServer:
    """Answers with ``reply(request, n)`` where n counts the requests so far (1-based)."""

    reply: Callable[[httpx.Request, int], httpx.Response]
    clock: FakeClock | None = None
    requests: list[httpx.Request] = field(default_factory=list)
    times: list[float] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        with self._lock:
            self.requests.append(request)
            if self.clock is not None:
                self.times.append(self.clock())
            n = len(self.requests)
        return self.reply(request, n)

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self)


def customerio_settings(**flags: object) -> Settings:
    env = {"CIO_APP_API_KEY": APP_KEY, "CIO_TRACK_API_KEY": TRACK_KEY, "CIO_SITE_ID": SITE_ID}
    return load_settings(None, env=env, flags=flags)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def make_client(clock: FakeClock) -> Iterator[Callable[..., CioClient]]:
    """make_client(server, **settings_flags) -> a client on the fake server and fake clock."""
    clients: list[CioClient] = []

    def make(server: FakeServer, **flags: object) -> CioClient:
        client = open_client(
            customerio_settings(**flags),
            transport=server.transport(),
            clock=clock,
            sleep=clock.sleep,
            rng=random.Random(0),
        )
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


def ok(body: object) -> httpx.Response:
    return httpx.Response(200, json=body)
