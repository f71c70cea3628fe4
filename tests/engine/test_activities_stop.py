"""Activities: the workspace log lists newest first and takes no time filter, so a
run with a watermark stops paging at the first page that reaches below it."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import pytest

from cio_replicate.catalog import CATALOG, check_catalog, get_object
from cio_replicate.config import load_settings
from cio_replicate.connect import open_client
from cio_replicate.extract import ExtractContext, extract
from cio_replicate.load import Target
from cio_replicate.sandbox import Sandbox

from .conftest import Harness, client_for
from .expected import check_tables

PAGE = 10
"""Records per page (the harness's batch size): the tiny workspace's 80 activities are 8 pages."""


@pytest.fixture
def tiny(tmp_path: Path) -> Iterator[Harness]:
    sb = Sandbox("tiny", seed=1)
    client = client_for(sb)
    url = f"sqlite:///{tmp_path}/target.db"
    target = Target(url, clock=sb.clock)
    yield Harness(sb, url, client, target, batch_size=PAGE)
    client.close()
    target.dispose()


def _activity_calls(h: Harness, since: int) -> int:
    return sum(1 for r in h.sandbox.requests[since:] if r.path == "/v1/activities")


def test_rerun_without_change_reads_one_page_then_new_activities_are_loaded(
    tiny: Harness,
) -> None:
    h, ws = tiny, tiny.sandbox.workspace
    first = h.run(["Activities"])
    assert first.status == "success"
    assert _activity_calls(h, 0) == ws.activities.total // PAGE == 8
    assert check_tables(h.url, ws, ["activities"]) == {}

    seen = len(h.sandbox.requests)
    h.sandbox.clock.advance(600)
    again = h.run(["Activities"])
    assert again.status == "success" and again.results[0].inserted == 0
    assert _activity_calls(h, seen) == 1

    h.sandbox.clock.advance(60)
    people = [ws.people.get(i) for i in range(3)]
    for n in range(15):
        h.sandbox.clock.advance(1)
        ws.add_activity(people[n % 3], "event", f"signed_up_{n}", {"n": n})
    seen = len(h.sandbox.requests)
    third = h.run(["Activities"])
    assert third.status == "success" and third.results[0].inserted == 15
    assert _activity_calls(h, seen) == 2  # 10 new, then 5 new and the first old ones
    assert check_tables(h.url, ws, ["activities"]) == {}


def test_a_filter_the_api_cannot_apply_still_stops_at_the_floor(tiny: Harness) -> None:
    h = tiny
    h.run(["Activities"])
    seen = len(h.sandbox.requests)
    report = h.run(["Activities"], filters=["Activities.delivery_type=email"])
    assert report.status == "success"
    assert _activity_calls(h, seen) == 1


def _ascending(request: httpx.Request) -> httpx.Response:
    """A listing served oldest first (not what the API documents): 5 pages of 10."""
    start = int(request.url.params.get("start") or 0)
    page = [{"id": f"a{i}", "timestamp": 1000 + i} for i in range(start, min(start + 10, 50))]
    nxt = str(start + 10) if start + 10 < 50 else ""
    return httpx.Response(200, json={"activities": page, "next": nxt})


def test_pages_out_of_newest_first_order_are_all_read() -> None:
    settings = load_settings(
        None, env={}, flags={"rate_limit": 1e6, "allow_unsafe_rate_limit": True}
    )
    client = open_client(settings, transport=httpx.MockTransport(_ascending), sleep=lambda s: None)
    warnings: list[str] = []
    ctx = ExtractContext(
        client=client,
        spec=get_object("Activities"),
        floor=1025,
        until=2000,
        batch_size=PAGE,
        warn=warnings.append,
    )
    with client:
        batches = list(extract(ctx))
    assert sum(len(b.records) for b in batches) == 50 and batches[-1].done
    assert any("newest first" in w for w in warnings), warnings


def test_only_a_regular_listing_with_a_cursor_can_be_newest_first() -> None:
    flagged = [spec.name for spec in CATALOG if getattr(spec, "newest_first", False)]
    assert flagged == ["Activities", "DeletedPeopleActivities"]  # the same listing
    broken: dict[str, Any] = {"newest_first": True}
    for name in ("NewsletterMessages", "Customers", "Segments"):
        catalog = [replace(s, **broken) if s.name == name else s for s in CATALOG]
        assert any("newest_first" in p for p in check_catalog(catalog)), name
