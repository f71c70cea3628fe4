"""Paginated children of several parents streamed at once (NewsletterMessages).

The sandbox is reached through a transport that adds a little latency and counts
how many ``.../messages`` requests are open at the same time, so concurrency is
observed from the server's side. Resume positions are taken from the batches the
extraction yields, as the engine commits them.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextvars import ContextVar
from pathlib import Path
from typing import Any

import httpx
import pytest

from cio_replicate.catalog import get_object
from cio_replicate.config import load_settings
from cio_replicate.connect import open_client
from cio_replicate.errors import ApiError
from cio_replicate.extract import EARLIEST, Batch, ExtractContext, extract, key_of
from cio_replicate.extract.filters import parse_filters
from cio_replicate.http import CioClient
from cio_replicate.load import Target
from cio_replicate.positions import read_at
from cio_replicate.sandbox import Sandbox

from .conftest import Harness
from .expected import actual, check_tables, expected

SPEC = get_object("NewsletterMessages")
BATCH = 20
"""Records per page: the demo workspace's newsletters then have 4 to 10 pages of messages."""

SCOPE: ContextVar[str | None] = ContextVar("test_fanout_scope", default=None)


class Watch:
    """In front of the sandbox: latency, open message requests, and a way to refuse one."""

    def __init__(self, sb: Sandbox, latency: float = 0.003) -> None:
        self.sb = sb
        self.latency = latency
        self.lock = threading.Lock()
        self.open = 0
        self.peak = 0
        self.scopes: set[str | None] = set()
        self.refuse: str | None = None
        """A path answered 403 (with a start token: from its second page on)."""

    def handle(self, request: httpx.Request) -> httpx.Response:
        counted = request.url.path.endswith("/messages")
        with self.lock:
            self.scopes.add(SCOPE.get())
            if counted:
                self.open += 1
                self.peak = max(self.peak, self.open)
        try:
            time.sleep(self.latency)
            if request.url.path == self.refuse and request.url.params.get("start"):
                return httpx.Response(403, json={"errors": [{"detail": "no", "status": "403"}]})
            return self.sb.handle(request)
        finally:
            if counted:
                with self.lock:
                    self.open -= 1

    def message_calls(self) -> list[str]:
        return [r.path for r in self.sb.requests if r.path.endswith("/messages")]


def client(sb: Sandbox, watch: Watch, concurrency: int) -> CioClient:
    settings = load_settings(
        None,
        env={},
        flags={"rate_limit": 1e6, "allow_unsafe_rate_limit": True, "concurrency": concurrency},
    )
    return open_client(
        settings, transport=httpx.MockTransport(watch.handle), clock=sb.clock, sleep=lambda s: None
    )


def context(
    cl: CioClient, sb: Sandbox, resume: Any = None, warnings: list[str] | None = None, **kw: Any
) -> ExtractContext:
    return ExtractContext(
        client=cl,
        spec=SPEC,
        floor=None,
        until=sb.clock.now(),
        resume=read_at(resume),
        batch_size=BATCH,
        warn=(warnings if warnings is not None else []).append,
        **kw,
    )


def ids(batches: list[Batch]) -> list[str]:
    return [str(r["id"]) for b in batches for r in b.records]


def all_ids(sb: Sandbox) -> list[str]:
    return sorted(k[0] for k in expected(sb.workspace, "newsletter_messages"))


@pytest.fixture
def demo() -> Iterator[tuple[Sandbox, Watch, CioClient]]:
    sb = Sandbox("demo", seed=1)
    watch = Watch(sb)
    cl = client(sb, watch, 4)
    yield sb, watch, cl
    cl.close()


def test_concurrency_4_loads_the_rows_of_concurrency_1_with_requests_in_parallel(
    tmp_path: Path,
) -> None:
    rows, peaks, calls = {}, {}, {}
    for concurrency in (1, 4):
        sb = Sandbox("demo", seed=1)
        watch = Watch(sb)
        cl = client(sb, watch, concurrency)
        url = f"sqlite:///{tmp_path}/c{concurrency}.db"
        target = Target(url, clock=sb.clock)
        try:
            report = Harness(sb, url, cl, target, batch_size=BATCH).run(["NewsletterMessages"])
        finally:
            cl.close()
            target.dispose()
        assert report.status == "success", report
        assert check_tables(url, sb.workspace, ["newsletter_messages"]) == {}
        rows[concurrency] = actual(url, "newsletter_messages")
        peaks[concurrency] = watch.peak
        calls[concurrency] = sorted(watch.message_calls())
    assert rows[4] == rows[1] and len(rows[1]) == len(all_ids(Sandbox("demo", seed=1)))
    assert calls[4] == calls[1]  # the same pages, no page read twice
    assert len(set(calls[1])) >= 8  # several newsletters, each of several pages
    assert peaks[1] == 1
    assert 1 < peaks[4] <= 4


