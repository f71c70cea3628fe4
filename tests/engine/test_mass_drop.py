"""The mass-drop guard (issue 9, item 2): a full refresh that would drop more than
``full_refresh_max_drop`` of a table of 20+ rows is refused until the setting allows it."""

from __future__ import annotations

import io
import subprocess
import sys
from collections.abc import Iterator

import httpx
import pytest

from cio_replicate.engine import Progress, RunOptions, RunReport, Services, replicate
from cio_replicate.engine import summary_table as summary
from cio_replicate.load import Target
from cio_replicate.sandbox import APP_API_KEY, Sandbox
from cio_replicate.sandbox.server import serve

from .conftest import client_for, subprocess_env
from .expected import actual, check_tables

HOOKS = "reporting_webhooks"
APP = "https://api.customer.io"


def webhooks(sb: Sandbox) -> httpx.Client:
    return httpx.Client(
        transport=sb.transport(), base_url=APP, headers={"Authorization": f"Bearer {APP_API_KEY}"}
    )


def add_hooks(api: httpx.Client, n: int) -> None:
    for i in range(n):
        hook = {
            "name": f"hook {i}",
            "endpoint": f"https://example.com/{i}",
            "events": ["email_sent"],
        }
        assert api.post("/v1/reporting_webhooks", json=hook).status_code == 200


def drop_hooks(api: httpx.Client, n: int) -> None:
    ids = [h["id"] for h in api.get("/v1/reporting_webhooks").json()["reporting_webhooks"]]
    for hook_id in ids[:n]:
        assert api.delete(f"/v1/reporting_webhooks/{hook_id}").status_code in (200, 204)


@pytest.fixture
def sandbox() -> Iterator[tuple[Sandbox, httpx.Client]]:
    sb = Sandbox("tiny", seed=1)
    with webhooks(sb) as api:
        add_hooks(api, 20)  # 22 with the workspace's own 2
        yield sb, api


def run(sb: Sandbox, url: str, *, max_drop: float = 0.5, full_refresh: bool = False) -> RunReport:
    client = client_for(sb)
    target = Target(url, clock=sb.clock)
    try:
        svc = Services(
            client=client,
            requests=client.log,
            target=target,
            clock=sb.clock,
            progress=Progress(io.StringIO(), live=False),
            max_drop=max_drop,
        )
        options = RunOptions(objects=("ReportingWebhooks",), full_refresh=full_refresh)
        return replicate(svc, options)
    finally:
        client.close()
        target.dispose()


def test_a_mass_drop_is_refused_until_the_setting_allows_it(
    db_url: str, sandbox: tuple[Sandbox, httpx.Client]
) -> None:
    sb, api = sandbox
    assert run(sb, db_url).status == "success"
    before = actual(db_url, HOOKS)
    assert len(before) == 22
    drop_hooks(api, 15)  # 7 left: a 68% drop

    for full_refresh in (False, True):  # --full-refresh obeys the guard as well
        report = run(sb, db_url, full_refresh=full_refresh)
        (result,) = report.results
        assert result.status == "failed" and report.status == "failed"
        assert "full_refresh_max_drop" in (result.message or "")
        assert "CIO_FULL_REFRESH_MAX_DROP=1" in (result.message or "")
        assert "22 rows" in (result.message or "") and "7 records" in (result.message or "")
        assert "full_refresh_max_drop" in summary(report)
        assert actual(db_url, HOOKS) == before

    assert run(sb, db_url, max_drop=1.0).status == "success"  # confirmed
    assert check_tables(db_url, sb.workspace, [HOOKS]) == {}
    assert len(actual(db_url, HOOKS)) == 7


def test_a_drop_within_the_bound_and_small_tables_pass(
    sqlite_url: str, sandbox: tuple[Sandbox, httpx.Client]
) -> None:
    sb, api = sandbox
    assert run(sb, sqlite_url).status == "success"
    drop_hooks(api, 11)  # 11 of 22 = 50%: allowed
    assert run(sb, sqlite_url).status == "success"
    assert len(actual(sqlite_url, HOOKS)) == 11
    drop_hooks(api, 11)  # every row, but the table held 11 (< 20): not guarded
    assert run(sb, sqlite_url).status == "success"
    assert actual(sqlite_url, HOOKS) == {}


def test_the_cli_refuses_with_exit_4_and_the_environment_confirms(
    sqlite_url: str, sandbox: tuple[Sandbox, httpx.Client]
) -> None:
    sb, api = sandbox
    command = [sys.executable, "-m", "cio_replicate", "replicate", "ReportingWebhooks", "Campaigns"]
    with serve(sb) as server:
        env = subprocess_env(server.base_url, sqlite_url, None)
        assert subprocess.run(command, env=env, capture_output=True).returncode == 0
        drop_hooks(api, 20)
        refused = subprocess.run(command, env=env, capture_output=True, text=True)
        assert refused.returncode == 4, refused.stderr[-2000:]
        assert "CIO_FULL_REFRESH_MAX_DROP=1" in refused.stderr
        assert len(actual(sqlite_url, HOOKS)) == 22
        env["CIO_FULL_REFRESH_MAX_DROP"] = "1"
        confirmed = subprocess.run(command, env=env, capture_output=True, text=True)
    assert confirmed.returncode == 0, confirmed.stderr[-2000:]
    assert check_tables(sqlite_url, sb.workspace, [HOOKS]) == {}


def test_the_setting_is_a_share_between_0_and_1() -> None:
    from cio_replicate.config import load_settings
    from cio_replicate.errors import ConfigError

    assert load_settings(None, env={}).full_refresh_max_drop == 0.5
    env = {"CIO_FULL_REFRESH_MAX_DROP": "0.9"}
    assert load_settings(None, env=env).full_refresh_max_drop == 0.9
    with pytest.raises(ConfigError, match="must be between 0 and 1") as caught:
        load_settings(None, env={"CIO_FULL_REFRESH_MAX_DROP": "50"})
    assert caught.value.key == "full_refresh_max_drop"
    with pytest.raises(ConfigError, match="CIO_FULL_REFRESH_MAX_DROP.*must be a number"):
        load_settings(None, env={"CIO_FULL_REFRESH_MAX_DROP": "50%"})
