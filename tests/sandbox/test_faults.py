"""Injected faults and the App API rate limit: statuses, headers, bodies, determinism."""

from __future__ import annotations

import json

import httpx
import pytest

from cio_replicate.sandbox import APP_API_KEY, SITE_ID, TRACK_API_KEY, Faults, Sandbox

APP = {"Authorization": f"Bearer {APP_API_KEY}"}


def client(sb: Sandbox) -> httpx.Client:
    return httpx.Client(transport=sb.transport(), base_url="https://api.customer.io", headers=APP)


class FakeTime:
    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)


def test_rate_limit_answers_429_with_retry_after_and_recovers() -> None:
    clock = FakeTime()
    sb = Sandbox("tiny", rate_limit=10, monotonic=clock)
    with client(sb) as c:
        statuses = [c.get("/v1/segments").status_code for _ in range(12)]
        assert statuses == [200] * 10 + [429] * 2
        throttled = c.get("/v1/segments")
        assert throttled.headers["Retry-After"] == "1"
        (error,) = throttled.json()["errors"]
        assert error["status"] == "429" and error["detail"].startswith(
            "rate limited to 10 requests per 1s"
        )
        clock.now += 1.0
        assert c.get("/v1/segments").status_code == 200


def test_rate_limit_is_for_the_app_api_only() -> None:
    sb = Sandbox("tiny", rate_limit=1, monotonic=FakeTime())
    with httpx.Client(transport=sb.transport(), auth=(SITE_ID, TRACK_API_KEY)) as c:
        url = "https://track.customer.io/api/v1/accounts/region"
        assert {c.get(url).status_code for _ in range(5)} == {200}


def test_error_rate_one_fails_every_request_before_it_takes_effect() -> None:
    sb = Sandbox("tiny", faults=Faults(error_rate=1.0, seed=4))
    with client(sb) as c:
        responses = [c.get("/v1/campaigns") for _ in range(20)]
    assert {r.status_code for r in responses} <= {500, 502, 503}
    assert len({r.status_code for r in responses}) > 1
    html = next(r for r in responses if r.status_code != 500)
    assert html.text.startswith("<html>")


def test_truncated_bodies_are_invalid_json() -> None:
    sb = Sandbox("tiny", faults=Faults(truncate_rate=1.0))
    with client(sb) as c:
        response = c.get("/v1/campaigns")
    assert response.status_code == 200
    with pytest.raises(json.JSONDecodeError):
        json.loads(response.content)


def test_429_bursts_come_every_n_requests() -> None:
    sb = Sandbox("tiny", faults=Faults(burst_429_every=5, burst_429_length=2))
    with client(sb) as c:
        statuses = [c.get("/v1/segments").status_code for _ in range(12)]
    assert statuses == [200, 200, 200, 200, 429, 429, 200, 200, 200, 429, 429, 200]
    assert sb.requests[4].status == 429


def test_latency_sleeps_per_request() -> None:
    fake = FakeTime()
    sb = Sandbox("tiny", faults=Faults(latency=0.25), sleep=fake.sleep)
    with client(sb) as c:
        c.get("/v1/segments")
        c.get("/v1/campaigns")
    assert fake.slept == [0.25, 0.25]


def test_fault_dice_are_deterministic_per_seed() -> None:
    def run(seed: int) -> list[int]:
        sb = Sandbox("tiny", faults=Faults(error_rate=0.3, seed=seed))
        with client(sb) as c:
            return [c.get("/v1/segments").status_code for _ in range(30)]

    assert run(7) == run(7)
    assert run(7) != run(8)
    assert 200 in run(7) and set(run(7)) - {200}


def test_invalid_fault_settings_are_rejected() -> None:
    with pytest.raises(ValueError):
        Faults(error_rate=1.5)
    with pytest.raises(ValueError):
        Faults(latency=-1)