def test_kill_after_any_batch_then_resume_reads_each_message_once(
    demo: tuple[Sandbox, Watch, CioClient],
) -> None:
    sb, _watch, cl = demo
    full = list(extract(context(cl, sb)))
    assert sorted(ids(full)) == all_ids(sb)
    assert full[-1].done and not any(b.done for b in full[:-1])
    several_in_progress = False
    for stop in range(1, len(full), 3):
        batches = extract(context(cl, sb))
        taken = [next(batches) for _ in range(stop)]
        batches.close()  # killed after the stop-th commit
        resume = json.loads(json.dumps(taken[-1].resume.to_json()))  # type: ignore[union-attr]  # as the state table keeps it
        assert "child" not in resume
        several_in_progress |= len(resume["children"]) > 1
        rest = list(extract(context(cl, sb, resume)))
        assert sorted(ids(taken) + ids(rest)) == all_ids(sb), stop  # none missing, none twice
    assert several_in_progress  # the position holds several newsletters in progress


def test_resume_of_the_previous_version_child_form_is_read(
    demo: tuple[Sandbox, Watch, CioClient],
) -> None:
    sb, _watch, cl = demo
    until = sb.clock.now()
    first_page = next(
        cl.paginate(
            "GET",
            "/v1/newsletters/27/messages",
            envelope="messages",
            params={"start_ts": EARLIEST, "end_ts": until},
            page_size=BATCH,
        )
    )
    assert first_page.next
    old = {
        "pstart": None,
        "done": [key_of({"id": 3}, ("id",))],
        "child": {"parent": key_of({"id": 27}, ("id",)), "start": first_page.next},
        "window": [EARLIEST, until],
    }
    got = ids(list(extract(context(cl, sb, old))))
    ws = sb.workspace
    skipped = {str(r["id"]) for r in first_page.records}
    want = [
        str(m["id"])
        for m in expected(ws, "newsletter_messages").values()
        if m["newsletter_id"] != 3 and str(m["id"]) not in skipped
    ]
    assert sorted(got) == sorted(want)


def test_a_refused_saved_token_restarts_that_newsletter(
    demo: tuple[Sandbox, Watch, CioClient],
) -> None:
    sb, _watch, cl = demo
    warnings: list[str] = []
    resume = {
        "pstart": None,
        "done": [key_of({"id": 3}, ("id",))],
        "children": {key_of({"id": 27}, ("id",)): "not-a-token"},
        "window": None,
    }
    got = ids(list(extract(context(cl, sb, resume, warnings))))
    want = [
        str(m["id"])
        for m in expected(sb.workspace, "newsletter_messages").values()
        if m["newsletter_id"] != 3
    ]
    assert sorted(got) == sorted(want)  # 27 read whole, once
    assert any("saved page token was refused" in w for w in warnings), warnings


def test_a_vanished_newsletter_is_skipped_the_others_are_read(
    demo: tuple[Sandbox, Watch, CioClient],
) -> None:
    sb, _watch, cl = demo
    warnings: list[str] = []
    filters = parse_filters(["NewsletterMessages.newsletter_id=3,999,27"])
    got = ids(list(extract(context(cl, sb, None, warnings, filters=filters))))
    want = [
        str(m["id"])
        for m in expected(sb.workspace, "newsletter_messages").values()
        if m["newsletter_id"] in (3, 27)
    ]
    assert sorted(got) == sorted(want)
    assert any("/v1/newsletters/999/messages answered 404" in w for w in warnings), warnings


