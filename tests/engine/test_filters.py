"""Selection and filters: defaults, parents listed first, pushdown to the API, and
filtered runs that never move a watermark nor shrink a table."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from cio_replicate.catalog import CATALOG
from cio_replicate.errors import UsageError
from cio_replicate.extractors.filters import Filter, parse_filter

from .conftest import Harness
from .expected import actual, check_tables, expected


def test_filter_syntax() -> None:
    assert parse_filter("campaigns.id=3,7") == Filter("Campaigns", "id", ("3", "7"))
    assert parse_filter("Customers.Favorite Color=red\\,blue") == Filter(
        "Customers", "Favorite Color", ("red,blue",)
    )
    for bad in ("Campaigns", "Campaigns.id", "Nope.id=1", "Campaigns.id="):
        with pytest.raises(UsageError):
            parse_filter(bad)


def _watermark(url: str, name: str) -> object:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return conn.execute(
                sa.text("SELECT watermark FROM _cio_state WHERE object_name = :n"), {"n": name}
            ).scalar()
    finally:
        engine.dispose()


def test_default_selection_and_all(harness: Harness) -> None:
    default = harness.run()
    names = [r.name for r in default.results]
    per_person = [s.name for s in CATALOG if s.per_person]
    assert per_person and names == [s.name for s in CATALOG if s.name not in per_person]
    everything = harness.run(["ALL"])
    assert [r.name for r in everything.results] == [s.name for s in CATALOG]


def test_people_filter_is_pushed_down(harness: Harness) -> None:
    h = harness
    report = h.run(["Customers"], filters=["Customers.email=person3@example.com"])
    assert report.status == "success"
    searches = [r for r in h.sandbox.requests if r.path == "/v1/customers"]
    assert searches and all(
        r.body
        == {
            "filter": {
                "and": [
                    {
                        "attribute": {
                            "field": "email",
                            "operator": "eq",
                            "value": "person3@example.com",
                        }
                    }
                ]
            }
        }  # fmt: skip
        for r in searches
    )
    rows = actual(h.url, "customers")
    assert {r["email"].lower() for r in rows.values()} == {"person3@example.com"}
    assert _watermark(h.url, "Customers") is None  # a filtered run moves no watermark
    assert "filtered" in (report.results[0].message or "")


def test_parent_id_filter_skips_the_parent_listing(harness: Harness) -> None:
    h = harness
    ws = h.sandbox.workspace
    campaign = ws.records("campaigns")[1]["id"]
    h.run(["CampaignActions"], filters=[f"Campaigns.id={campaign}"])
    paths = [r.path for r in h.sandbox.requests]
    assert "/v1/campaigns" not in paths
    assert {p for p in paths if p.startswith("/v1/campaigns/")} == {
        f"/v1/campaigns/{campaign}/actions"
    }
    want = {a["id"] for a in ws.campaign_actions(campaign)}
    assert {r["id"] for r in actual(h.url, "campaign_actions").values()} == want
    # The same through the child's own column.
    before = len(h.sandbox.requests)
    h.run(["CampaignActions"], filters=[f"CampaignActions.campaign_id={campaign}"])
    assert "/v1/campaigns" not in [r.path for r in h.sandbox.requests[before:]]


def test_filtered_full_refresh_object_keeps_the_rest_of_its_table(harness: Harness) -> None:
    h = harness
    ws = h.sandbox.workspace
    h.run(["NewsletterVariants"])
    newsletter = ws.records("newsletters")[0]["id"]
    h.sandbox.clock.advance(60)
    content = ws.newsletter_contents(newsletter)[0]["id"]
    ws.update_record("contents", content, {"subject": "Filtered update"})
    report = h.run(["NewsletterVariants"], filters=[f"Newsletters.id={newsletter}"])
    assert report.results[0].updated == 1 and report.results[0].deleted == 0
    assert check_tables(h.url, ws, ["newsletter_variants"]) == {}


def test_per_person_child_prints_an_estimate_and_fans_out_over_the_filter(
    harness: Harness,
) -> None:
    h = harness
    ws = h.sandbox.workspace
    report = h.run(["CustomerSegments"], filters=["Customers.segment=1"])
    assert report.status == "success"
    members = [ident for _, ident in ws.segment_members(1)]
    assert h.progress is not None
    assert f"{len(members):,} people" in h.progress.getvalue()
    person_calls = [r for r in h.sandbox.requests if r.path.endswith("/segments")]
    assert len(person_calls) == len(members)
    want = {k: v for k, v in expected(ws, "customer_segments").items()
            if k[0] in {m.cio_id for m in members}}  # fmt: skip
    got = actual(h.url, "customer_segments")
    assert set(got) == set(want)
