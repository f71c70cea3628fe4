"""Watermarks never pass the earliest read of what they cover (issue 9, item 1).

A fan-out over parents that fails part way commits the parents it finished;
the next run resumes after them. A record added meanwhile to a parent read
before the failure must still be loaded by a later run, whatever records the
resumed run reads for the other parents, and whether our clock agrees with
the source's or runs ahead of it (as with ``cio-replicate sandbox serve``,
whose clock starts at the sandbox's epoch). Append-only objects re-read the
lookback overlap, so a record the source lists late is loaded too.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator, Sequence
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from cio_replicate.config import load_settings
from cio_replicate.connect import open_client
from cio_replicate.engine import Progress, RunOptions, RunReport, Services, replicate
from cio_replicate.http import CioClient
from cio_replicate.load import Target
from cio_replicate.sandbox import Sandbox

from .expected import check_tables

AHEAD = 300 * 86_400
"""Our clock ahead of the source's: the served sandbox's clock starts at its epoch."""
GAP = 2 * 3600
"""Between two source changes: more than the lookback, so the overlap re-read alone
cannot hide a watermark that moved too far."""


class Failing:
    """In front of the sandbox: the paths in ``fail`` answer 503 (every retry too)."""

    def __init__(self, sb: Sandbox) -> None:
        self.sb = sb
        self.fail: set[str] = set()

    def handle(self, request: httpx.Request) -> httpx.Response:
        if request.url.path in self.fail:
            return httpx.Response(503, text="<html>upstream unavailable</html>")
        return self.sb.handle(request)


class Runs:
    """Replicate against one sandbox and target with our clock ``skew`` seconds ahead."""

    def __init__(self, sb: Sandbox, url: str, *, skew: int, batch_size: int) -> None:
        self.sb = sb
        self.url = url
        self.front = Failing(sb)
        settings = load_settings(
            None,
            env={},
            flags={"rate_limit": 1e6, "allow_unsafe_rate_limit": True, "concurrency": 1},
        )
        self.client: CioClient = open_client(
            settings,
            transport=httpx.MockTransport(self.front.handle),
            clock=sb.clock,
            sleep=lambda s: None,
        )
        self.target = Target(url, clock=sb.clock)
        self.skew = skew
        self.batch_size = batch_size

    def our_clock(self) -> float:
        return self.sb.clock() + self.skew

    def run(self, objects: Sequence[str]) -> RunReport:
        svc = Services(
            client=self.client,
            requests=self.client.log,
            target=self.target,
            clock=self.our_clock,
            progress=Progress(io.StringIO(), live=False),
            batch_size=self.batch_size,
        )
        return replicate(svc, RunOptions(objects=objects))

    def resume(self, name: str) -> Any:
        engine = sa.create_engine(self.url)
        try:
            with engine.connect() as conn:
                raw = conn.execute(
                    sa.text("SELECT resume FROM _cio_state WHERE object_name = :n"), {"n": name}
                ).scalar()
        finally:
            engine.dispose()
        return None if raw is None else json.loads(raw)

    def close(self) -> None:
        self.client.close()
        self.target.dispose()


@pytest.fixture
def make_runs(db_url: str) -> Iterator[Any]:
    made: list[Runs] = []

    def make(sb: Sandbox, *, skew: int = 0, batch_size: int = 5) -> Runs:
        runs = Runs(sb, db_url, skew=skew, batch_size=batch_size)
        made.append(runs)
        return runs

    yield make
    for runs in made:
        runs.close()


def _parents_done(resume: Any) -> set[str]:
    """The parent keys a committed fan-out position lists as finished."""
    return {json.loads(k)[0] for k in resume["at"]["done"]}


@pytest.mark.parametrize("skew", [0, AHEAD], ids=["clocks-agree", "our-clock-ahead"])
def test_a_resumed_per_person_run_keeps_new_activities_of_people_read_before(
    make_runs: Any, skew: int
) -> None:
    sb = Sandbox("tiny", seed=1)
    ws = sb.workspace
    runs = make_runs(sb, skew=skew)
    people = list(ws.iter_people())
    broken = people[12]
    runs.front.fail = {f"/v1/customers/cio_{broken.cio_id}/activities"}

    first = runs.run(["CustomerActivities"])
    assert first.status != "success"
    done = _parents_done(runs.resume("CustomerActivities"))
    read_before = next(p for p in people if p.cio_id in done)
    read_after = next(p for p in people[13:] if p.cio_id not in done)

    sb.clock.advance(GAP)
    early = ws.add_activity(read_before, "event", "purchase", {"n": 1})
    sb.clock.advance(GAP)
    late = ws.add_activity(read_after, "event", "purchase", {"n": 2})
    runs.front.fail = set()
    assert runs.run(["CustomerActivities"]).status == "success"  # resumes after `done`
    sb.clock.advance(60)
    assert runs.run(["CustomerActivities"]).status == "success"
    assert runs.run(["CustomerActivities"]).status == "success"
    assert check_tables(runs.url, ws, ["customer_activities"]) == {}, (early["id"], late["id"])


@pytest.mark.parametrize("skew", [0, AHEAD], ids=["clocks-agree", "our-clock-ahead"])
def test_a_resumed_newsletter_run_keeps_new_messages_of_newsletters_read_before(
    make_runs: Any, skew: int
) -> None:
    sb = Sandbox("tiny", seed=1)
    ws = sb.workspace
    runs = make_runs(sb, skew=skew)
    runs.front.fail = {"/v1/newsletters/7/messages"}

    first = runs.run(["NewsletterMessages"])
    assert first.status != "success"
    assert _parents_done(runs.resume("NewsletterMessages")) == {3}

    person = next(iter(ws.iter_people()))
    sb.clock.advance(GAP)
    ws.add_message(ws.sources_of("newsletter", 3)[0], person)  # read before the failure
    sb.clock.advance(GAP)
    ws.add_message(ws.sources_of("newsletter", 11)[0], person)  # not read yet
    runs.front.fail = set()
    assert runs.run(["NewsletterMessages"]).status == "success"
    sb.clock.advance(60)
    assert runs.run(["NewsletterMessages"]).status == "success"
    assert runs.run(["NewsletterMessages"]).status == "success"
    assert check_tables(runs.url, ws, ["newsletter_messages"]) == {}


def test_a_resume_position_of_an_earlier_version_keeps_the_watermark(make_runs: Any) -> None:
    """Positions written before ``since`` existed: the watermark does not move past the
    one stored (without a window) and the next run reads from there again."""
    sb = Sandbox("tiny", seed=1)
    ws = sb.workspace
    runs = make_runs(sb)
    assert runs.run(["CustomerActivities"]).status == "success"
    people = list(ws.iter_people())
    runs.front.fail = {f"/v1/customers/cio_{people[12].cio_id}/activities"}
    sb.clock.advance(3600 * 5)
    assert runs.run(["CustomerActivities"]).status != "success"
    engine = sa.create_engine(runs.url)
    try:
        with engine.begin() as conn:
            row = conn.execute(
                sa.text("SELECT watermark, resume FROM _cio_state WHERE object_name = :n"),
                {"n": "CustomerActivities"},
            ).one()
            old = {k: v for k, v in json.loads(row.resume).items() if k != "since"}
            conn.execute(
                sa.text("UPDATE _cio_state SET resume = :r WHERE object_name = :n"),
                {"r": json.dumps(old), "n": "CustomerActivities"},
            )
    finally:
        engine.dispose()
    done = _parents_done(old)
    read_before = next(p for p in people if p.cio_id in done)
    sb.clock.advance(GAP)
    ws.add_activity(read_before, "event", "purchase", {"n": 1})
    sb.clock.advance(GAP)
    ws.add_activity(people[20], "event", "purchase", {"n": 2})
    runs.front.fail = set()
    assert runs.run(["CustomerActivities"]).status == "success"
    engine = sa.create_engine(runs.url)
    try:
        with engine.connect() as conn:
            kept = conn.execute(
                sa.text("SELECT watermark FROM _cio_state WHERE object_name = :n"),
                {"n": "CustomerActivities"},
            ).scalar()
    finally:
        engine.dispose()
    assert kept == row.watermark
    assert runs.run(["CustomerActivities"]).status == "success"
    assert check_tables(runs.url, ws, ["customer_activities"]) == {}


# --- late-listed records ----------------------------------------------------------------


def test_a_message_listed_late_within_the_lookback_is_loaded(make_runs: Any) -> None:
    sb = Sandbox("tiny", seed=1)
    ws = sb.workspace
    runs = make_runs(sb, batch_size=1000)
    assert runs.run(["Messages"]).status == "success"
    person = next(iter(ws.iter_people()))
    source = ws.messages.sources[0]
    sb.clock.advance(60)
    hidden = ws.add_message(source, person, visible_after=600)  # indexed 10 minutes late
    sb.clock.advance(60)
    ws.add_message(source, person)
    assert runs.run(["Messages"]).status == "success"  # the watermark passes `hidden`
    sb.clock.advance(1200)
    report = runs.run(["Messages"])
    assert report.status == "success" and report.results[0].inserted == 1, hidden["id"]
    assert check_tables(runs.url, ws, ["messages"]) == {}
    again = runs.run(["Messages"])  # the overlap is read again, nothing is written twice
    assert again.status == "success" and again.results[0].inserted == 0


def test_an_activity_listed_late_within_the_lookback_is_loaded(make_runs: Any) -> None:
    sb = Sandbox("tiny", seed=1)
    ws = sb.workspace
    runs = make_runs(sb, batch_size=1000)
    assert runs.run(["CustomerActivities"]).status == "success"
    people = list(ws.iter_people())
    sb.clock.advance(60)
    ws.add_activity(people[3], "event", "late", {"n": 1}, visible_after=600)
    sb.clock.advance(60)
    ws.add_activity(people[4], "event", "on_time", {"n": 2})
    assert runs.run(["CustomerActivities"]).status == "success"
    sb.clock.advance(1200)
    report = runs.run(["CustomerActivities"])
    assert report.status == "success" and report.results[0].inserted == 1
    assert check_tables(runs.url, ws, ["customer_activities"]) == {}


# --- the source's clock -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("date", "want"),
    [
        ("Thu, 01 Jan 2026 00:00:00 GMT", 1_767_225_600 + 5.0),
        (None, None),  # no Date header: our clock stands in (state.source_start)
        ("not a date", None),
    ],
)
def test_the_client_learns_the_sources_clock_from_the_date_header(
    date: str | None, want: float | None
) -> None:
    ours = [1_800_000_000.0]

    def answer(request: httpx.Request) -> httpx.Response:
        headers = {"Date": date} if date else {}
        return httpx.Response(200, json={"campaigns": []}, headers=headers)

    settings = load_settings(
        None, env={}, flags={"rate_limit": 1e6, "allow_unsafe_rate_limit": True}
    )
    client = open_client(
        settings, transport=httpx.MockTransport(answer), clock=lambda: ours[0], sleep=lambda s: None
    )
    try:
        client.app("GET", "/v1/campaigns")
        ours[0] += 5.0
        assert client.source_time() == want
    finally:
        client.close()
