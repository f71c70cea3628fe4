"""Selection and filters: defaults, parents listed first, pushdown to the API, and
filtered runs that never move a watermark nor shrink a table."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest
import sqlalchemy as sa

from cio_replicate.catalog import CATALOG
from cio_replicate.cli import main
from cio_replicate.errors import UsageError
from cio_replicate.extract.filters import Filter, parse_filter

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
    on_request = [s.name for s in CATALOG if s.on_request]
    left_out = per_person + on_request
    assert (
        per_person and on_request and names == [s.name for s in CATALOG if s.name not in left_out]
    )
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


# --- mistakes are errors (exit 2), never a run that matches nothing -------------


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("Campaigns.idd=3", r"Campaigns has no field 'idd'; did you mean 'id'\? \(fields: id, "),
        ("Campaigns.id=abc", r"id is an integer, not 'abc'"),
        ("Campaigns.id=3,x7", r"id is an integer, not 'x7'"),
        ("Customers.segment=vip", r"segment is an integer, not 'vip'"),
        ("Messages.created=2024-01-01", r"created is a unix timestamp \(seconds\)"),
        ("Campaigns.active=maybe", r"active is true or false"),
        ("Campaigns.tags=x", r"tags holds nested JSON"),
        ("Campains.id=3", r"unknown object 'Campains'; did you mean 'Campaigns'\?"),
        ("campaign_action.id=3", r"did you mean 'CampaignActions'\?"),
    ],
)
def test_filter_mistakes_are_usage_errors(text: str, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        parse_filter(text)


def test_filter_values_read_as_the_field_reads() -> None:
    assert parse_filter("Campaigns.id=03,+7").values == ("3", "7")
    assert parse_filter("Campaigns.active=TRUE").values == ("true",)
    # people and custom objects: any attribute name is a field
    assert parse_filter("Customers.plan=pro") == Filter("Customers", "plan", ("pro",))
    assert parse_filter("Objects.Industry Type=x").field == "Industry Type"


def test_every_field_the_sandbox_returns_is_documented() -> None:
    """The declared fields (catalog.fields) cover what the API returns, with their kinds,
    so a filter on a real field is never refused."""
    from cio_replicate.catalog import CATALOG
    from cio_replicate.catalog.fields import OPEN, fields_of
    from cio_replicate.extract.filters import Filters
    from cio_replicate.sandbox import Sandbox
    from cio_replicate.writeback.export import records

    from .conftest import client_for

    sandbox = Sandbox("tiny", seed=1)
    gone = sandbox.workspace.people.get(0)  # DeletedPeopleActivities needs someone deleted
    assert gone is not None
    sandbox.workspace.delete_person(gone)
    client = client_for(sandbox)
    kinds = {"int": (int,), "time": (int,), "bool": (bool,), "text": (str,), "json": (list, dict)}
    kinds["json_text"] = (str,)
    for spec in CATALOG:
        declared = fields_of(spec.name)
        seen = 0
        for record in records(client, spec, Filters(), int(sandbox.clock())):
            seen += 1
            for name, value in record.items():
                if name not in declared:
                    assert spec.name in OPEN, f"{spec.name}.{name} is not declared"
                    continue
                kind = declared[name]
                if value is None or kind == "any":
                    continue
                ok = isinstance(value, kinds[kind]) and not (
                    kind in ("int", "time") and isinstance(value, bool)
                )
                assert ok, (spec.name, name, kind, value)
                if kind == "json_text":
                    json.loads(value)  # a JSON document inside a string
        assert seen, spec.name


def _cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *args: str) -> int:
    """``cio-replicate ARGS`` with no configuration (the in-process demo sandbox)."""
    for name in list(os.environ):
        if name.startswith("CIO_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    return main(list(args))


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["Segments", "--filter", "Campaigns.id=2"], "restricts Campaigns, which this run does "
         "not read (it reads Segments); name Campaigns (or one of its children)"),
        (["--filter", "Campaigns.idd=2"], "did you mean 'id'?"),
        (["Campaigns", "--filter", "Campaigns.id=abc"], "id is an integer, not 'abc'"),
        (["--filter", "CustomerSegments.cio_id=x"], "restricts CustomerSegments"),
        (["Segmnts"], "unknown object 'Segmnts'; did you mean 'Segments'?"),
    ],
)  # fmt: skip
def test_replicate_refuses_a_filter_mistake_before_anything_runs(
    args: list[str],
    message: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    code = _cli(tmp_path, monkeypatch, "replicate", *args, "--target-url", "sqlite:///t.db")
    err = capsys.readouterr().err
    assert code == 2, err
    assert message in err and err.count("error: ") == 1 and "Traceback" not in err
    assert not (tmp_path / "t.db").exists()  # nothing ran, nothing written


def test_the_readme_filter_examples_match_rows_in_the_demo(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`--filter "..."` examples of the README, as written, on the demo workspace."""
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    examples = re.findall(r'--filter "([A-Za-z]+)\.([^"=]+=[^"]+)"', readme)
    assert len(examples) >= 2, examples
    for obj, rest in examples:
        target = f"sqlite:///{tmp_path}/{obj}.db"
        child = {"Campaigns": ["CampaignActions"]}.get(obj, [])
        code = _cli(
            tmp_path, monkeypatch, "replicate", obj, *child,
            "--filter", f"{obj}.{rest}", "--target-url", target, "--source", "sandbox",
        )  # fmt: skip
        assert code == 0, capsys.readouterr().err
        table = {"Customers": "customers", "Campaigns": "campaigns"}[obj]
        assert actual(target, table), f"--filter {obj}.{rest}: no {table} rows in the demo"
        if child:
            assert actual(target, "campaign_actions"), "no campaign actions for the filter"
