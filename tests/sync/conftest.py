"""A sandbox, a target with the collections replicated, and ``sync`` / SQL helpers."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import sqlalchemy as sa

from cio_replicate.http import CioClient
from cio_replicate.load import Target
from cio_replicate.sandbox import Sandbox
from cio_replicate.sandbox.core import RecordedRequest
from cio_replicate.sync import Prefer, SyncReport, sync_collections

from ..engine.conftest import Harness, client_for

WRITES = ("POST", "PUT", "DELETE")


@dataclass
class Synced:
    harness: Harness

    @property
    def sb(self) -> Sandbox:
        return self.harness.sandbox

    @property
    def target(self) -> Target:
        return self.harness.target

    @property
    def client(self) -> CioClient:
        return self.harness.client

    def sync(self, prefer: Prefer = "newer", dry_run: bool = False) -> SyncReport:
        return sync_collections(
            self.client, self.target, self.sb.clock, prefer=prefer, dry_run=dry_run
        )

    def writes_since(self, mark: int) -> list[RecordedRequest]:
        return [r for r in self.sb.requests[mark:] if r.method in WRITES]

    def sql(self, statement: str, **params: Any) -> None:
        with self.target.begin() as conn:
            conn.execute(sa.text(statement), params)

    def rows(self) -> dict[int | None, tuple[str, Any]]:
        """id -> (name, data) as the table holds them (data parsed)."""
        with self.target.connect() as conn:
            got = conn.execute(sa.text("SELECT id, name, data FROM collections")).all()
        out: dict[int | None, tuple[str, Any]] = {}
        for cid, name, data in got:
            out[None if cid is None else int(cid)] = (
                name,
                json.loads(data) if isinstance(data, str) else data,
            )
        return out

    def remote(self) -> dict[int, tuple[str, Any]]:
        ws = self.sb.workspace
        return {
            c["id"]: (c["name"], ws.misc.collection_data[c["id"]])
            for c in ws.records("collections")
        }


@pytest.fixture
def synced(db_url: str) -> Iterator[Synced]:
    """Collections replicated once, then synced once (the baseline)."""
    sb = Sandbox("tiny", seed=1)
    client = client_for(sb)
    target = Target(db_url, clock=sb.clock)
    harness = Harness(sb, db_url, client, target)
    harness.run(["Collections"])
    s = Synced(harness)
    s.sync()
    yield s
    client.close()
    target.dispose()
