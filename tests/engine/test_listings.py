"""Parent listings are read once per run and shared by the objects that fan out over them."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator

import pytest

from cio_replicate.extract.cache import ListingCache

from .conftest import Harness
from .expected import DEFAULT_TABLES, check_tables

PARENTS = ["/v1/segments", "/v1/campaigns", "/v1/broadcasts", "/v1/newsletters",
           "/v1/transactional", "/v1/object_types"]  # fmt: skip


def test_each_parent_listing_is_read_once_per_run(harness: Harness) -> None:
    report = harness.run()
    assert report.status == "success", report.failed
    calls = Counter(r.path for r in harness.sandbox.requests if r.method == "GET")
    assert {path: calls[path] for path in PARENTS} == dict.fromkeys(PARENTS, 1)
    assert check_tables(harness.url, harness.sandbox.workspace, DEFAULT_TABLES) == {}
    # and once again in the next run (the cache lives for one run)
    harness.run()
    calls = Counter(r.path for r in harness.sandbox.requests if r.method == "GET")
    assert {path: calls[path] for path in PARENTS} == dict.fromkeys(PARENTS, 2)


def _pages(n: int, per_page: int, log: list[str], name: str) -> Iterator[list[int]]:
    for i in range(n):
        log.append(name)
        yield list(range(i * per_page, (i + 1) * per_page))


def test_small_listing_is_fetched_once_even_by_readers_at_the_same_time() -> None:
    cache = ListingCache(max_records=100)
    log: list[str] = []
    results: list[list[list[int]]] = []
    gate = threading.Barrier(4)

    def reader() -> None:
        gate.wait()
        results.append(list(cache.read("k", lambda: _pages(3, 10, log, "k"), lambda p: p)))

    threads = [threading.Thread(target=reader) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert log == ["k"] * 3  # three pages fetched, once
    assert all(r == results[0] for r in results) and len(results) == 4
    assert sum(len(p) for p in results[0]) == 30


def test_a_listing_too_big_to_keep_streams_and_others_read_it_themselves() -> None:
    cache = ListingCache(max_records=15)
    log: list[str] = []
    first = list(cache.read("k", lambda: _pages(3, 10, log, "a"), lambda p: p))
    second = list(cache.read("k", lambda: _pages(3, 10, log, "b"), lambda p: p))
    assert first == second and sum(len(p) for p in first) == 30
    assert log == ["a"] * 3 + ["b"] * 3


def test_a_failed_read_is_not_kept() -> None:
    cache = ListingCache()

    def broken() -> Iterator[list[int]]:
        yield [1]
        raise RuntimeError("API down")

    with pytest.raises(RuntimeError):
        list(cache.read("k", broken, lambda p: p))
    log: list[str] = []
    assert list(cache.read("k", lambda: _pages(1, 2, log, "k"), lambda p: p)) == [[0, 1]]
    assert log == ["k"]
