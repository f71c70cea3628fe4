"""Running the engine in-process against the sandbox (MockTransport, the sandbox's clock)."""

from __future__ import annotations

import io
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import pytest

from cio_replicate.config import load_settings
from cio_replicate.engine import Progress, RunOptions, RunReport, Services, replicate
from cio_replicate.http import CioClient, open_client
from cio_replicate.load import Target
from cio_replicate.sandbox import Sandbox


@dataclass
class Harness:
    """A sandbox, a target URL and a client; ``run`` replicates once."""

    sandbox: Sandbox
    url: str
    client: CioClient
    target: Target
    batch_size: int = 1000
    lookback: int = 3600
    progress: io.StringIO | None = None

    def run(
        self,
        objects: Sequence[str] = (),
        *,
        filters: Sequence[str] = (),
        full_refresh: bool = False,
        lock_wait: float = 0.0,
    ) -> RunReport:
        self.progress = io.StringIO()
        svc = Services(
            client=self.client,
            requests=self.client.log,
            target=self.target,
            clock=self.sandbox.clock,
            progress=Progress(self.progress, live=False),
            lookback=self.lookback,
            batch_size=self.batch_size,
            lock_wait=lock_wait,
        )
        return replicate(
            svc,
            RunOptions(
                objects=objects, filters=filters, full_refresh=full_refresh, lock_wait=lock_wait
            ),
        )


def client_for(sb: Sandbox, **flags: object) -> CioClient:
    settings = load_settings(
        None,
        env={},
        flags={"rate_limit": 1e6, "allow_unsafe_rate_limit": True, "concurrency": 4, **flags},
    )
    return open_client(settings, transport=sb.transport(), clock=sb.clock, sleep=lambda s: None)


@pytest.fixture
def harness(db_url: str) -> Iterator[Harness]:
    sb = Sandbox("tiny", seed=1)
    client = client_for(sb)
    target = Target(db_url, clock=sb.clock)
    yield Harness(sb, db_url, client, target)
    client.close()
    target.dispose()
