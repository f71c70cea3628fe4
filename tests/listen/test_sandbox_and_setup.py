"""The sandbox's signed events reach the receiver and agree with its API; ``webhook setup``
creates, then updates, the workspace's reporting webhook."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from cio_replicate.cli import main
from cio_replicate.config import load_settings
from cio_replicate.connect import open_client
from cio_replicate.listen.app import create_app
from cio_replicate.listen.batcher import Batcher
from cio_replicate.listen.server import prepare
from cio_replicate.listen.setup import DELIVERY_EVENTS, setup_webhook
from cio_replicate.load import Target
from cio_replicate.migrate import upgrade
from cio_replicate.sandbox import Sandbox
from cio_replicate.sandbox.webhooks import WebhookSender
from tests.engine.conftest import Harness

from .conftest import KEY, serving


@pytest.fixture
def replica(harness: Harness) -> Iterator[tuple[Harness, str]]:
    assert not harness.run(["Messages"]).failed
    target = Target(harness.url)
    batcher = Batcher(prepare(target))
    with serving(create_app(KEY, batcher)) as base:
        yield harness, base
    batcher.close()
    target.dispose()


def test_sandbox_events_reach_the_deliveries(replica: tuple[Harness, str]) -> None:
    harness, base = replica
    sender = WebhookSender(harness.sandbox, f"{base}/reporting", KEY, seed=3)
    try:
        assert [sender.send_one() for _ in range(12)] == [200] * 12
        wrong = WebhookSender(harness.sandbox, f"{base}/reporting", "not-the-key", seed=4)
        assert wrong.send_one() == 401
        wrong.stop()
    finally:
        sender.stop()
    table = harness.target.table("messages").sa_table()
    with harness.target.connect() as conn:
        held = {r[0]: dict(r[1]) for r in conn.execute(sa.select(table.c.id, table.c.metrics))}
    ws = harness.sandbox.workspace
    for event in sender.sent:
        mid, metric = event["data"]["delivery_id"], event["metric"]
        api = ws.message(mid)
        assert api is not None
        assert held[mid][metric] == api["metrics"][metric] == event["timestamp"]


def test_webhook_setup_creates_then_updates() -> None:
    sb = Sandbox("tiny", seed=1)
    settings = load_settings(None, env={}, flags={"source": "sandbox"})
    with open_client(settings, transport=sb.transport()) as client:
        before = len(sb.workspace.misc.webhooks)
        done, hook = setup_webhook(
            client, "https://hooks.example.com/reporting", events=list(DELIVERY_EVENTS)
        )
        assert done == "created" and len(sb.workspace.misc.webhooks) == before + 1
        stored = sb.workspace.misc.webhooks[hook["id"]]
        assert stored["endpoint"] == "https://hooks.example.com/reporting"
        assert set(stored["events"]) == set(DELIVERY_EVENTS)
        done, again = setup_webhook(
            client, "https://hooks.example.com/reporting", events=["email_opened"]
        )
        assert (done, again["id"]) == ("updated", hook["id"])
        assert sb.workspace.misc.webhooks[hook["id"]]["events"] == ["email_opened"]
        assert len(sb.workspace.misc.webhooks) == before + 1


def test_cli_refuses_an_unknown_event_and_a_missing_key(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: object
) -> None:
    code = main(
        [
            "--log-format",
            "text",
            "webhook",
            "setup",
            "https://h.example.com/reporting",
            "--source",
            "sandbox",
            "--event",
            "email_opend",
        ]
    )
    assert code == 2
    assert "email_opend" in capsys.readouterr().err
    monkeypatch.delenv("CIO_WEBHOOK_SIGNING_KEY", raising=False)
    code = main(["listen", "--target-url", f"sqlite:///{tmp_path}/x.db"])
    assert code == 2
    assert "CIO_WEBHOOK_SIGNING_KEY" in capsys.readouterr().err


def test_the_signing_key_is_a_masked_secret() -> None:
    settings = load_settings(
        None, env={"CIO_WEBHOOK_SIGNING_KEY": "whsec-very-secret"}, needs_source=False
    )
    assert settings.webhook_signing_key is not None
    assert settings.webhook_signing_key.reveal() == "whsec-very-secret"
    assert "whsec-very-secret" not in repr(settings)
    assert settings.origins["webhook_signing_key"] == "env CIO_WEBHOOK_SIGNING_KEY"


def test_listen_refuses_a_column_naming_the_target_was_not_made_with(tmp_path: Path) -> None:
    """``listen`` writes data tables: a ``column_names`` contradicting the target's recorded
    naming stops it (exit 2) before it serves (a subprocess: serving would never return)."""
    url = f"sqlite:///{tmp_path}/snake.db"
    upgrade(url)
    with Target(url) as target:  # a new target: snake, recorded
        assert target.naming() == "snake"
    env = {k: v for k, v in os.environ.items() if not k.startswith("CIO_")}
    env.update(CIO_WEBHOOK_SIGNING_KEY="whsec-test", CIO_COLUMN_NAMES="api")
    with socket.socket() as probe:  # a free port, should the command wrongly serve
        probe.bind(("127.0.0.1", 0))
        port = str(probe.getsockname()[1])
    args = [sys.executable, "-m", "cio_replicate", "listen", "--port", port, "--target-url", url]
    run = subprocess.run(args, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert run.returncode == 2, run.stderr
    assert "column_names" in run.stderr and "'snake'" in run.stderr
