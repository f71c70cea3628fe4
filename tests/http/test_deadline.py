"""The whole-request deadline (issue 9): ``timeout`` bounds a request from send to the
body's last byte, not only each socket read, so a trickling body fails and is retried.
Run against the sandbox served on loopback with its slow-body fault; the assertions are
on attempts and on what the sandbox saw, never on elapsed time."""

from __future__ import annotations

import pytest

from cio_replicate.config import load_settings
from cio_replicate.connect import open_client
from cio_replicate.errors import RetryExhaustedError
from cio_replicate.http import CioClient
from cio_replicate.sandbox import APP_API_KEY, Faults, Sandbox
from cio_replicate.sandbox.server import serve

from .conftest import FakeClock

PATH = "/v1/segments"  # 909 bytes in the tiny workspace


def loopback_client(base_url: str, clock: FakeClock, **flags: object) -> CioClient:
    env = {"CIO_APP_API_KEY": APP_API_KEY, "CIO_APP_API_URL": base_url}
    settings = load_settings(None, env=env, flags={"max_retry_wait": 86_400, **flags})
    # backoff waits go to the fake clock; the HTTP exchanges are real
    return open_client(settings, clock=clock, sleep=clock.sleep)


def trickle(times: int = 0) -> Faults:
    # ~90 chunks 50 ms apart: 4.5 s per body, though no single read waits 0.3 s
    return Faults(
        slow_body=0.05, slow_body_chunk=10, slow_body_paths=(PATH,), slow_body_times=times
    )


def test_a_trickling_body_fails_each_attempt_and_the_request_gives_up(clock: FakeClock) -> None:
    sb = Sandbox("tiny", faults=trickle())
    with serve(sb) as server, loopback_client(server.base_url, clock, timeout=0.3) as client:
        with pytest.raises(RetryExhaustedError, match="not complete within 0.3s") as caught:
            client.app("GET", PATH)
        assert client.app("GET", "/v1/campaigns")["campaigns"]  # other paths are fine
    attempts = client.policy.max_attempts
    assert f"after {attempts} attempts" in str(caught.value)
    assert [r.path for r in sb.requests] == [PATH] * attempts + ["/v1/campaigns"]
    entries = [e for e in client.log.entries if e.path == PATH]
    assert len(entries) == attempts and all("ReadTimeout" in (e.error or "") for e in entries)


def test_a_trickle_that_stops_is_retried_to_the_whole_body(clock: FakeClock) -> None:
    sb = Sandbox("tiny", faults=trickle(times=2))
    with serve(sb) as server, loopback_client(server.base_url, clock, timeout=0.3) as client:
        body = client.app("GET", PATH)
    assert [s["id"] for s in body["segments"]] == [
        s["id"] for s in sb.workspace.records("segments")
    ]
    assert [r.path for r in sb.requests] == [PATH] * 3
    assert client.log.snapshot().retries == 2


def test_a_slow_body_within_the_deadline_is_fine(clock: FakeClock) -> None:
    faults = Faults(slow_body=0.001, slow_body_chunk=100, slow_body_paths=(PATH,))
    sb = Sandbox("tiny", faults=faults)
    with serve(sb) as server, loopback_client(server.base_url, clock, timeout=30) as client:
        assert len(client.app("GET", PATH)["segments"]) == len(sb.workspace.records("segments"))
    assert len(sb.requests) == 1 and client.log.snapshot().retries == 0
