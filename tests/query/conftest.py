"""The sandbox in-process (httpx.MockTransport), and a helper that runs one statement on it."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest

from cio_replicate import query
from cio_replicate.config import load_settings
from cio_replicate.connect import open_client
from cio_replicate.http import CioClient
from cio_replicate.sandbox import RecordedRequest, Sandbox

from ..writeback.conftest import cli, reading_cli, shared_server  # noqa: F401 (fixtures)


@pytest.fixture
def sandbox() -> Sandbox:
    return Sandbox("tiny", seed=1)


@pytest.fixture
def client(sandbox: Sandbox) -> Iterator[CioClient]:
    settings = load_settings(None, env={})
    with open_client(settings, transport=sandbox.transport(), sleep=lambda _s: None) as cio:
        yield cio


@dataclass
class Run:
    """Runs statements on the in-process sandbox; keeps the requests each one made."""

    sandbox: Sandbox
    client: CioClient
    said: list[str] = field(default_factory=list)
    requests: list[RecordedRequest] = field(default_factory=list)

    def __call__(self, sql: str, **options: object) -> query.Result:
        before = len(self.sandbox.requests)
        prepared = query.prepare(sql)
        opts = query.Options(now=int(time.time()), **options)  # type: ignore[arg-type]
        try:
            return query.execute(prepared, self.client, opts, self.said.append)
        finally:
            self.requests = list(self.sandbox.requests[before:])

    def rows(self, sql: str, **options: object) -> list[dict[str, object]]:
        answer = self(sql, **options).answer
        assert answer is not None
        return [dict(zip(answer.columns, row, strict=True)) for row in answer.rows]

    def paths(self) -> list[str]:
        return [r.path for r in self.requests]


@pytest.fixture
def run(sandbox: Sandbox, client: CioClient) -> Run:
    return Run(sandbox, client)