def test_closing_early_stops_every_stream_thread(demo: tuple[Sandbox, Watch, CioClient]) -> None:
    sb, watch, cl = demo
    before = threading.active_count()
    token = SCOPE.set("NewsletterMessages")
    try:
        batches = extract(context(cl, sb))
        first = [next(batches) for _ in range(3)]
    finally:
        SCOPE.reset(token)
    assert all(b.records for b in first)
    assert watch.peak > 1  # several newsletters were being read
    batches.close()
    assert threading.active_count() == before  # joined, none left blocked on a full queue
    seen = len(sb.requests)
    time.sleep(0.05)
    assert len(sb.requests) == seen  # and no request after the close
    # Every request ran in a copy of the consumer's context (per-object call counts).
    assert watch.scopes == {"NewsletterMessages"}


def test_an_error_in_one_stream_fails_the_extraction_and_stops_the_others(
    demo: tuple[Sandbox, Watch, CioClient],
) -> None:
    sb, watch, cl = demo
    watch.refuse = "/v1/newsletters/27/messages"
    before = threading.active_count()
    with pytest.raises(ApiError) as err:
        list(extract(context(cl, sb)))
    assert err.value.status == 403
    assert threading.active_count() == before
    seen = len(sb.requests)
    time.sleep(0.05)
    assert len(sb.requests) == seen


# --- cio_replicate.extract.streams on its own -----------------------------------------


def _counting(key: str, n: int, made: list[str], delay: float = 0.002) -> Iterator[str]:
    for i in range(n):
        time.sleep(delay)
        made.append(key)
        yield f"{key}{i}"


def test_interleave_yields_every_item_in_stream_order_up_to_width_at_once() -> None:
    from cio_replicate.extract.streams import interleave

    lock = threading.Lock()
    live = {"now": 0, "peak": 0}

    def stream(key: str) -> Iterator[str]:
        with lock:
            live["now"] += 1
            live["peak"] = max(live["peak"], live["now"])
        try:
            yield from _counting(key, 5, [])
        finally:
            with lock:
                live["now"] -= 1

    keys = [f"k{i}" for i in range(7)]
    got = list(interleave([(k, lambda k=k: stream(k)) for k in keys], 3))
    assert sorted(got) == sorted((k, f"{k}{i}") for k in keys for i in range(5))
    for k in keys:
        assert [item for key, item in got if key == k] == [f"{k}{i}" for i in range(5)]
    assert 1 < live["peak"] <= 3
    firsts = [item for _key, item in got[:6]]
    assert len({item[:2] for item in firsts}) > 1  # arrival order, not one stream after another


def test_interleave_width_1_runs_the_streams_in_turn_in_the_callers_thread() -> None:
    from cio_replicate.extract.streams import interleave

    threads: set[str] = set()

    def stream(key: str) -> Iterator[int]:
        for i in range(3):
            threads.add(threading.current_thread().name)
            yield i

    got = list(interleave([(k, lambda k=k: stream(k)) for k in "abc"], 1))
    assert got == [(k, i) for k in "abc" for i in range(3)]
    assert threads == {threading.current_thread().name}


def test_interleave_raises_a_streams_error_and_joins_every_thread() -> None:
    from cio_replicate.extract.streams import interleave

    def broken() -> Iterator[str]:
        yield "x"
        raise ValueError("boom")

    before = threading.active_count()
    sources = [("ok", lambda: _counting("ok", 1000, [])), ("bad", broken)]
    with pytest.raises(ValueError, match="boom"):
        list(interleave(sources, 4))
    assert threading.active_count() == before


def test_interleave_holds_a_bounded_number_of_items_and_stops_on_close() -> None:
    from cio_replicate.extract.streams import interleave

    made: list[str] = []
    before = threading.active_count()
    width, depth = 3, 2
    merged = interleave(
        [(k, lambda k=k: _counting(k, 10**9, made, 0)) for k in "abcde"], width, depth=depth
    )
    next(merged)
    time.sleep(0.2)  # the consumer is busy: the streams fill the queue, then wait
    assert threading.active_count() == before + width
    assert len(made) <= width * (depth + 1) + 1
    merged.close()
    assert threading.active_count() == before
    stopped = len(made)
    time.sleep(0.1)
    assert len(made) == stopped


def test_interleave_runs_each_stream_in_a_copy_of_the_callers_context() -> None:
    from cio_replicate.extract.streams import interleave

    def stream() -> Iterator[str | None]:
        yield SCOPE.get()

    token = SCOPE.set("Messages")
    try:
        merged = interleave([(i, stream) for i in range(4)], 2)
        got = list(merged)
    finally:
        SCOPE.reset(token)
    assert [scope for _i, scope in got] == ["Messages"] * 4
