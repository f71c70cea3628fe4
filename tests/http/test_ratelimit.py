"""The rate limiter: smooth spacing, no bursts, holds, thread safety, shared budgets."""

from __future__ import annotations

import threading

import pytest

from cio_replicate.config import load_settings
from cio_replicate.connect import open_client
from cio_replicate.http import BUDGETS, RateLimiter, budget_limiters, build_client
from cio_replicate.http.ratelimit import HEADROOM
from cio_replicate.sandbox import Sandbox

from .conftest import FakeClock, FakeServer, customerio_settings, ok


def starts(limiter: RateLimiter, clock: FakeClock, n: int) -> list[float]:
    """Start times of n acquisitions made one after another."""
    out = []
    for _ in range(n):
        limiter.acquire()
        out.append(clock())
    return out


def test_requests_are_spaced_evenly_not_bursted(clock: FakeClock) -> None:
    limiter = RateLimiter(10, clock=clock, sleep=clock.sleep)
    times = starts(limiter, clock, 21)
    gaps = [b - a for a, b in zip(times, times[1:], strict=False)]
    assert min(gaps) == pytest.approx(1 / (10 * HEADROOM))
    # no one-second window ever holds more than 10 starts
    assert all(sum(1 for t in times if s <= t < s + 1.0) <= 10 for s in times)


def test_an_idle_limiter_banks_no_burst(clock: FakeClock) -> None:
    limiter = RateLimiter(5, clock=clock, sleep=clock.sleep)
    limiter.acquire()
    clock.now += 60
    times = starts(limiter, clock, 3)
    assert times[1] - times[0] >= 1 / 5 and times[2] - times[1] >= 1 / 5


def test_hold_delays_every_later_start(clock: FakeClock) -> None:
    limiter = RateLimiter(10, clock=clock, sleep=clock.sleep)
    t0 = clock()
    limiter.hold(4.0)
    assert limiter.acquire() == pytest.approx(4.0)
    assert clock() == pytest.approx(t0 + 4.0)


def test_concurrent_acquirers_get_distinct_evenly_spaced_slots() -> None:
    frozen = FakeClock()
    limiter = RateLimiter(10, clock=frozen, sleep=lambda s: None)  # time stands still
    waits: list[float] = []
    lock = threading.Lock()

    def worker() -> None:
        for _ in range(25):
            wait = limiter.acquire()
            with lock:
                waits.append(wait)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    expected = [i * limiter.interval for i in range(200)]
    assert sorted(waits) == pytest.approx(expected)


def test_rate_must_be_positive() -> None:
    with pytest.raises(ValueError):
        RateLimiter(0)


def test_one_limiter_per_budget_at_the_settings_rates(clock: FakeClock) -> None:
    settings = customerio_settings(rate_limit=5, track_rate_limit=30)
    limiters = budget_limiters(settings, clock=clock, sleep=clock.sleep)
    assert sorted(limiters) == sorted(BUDGETS)
    assert limiters["app"].rate == 5 and limiters["track"].rate == 30
    assert len({id(limiter) for limiter in limiters.values()}) == len(BUDGETS)
    with pytest.raises(ValueError, match="transactional"):
        build_client(settings, limiters={"app": limiters["app"], "track": limiters["track"]})


def test_two_clients_share_a_budget_only_when_given_the_same_limiters(clock: FakeClock) -> None:
    settings = customerio_settings(rate_limit=10)

    def gap(limiters: dict[str, RateLimiter] | None = None) -> float:
        """Seconds between the requests of two clients sending one each."""
        server = FakeServer(lambda r, n: ok({}), clock)
        first, second = (
            open_client(settings, transport=server.transport(), limiters=limiters,
                        clock=clock, sleep=clock.sleep)
            for _ in range(2)
        )  # fmt: skip
        with first, second:
            first.app("GET", "/v1/workspaces")
            second.app("GET", "/v1/workspaces")
        return server.times[1] - server.times[0]

    assert gap() == 0  # composed separately: each its own budget, no process-wide one
    shared = budget_limiters(settings, clock=clock, sleep=clock.sleep)
    assert gap(shared) == pytest.approx(1 / (10 * HEADROOM))  # one budget, on purpose
    # on real time too: no process-wide budget that the latest client's rate would set
    with (
        open_client(settings, transport=FakeServer(lambda r, n: ok({})).transport()) as a,
        open_client(settings, transport=FakeServer(lambda r, n: ok({})).transport()) as b,
    ):
        assert all(a.limiter(budget) is not b.limiter(budget) for budget in BUDGETS)


def test_a_frozen_clock_without_a_fake_sleep_keeps_the_real_time_limiters() -> None:
    frozen = FakeClock()
    flags = {"source": "sandbox", "rate_limit": 100, "allow_unsafe_rate_limit": True}
    settings = load_settings(None, env={}, flags=flags)
    sandbox = Sandbox("tiny", seed=1)
    with open_client(settings, transport=sandbox.transport(), clock=frozen) as client:
        for _ in range(30):  # on the frozen clock these would wait 0.01 s, 0.02 s, ... 0.3 s
            client.app("GET", "/v1/workspaces")
        # limiters on real time wait at most one interval each; on the frozen clock the
        # waits would add up to 0 + 1 + ... + 29 = 435 intervals
        assert client.log.snapshot().wait_seconds <= 31 * client.limiter("app").interval
