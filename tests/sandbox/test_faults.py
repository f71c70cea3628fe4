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


@pytest.mark.parametrize(
    ("mode", "expected"),
    [
        ("null", {"reporting_webhooks": None}),
        ("missing", {}),
        ("string", {"reporting_webhooks": "not a list"}),
    ],
)
def test_a_broken_envelope_on_the_chosen_path_only(mode: str, expected: dict[str, object]) -> None:
    sb = Sandbox("tiny", faults=Faults(bad_envelope={"/v1/reporting_webhooks": mode}))
    with client(sb) as c:
        broken = c.get("/v1/reporting_webhooks")
        other = c.get("/v1/segments")
    assert broken.status_code == 200 and broken.json() == expected
    assert isinstance(other.json()["segments"], list) and other.json()["segments"]


def test_a_bare_list_body_and_a_limited_number_of_broken_answers() -> None:
    faults = Faults(bad_envelope={"/v1/sender_identities": "bare"}, bad_envelope_times=2)
    sb = Sandbox("tiny", faults=faults)
    with client(sb) as c:
        answers = [c.get("/v1/sender_identities").json() for _ in range(3)]
    assert isinstance(answers[0], list) and answers[0] == answers[1]
    assert answers[2] == {"sender_identities": answers[0], "next": ""}


def test_bad_envelope_modes_are_checked() -> None:
    with pytest.raises(ValueError, match="not one of null, missing, string, bare"):
        Faults(bad_envelope={"/v1/segments": "nil"})


def test_an_endless_cursor_is_new_on_every_page_while_the_records_repeat() -> None:
    faults = Faults(endless_cursor=("/v1/sender_identities",), endless_cursor_pages=5)
    sb = Sandbox("tiny", faults=faults)
    pages: list[dict[str, object]] = []
    with client(sb) as c:
        params: dict[str, object] = {"limit": 2}
        while True:
            page = c.get("/v1/sender_identities", params=params).json()
            pages.append(page)
            if not page["next"]:
                break
            params = {"limit": 2, "start": page["next"]}
    assert len(pages) == 5  # bounded, so a client without a loop guard still ends
    assert [p["next"] for p in pages] == ["endless-1", "endless-2", "endless-3", "endless-4", ""]
    assert all(p["sender_identities"] == pages[0]["sender_identities"] for p in pages)
    assert len(pages[0]["sender_identities"]) == 2  # type: ignore[arg-type]


def test_a_slow_body_trickles_in_chunks_and_arrives_whole() -> None:
    fake = FakeTime()
    faults = Faults(slow_body=0.5, slow_body_chunk=100, slow_body_paths=("/v1/segments",))
    sb = Sandbox("tiny", faults=faults, sleep=fake.sleep)
    plain = Sandbox("tiny")
    with client(sb) as c, client(plain) as p:
        slow = c.get("/v1/segments")
        assert fake.slept == [0.5] * ((len(slow.content) - 1) // 100)
        assert slow.json() == p.get("/v1/segments").json()
        c.get("/v1/campaigns")  # another path: not slowed
    assert len(fake.slept) == (len(slow.content) - 1) // 100
