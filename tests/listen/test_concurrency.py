"""Two receivers on one database, 20 senders, 10,000 events (and 1,000 of them again):
none lost, none doubled, every delivery's metrics at the first occurrence."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import sqlalchemy as sa

from cio_replicate.bench.listen import make_events, receivers, send, stored
from cio_replicate.load import Target
from cio_replicate.sandbox import Sandbox
from tests.engine.conftest import Harness, client_for

EVENTS = 10_000


@pytest.mark.slow
@pytest.mark.parametrize(
    "db",
    [
        pytest.param("postgres_url", marks=pytest.mark.postgres),
        pytest.param("mysql_url", marks=pytest.mark.mysql),
    ],
)
def test_two_receivers_twenty_senders(
    db: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    url = str(request.getfixturevalue(db))
    sb = Sandbox("tiny", seed=1)
    client = client_for(sb)
    target = Target(url, clock=sb.clock)
    try:
        assert not Harness(sb, url, client, target).run(["Messages"]).failed
        table = target.table("messages").sa_table()
        with target.connect() as conn:
            held = {r[0]: dict(r[1]) for r in conn.execute(sa.select(table.c.id, table.c.metrics))}
        assert len(held) > 20
        bodies = make_events(EVENTS, sorted(held), start=min(m["created"] for m in held.values()))
        with receivers(url, 2, logdir=str(tmp_path)) as started:
            ports = [r.port for r in started]
            result = send(ports, bodies + bodies[:1000], senders=20)  # 1,000 sent twice
        expected_ids = {json.loads(b)["event_id"] for b in bodies}
        assert result.ok == expected_ids
        assert stored(url) == (EVENTS, EVENTS)

        expected = {k: dict(v) for k, v in held.items()}
        for body in bodies:
            ev = json.loads(body)
            metrics = expected[ev["data"]["delivery_id"]]
            held_at = metrics.get(ev["metric"])
            if held_at is None or held_at > ev["timestamp"]:
                metrics[ev["metric"]] = ev["timestamp"]
        with target.connect() as conn:
            now = {r[0]: dict(r[1]) for r in conn.execute(sa.select(table.c.id, table.c.metrics))}
        assert now == expected
    finally:
        client.close()
        target.dispose()
