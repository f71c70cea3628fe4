"""Running the engine against the sandbox: in-process (MockTransport, the sandbox's clock)
or as a ``cio-replicate replicate`` subprocess against the sandbox served on loopback."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import pytest

from cio_replicate.config import load_settings
from cio_replicate.connect import open_client
from cio_replicate.engine import Progress, RunOptions, RunReport, Services, replicate
from cio_replicate.engine.deletes import Deletes
from cio_replicate.http import CioClient
from cio_replicate.load import Target
from cio_replicate.sandbox import APP_API_KEY, SITE_ID, TRACK_API_KEY, Sandbox
from cio_replicate.sandbox.server import serve

BATCH = 5
"""Rows per batch in subprocess runs: many commits, many kill points."""


@dataclass
class Harness:
    """A sandbox, a target URL and a client; ``run`` replicates once."""

    sandbox: Sandbox
    url: str
    client: CioClient
    target: Target
    batch_size: int = 1000
    lookback: int = 3600
    metrics_lookback: int = 7 * 86400
    progress: io.StringIO | None = None
    workers: int = 4
    """Objects at once, as the CLI does with the default concurrency."""
    deletes: Deletes = "soft"

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
            metrics_lookback=self.metrics_lookback,
            batch_size=self.batch_size,
            lock_wait=lock_wait,
            workers=self.workers,
            deletes=self.deletes,
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


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[Sandbox, str]]:
    sb = Sandbox("tiny", seed=1)
    server = serve(sb)
    yield sb, server.base_url
    server.shutdown()


EMBEDDED = "embedded"
"""``base_url`` for a subprocess that runs its own in-process tiny sandbox (seed 1): the
same data as ``Sandbox("tiny", seed=1)``, with no HTTP server in between."""


def subprocess_env(base_url: str, url: str, crash: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CIO_")}
    if base_url == EMBEDDED:
        env.update(CIO_SOURCE="sandbox", CIO_SANDBOX_SCALE="tiny", CIO_SANDBOX_SEED="1")
    else:
        env.update(
            CIO_SOURCE="customerio",
            CIO_APP_API_URL=base_url,
            CIO_TRACK_API_URL=base_url,
            CIO_APP_API_KEY=APP_API_KEY,
            CIO_TRACK_API_KEY=TRACK_API_KEY,
            CIO_SITE_ID=SITE_ID,
        )
    env.update(
        CIO_TARGET_URL=url,
        CIO_BATCH_SIZE=str(BATCH),
        CIO_RATE_LIMIT="1000",
        CIO_ALLOW_UNSAFE_RATE_LIMIT="true",
    )
    if crash:
        env["CIO_REPLICATE_CRASH"] = crash
    return env


def replicate_subprocess(
    base_url: str, url: str, crash: str | None = None, objects: Sequence[str] = ()
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cio_replicate", "replicate", *objects],
        env=subprocess_env(base_url, url, crash),
        capture_output=True,
        text=True,
        timeout=300,
    )
