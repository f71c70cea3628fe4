"""Events applied to replicated deliveries: out of order, before the delivery arrives,
and never undone by a later replicate."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from cio_replicate.listen.app import create_app
from cio_replicate.listen.batcher import Batcher
from cio_replicate.listen.server import prepare
from cio_replicate.load import Target
from tests.engine.conftest import Harness

from .conftest import KEY, Receiver, event, serving


@pytest.fixture
def fed(harness: Harness) -> Iterator[tuple[Harness, Receiver]]:
    """A harness (tiny sandbox, Messages replicated once) and a receiver on its target."""
    report = harness.run(["Messages"])
    assert not report.failed
    target = Target(harness.url)
    store = prepare(target)
    batcher = Batcher(store)
    with serving(create_app(KEY, batcher)) as base, httpx.Client(base_url=base) as client:
        yield harness, Receiver(client, target, store)
    batcher.close()
    target.dispose()


def metrics(harness: Harness, table: str, delivery_id: str) -> dict[str, Any]:
    with harness.target.connect() as conn:
        t = harness.target.table(table).sa_table()
        value = conn.execute(sa.select(t.c.metrics).where(t.c.id == delivery_id)).scalar_one()
    return dict(value)


def unopened(harness: Harness) -> str:
    ws = harness.sandbox.workspace
    for j in range(ws.messages.total):
        message = ws.messages.get(j)
        held = message["metrics"]
        if "sent" in held and "opened" not in held and "clicked" not in held:
            return str(message["id"])
    raise AssertionError("every sandbox message is opened")


def test_out_of_order_events_keep_the_first_occurrence(fed: tuple[Harness, Receiver]) -> None:
    harness, receiver = fed
    mid = unopened(harness)
    before = metrics(harness, "messages", mid)
    sent = before["sent"]
    assert receiver.post(event("e-late", mid, "opened", sent + 500)) == 200
    assert metrics(harness, "messages", mid)["opened"] == sent + 500
    assert receiver.post(event("e-early", mid, "opened", sent + 100)) == 200  # arrives second
    assert receiver.post(event("e-later", mid, "opened", sent + 900)) == 200
    assert receiver.post(event("e-click", mid, "clicked", sent + 200)) == 200
    after = metrics(harness, "messages", mid)
    assert after == before | {"opened": sent + 100, "clicked": sent + 200}
    # a metric the API gave is never moved later by an event
    assert receiver.post(event("e-sent", mid, "sent", sent + 50)) == 200
    assert metrics(harness, "messages", mid)["sent"] == sent
    applied = {r["event_id"]: r["applied_at"] for r in receiver.events()}
    assert all(at is not None for at in applied.values())


def test_event_before_its_delivery_is_applied_when_replicated(
    fed: tuple[Harness, Receiver],
) -> None:
    harness, receiver = fed
    ws = harness.sandbox.workspace
    person = next(ws.iter_people())
    message = ws.add_message(ws.messages.sources[0], person)
    mid, sent = str(message["id"]), message["metrics"]["sent"]
    assert receiver.post(event("e-new", mid, "delivered", sent + 5)) == 200
    assert receiver.post(event("e-new2", mid, "opened", sent + 60)) == 200
    (row,) = [r for r in receiver.events() if r["event_id"] == "e-new"]
    assert row["applied_at"] is None  # stored; its delivery is not in messages yet
    assert not harness.run(["Messages"]).failed
    assert metrics(harness, "messages", mid) == {
        "created": sent,
        "sent": sent,
        "delivered": sent + 5,
        "opened": sent + 60,
    }


def test_a_later_replicate_keeps_metrics_from_events(fed: tuple[Harness, Receiver]) -> None:
    harness, receiver = fed
    mid = unopened(harness)
    sent = metrics(harness, "messages", mid)["sent"]
    assert receiver.post(event("e-open", mid, "opened", sent + 30)) == 200
    harness.sandbox.clock.advance(60)
    assert not harness.run(["Messages"]).failed
    assert metrics(harness, "messages", mid)["opened"] == sent + 30


def test_a_full_refresh_keeps_metrics_from_events(fed: tuple[Harness, Receiver]) -> None:
    harness, receiver = fed
    mid = unopened(harness)
    sent = metrics(harness, "messages", mid)["sent"]
    assert receiver.post(event("e-open-fr", mid, "opened", sent + 40)) == 200
    assert not harness.run(["Messages"], full_refresh=True).failed
    assert metrics(harness, "messages", mid)["opened"] == sent + 40
