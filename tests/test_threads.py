"""The run's one thread budget: bounded, and never starved by work that submits work."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from cio_replicate.extract.streams import interleave
from cio_replicate.threads import Threads


def test_work_that_submits_work_to_a_full_budget_runs_it_itself() -> None:
    # One thread: the outer call holds it and fans out again on the same budget.
    # A bounded pool that queued the inner calls would wait for ever.
    with Threads(1) as threads:
        names: set[str] = set()

        def inner(i: int) -> int:
            names.add(threading.current_thread().name)
            return i * i

        def outer(n: int) -> list[int]:
            return list(threads.map(inner, range(n)))

        assert list(threads.map(outer, [3, 4])) == [[0, 1, 4], [0, 1, 4, 9]]
        assert len(names) >= 1


def test_map_keeps_input_order_and_raises_the_first_error() -> None:
    def fn(i: int) -> int:
        if i == 5:
            raise ValueError("five")
        return i

    with Threads(3) as threads:
        got: list[int] = []
        with pytest.raises(ValueError, match="five"):
            for value in threads.map(fn, range(20)):
                got.append(value)
        assert got == [0, 1, 2, 3, 4]


def test_streams_on_a_shared_budget_use_at_most_its_threads() -> None:
    lock = threading.Lock()
    live = {"now": 0, "peak": 0}
    names: set[str] = set()

    def stream(key: str) -> Iterator[str]:
        with lock:
            live["now"] += 1
            live["peak"] = max(live["peak"], live["now"])
            names.add(threading.current_thread().name)
        try:
            for i in range(5):
                yield f"{key}{i}"
        finally:
            with lock:
                live["now"] -= 1

    with Threads(2, name="budget") as threads:
        sources = [(k, lambda k=k: stream(k)) for k in "abcdef"]
        got = list(interleave(sources, 4, threads=threads))
    assert sorted(got) == sorted((k, f"{k}{i}") for k in "abcdef" for i in range(5))
    assert live["peak"] <= 2
    assert all(n.startswith("budget") for n in names)


def test_a_stream_runs_in_the_consumer_when_the_budget_has_no_thread() -> None:
    release = threading.Event()
    with Threads(1) as threads:
        busy = threads.try_submit(release.wait)  # the budget's only thread is taken
        assert busy is not None
        assert threads.try_submit(lambda: None) is None
        seen: set[str] = set()

        def stream() -> Iterator[int]:
            seen.add(threading.current_thread().name)
            yield from range(3)

        got = list(interleave([("a", stream), ("b", stream)], 4, threads=threads))
        release.set()
    assert got == [("a", 0), ("a", 1), ("a", 2), ("b", 0), ("b", 1), ("b", 2)]
    assert seen == {threading.current_thread().name}
