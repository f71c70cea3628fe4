"""SELECT over the sandbox: answers checked against its own data, pushdowns in the calls it saw."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

import pytest

from cio_replicate.catalog import CATALOG, ObjectSpec
from cio_replicate.config import load_settings
from cio_replicate.connect import open_client
from cio_replicate.errors import UsageError
from cio_replicate.extract import Filters, key_of
from cio_replicate.http import CioClient
from cio_replicate.sandbox import Sandbox
from cio_replicate.writeback.export import records

from .conftest import Run


def _messages(sandbox: Sandbox) -> list[dict[str, object]]:
    store = sandbox.workspace.messages
    return [store.get(j) for j in range(store.total)]


def _iso(seconds: int) -> str:
    return datetime.fromtimestamp(seconds, UTC).isoformat()


def test_counts_of_plain_listings(run: Run, sandbox: Sandbox) -> None:
    for obj, table in (
        ("Campaigns", "campaigns"),
        ("segments", "segments"),
        ("SNIPPETS", "snippets"),
    ):
        (row,) = run.rows(f"SELECT COUNT(*) AS n FROM {obj}")
        assert row["n"] == len(sandbox.workspace.records(table)) > 0
    assert run.rows("select count(*) as n from campaign_actions")[0]["n"] == len(
        sandbox.workspace.records("campaign_actions")
    )


def test_join_campaigns_with_their_actions(run: Run, sandbox: Sandbox) -> None:
    rows = run.rows(
        "SELECT c.id, c.name, COUNT(a.id) AS actions FROM Campaigns c "
        "JOIN CampaignActions a ON a.campaign_id = c.id GROUP BY c.id, c.name ORDER BY c.id"
    )
    campaigns = sandbox.workspace.records("campaigns")
    expected = [
        (c["id"], c["name"], len(sandbox.workspace.campaign_actions(c["id"])))
        for c in sorted(campaigns, key=lambda c: c["id"])
        if sandbox.workspace.campaign_actions(c["id"])
    ]
    assert [(r["id"], r["name"], r["actions"]) for r in rows] == expected


def test_a_campaign_filter_on_the_join_reads_only_that_campaigns_actions(
    run: Run, sandbox: Sandbox
) -> None:
    campaign = sandbox.workspace.records("campaigns")[1]
    rows = run.rows(
        "SELECT a.id FROM Campaigns c JOIN CampaignActions a ON a.campaign_id = c.id "
        f"WHERE c.id = {campaign['id']}"
    )
    assert sorted(r["id"] for r in rows) == sorted(
        a["id"] for a in sandbox.workspace.campaign_actions(campaign["id"])
    )
    action_paths = {p for p in run.paths() if p.endswith("/actions")}
    assert action_paths == {f"/v1/campaigns/{campaign['id']}/actions"}


def test_child_parent_id_is_pushed_into_the_path(run: Run, sandbox: Sandbox) -> None:
    campaign = sandbox.workspace.records("campaigns")[0]
    rows = run.rows(f"SELECT id FROM CampaignActions WHERE campaign_id = {campaign['id']}")
    assert len(rows) == len(sandbox.workspace.campaign_actions(campaign["id"]))
    assert "/v1/campaigns" not in run.paths()  # no parent listing
    assert set(run.paths()) == {f"/v1/campaigns/{campaign['id']}/actions"}


def test_a_persons_messages_by_email_cost_one_persons_calls(run: Run, sandbox: Sandbox) -> None:
    person = sandbox.workspace.people.get(1)
    assert person is not None
    rows = run.rows(
        "SELECT m.id, m.created FROM Customers c JOIN CustomerMessages m ON m.cio_id = c.cio_id "
        f"WHERE c.email = '{person.email}' ORDER BY m.created DESC"
    )
    mine = [
        m
        for m in _messages(sandbox)
        if m["customer_identifiers"]["cio_id"] == person.cio_id  # type: ignore[index]
    ]
    assert mine and sorted(str(r["id"]) for r in rows) == sorted(str(m["id"]) for m in mine)
    newest = max(int(m["created"]) for m in mine)  # type: ignore[call-overload]
    assert rows[0]["created"] == _iso(newest)
    per_person = [p for p in run.paths() if p.startswith("/v1/customers/cio_")]
    assert per_person and set(per_person) == {f"/v1/customers/cio_{person.cio_id}/messages"}
    searches = [r for r in run.requests if r.path == "/v1/customers"]
    assert searches and all("email" in str(r.body) for r in searches)


def test_person_filters_by_cio_id_and_customer_id(run: Run, sandbox: Sandbox) -> None:
    person = sandbox.workspace.people.get(2)
    assert person is not None
    by_cio = run.rows(f"SELECT id FROM CustomerMessages WHERE cio_id = '{person.cio_id}'")
    assert all(r.path != "/v1/customers" for r in run.requests)  # the path is filled directly
    assert {p for p in run.paths()} == {f"/v1/customers/cio_{person.cio_id}/messages"}
    by_id = run.rows(f"SELECT id FROM CustomerMessages WHERE customer_id = '{person.id}'")
    assert sorted(map(str, by_cio)) == sorted(map(str, by_id)) and by_cio
    assert {p for p in run.paths() if p.startswith("/v1/customers/cio_")} == {
        f"/v1/customers/cio_{person.cio_id}/messages"
    }


def test_a_time_range_of_messages_is_sent_as_start_ts_and_end_ts(
    run: Run, sandbox: Sandbox
) -> None:
    created = sorted(int(m["created"]) for m in _messages(sandbox))  # type: ignore[call-overload]
    low, high = created[len(created) // 4], created[len(created) // 2]
    rows = run.rows(f"SELECT id FROM Messages WHERE created >= {low} AND created <= '{_iso(high)}'")
    expected = [m["id"] for m in _messages(sandbox) if low <= int(m["created"]) <= high]  # type: ignore[call-overload]
    assert sorted(r["id"] for r in rows) == sorted(expected)  # type: ignore[type-var]
    listing = [r for r in run.requests if r.path == "/v1/messages"]
    assert listing and all(
        r.query.get("start_ts") == str(low) and r.query.get("end_ts") == str(high) for r in listing
    )


def test_an_aggregate_over_activities(run: Run, sandbox: Sandbox) -> None:
    rows = run.rows("SELECT type, COUNT(*) AS n FROM Activities GROUP BY type ORDER BY type")
    store = sandbox.workspace.activities
    expected = Counter(str(store.get(k)["type"]) for k in range(store.total))
    assert {r["type"]: r["n"] for r in rows} == dict(expected)


def test_activities_of_one_type_and_person_are_pushed_as_parameters(
    run: Run, sandbox: Sandbox
) -> None:
    rows = run.rows(
        "SELECT id, customer_id FROM Activities WHERE type = 'opened_email' AND customer_id = 'user-1'"
    )
    store = sandbox.workspace.activities
    expected = [
        a["id"]
        for a in (store.get(k) for k in range(store.total))
        if a["type"] == "opened_email" and a["customer_id"] == "user-1"
    ]
    assert sorted(r["id"] for r in rows) == sorted(expected)  # type: ignore[type-var]
    (call,) = run.requests
    assert call.query["type"] == "opened_email" and call.query["customer_id"] == "user-1"


def test_people_of_a_segment(run: Run, sandbox: Sandbox) -> None:
    segment = sandbox.workspace.records("segments")[0]
    rows = run.rows(f"SELECT cio_id FROM Customers WHERE segment_id = {segment['id']}")
    assert len(rows) == sandbox.workspace.segment_count(segment["id"]) > 0
    search = next(r for r in run.requests if r.path == "/v1/customers")
    assert {"segment": {"id": segment["id"]}} in search.body["filter"]["and"]


def test_limit_stops_paging_early(run: Run, sandbox: Sandbox) -> None:
    rows = run.rows("SELECT id, subject FROM Messages LIMIT 3")
    assert len(rows) == 3
    (call,) = run.requests
    assert call.path == "/v1/messages" and call.query["limit"] == "3"
    everything = run.rows("SELECT id FROM Messages")
    assert len(everything) == sandbox.workspace.messages.total > 3
    assert [r.query["limit"] for r in run.requests] == ["1000"]  # the maximum page size


def test_order_by_reads_everything_before_limiting(run: Run, sandbox: Sandbox) -> None:
    rows = run.rows("SELECT id, created FROM Messages ORDER BY created ASC LIMIT 2")
    oldest = sorted(_messages(sandbox), key=lambda m: int(m["created"]))[:2]  # type: ignore[call-overload]
    assert [r["id"] for r in rows] == [m["id"] for m in oldest]


def test_explain_names_reads_pushdowns_local_work_and_calls(run: Run, sandbox: Sandbox) -> None:
    result = run(
        "SELECT m.subject FROM Customers c JOIN CustomerMessages m ON m.cio_id = c.cio_id "
        "WHERE c.email = 'person1@example.com' AND m.type = 'email' ORDER BY m.created",
        explain=True,
    )
    text = "\n".join(result.explain)
    assert result.answer is None
    assert "Customers (POST /v1/customers)" in text and "people search filter" in text
    assert "CustomerMessages" in text and "only the parents with email in" in text
    assert "evaluated locally (SQLite): WHERE" in text and "ORDER BY" in text
    assert "estimated API calls:" in text
    assert not any(p.startswith("/v1/customers/cio_") for p in run.paths())  # only counting


def test_the_call_limit_refuses_a_per_person_read_of_everyone(run: Run, sandbox: Sandbox) -> None:
    with pytest.raises(UsageError) as caught:
        run("SELECT COUNT(*) FROM CustomerMessages", max_calls=10)
    message = str(caught.value)
    people = sandbox.workspace.people.count()
    assert f"{people:,} people" in message and "--max-calls 10" in message
    assert "WHERE cio_id" in message and "c.email" in message
    assert not any(p.startswith("/v1/customers/cio_") for p in run.paths())
    # the same statement with a person named fits under the limit
    assert run.rows(
        "SELECT COUNT(*) AS n FROM CustomerMessages WHERE cio_id = 'a0000001'", max_calls=10
    )


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        ("SELEC * FROM Campaigns", "SQL syntax error"),
        ("SELECT * FROM Campaignz", "did you mean 'Campaigns'?"),
        ("SELECT nme FROM Campaigns", "did you mean 'name'?"),
        ("SELECT x.name FROM Campaigns c", "unknown table or alias 'x'"),
        ("SELECT * FROM Campaigns; SELECT 1", "one statement at a time"),
        ("DROP TABLE Campaigns", "unsupported statement 'DROP'"),
    ],
)
def test_bad_sql_is_a_usage_error_with_the_position(
    run: Run, sandbox: Sandbox, sql: str, expected: str
) -> None:
    with pytest.raises(UsageError) as caught:
        run(sql)
    assert expected in str(caught.value)
    assert sandbox.requests == []


def test_unknown_names_list_the_known_ones(run: Run) -> None:
    with pytest.raises(UsageError) as caught:
        run("SELECT nme FROM Campaigns")
    assert "at column 8" in str(caught.value) and "(columns: id, " in str(caught.value)
    with pytest.raises(UsageError) as caught:
        run("SELECT * FROM Campaignz")
    assert "valid objects: Customers, " in str(caught.value) and "column 15" in str(caught.value)


def test_star_lists_the_objects_fields_and_types_read_back(run: Run, sandbox: Sandbox) -> None:
    first = min(sandbox.workspace.records("campaigns"), key=lambda c: c["id"])
    (row,) = run.rows("SELECT * FROM Campaigns ORDER BY id LIMIT 1")
    assert "_cio_synced_at" not in row
    assert row["id"] == first["id"] and row["active"] is first["active"]
    assert row["created"] == _iso(first["created"])
    nothing = run("SELECT * FROM Exports WHERE id = -1").answer
    assert nothing is not None and nothing.rows == [] and "status" in nothing.columns


def test_subqueries_ctes_and_sqlite_functions(run: Run, sandbox: Sandbox) -> None:
    with_actions = {a["campaign_id"] for a in sandbox.workspace.records("campaign_actions")}
    rows = run.rows(
        "SELECT id FROM Campaigns WHERE id IN (SELECT campaign_id FROM CampaignActions) ORDER BY id"
    )
    assert [r["id"] for r in rows] == sorted(with_actions)
    (row,) = run.rows("WITH c AS (SELECT id FROM Campaigns) SELECT COUNT(*) AS n FROM c")
    assert row["n"] == len(sandbox.workspace.records("campaigns"))
    rows = run.rows(
        "SELECT json_extract(metrics, '$.created') AS sent, created FROM Messages LIMIT 2"
    )
    assert all(
        datetime.fromtimestamp(int(str(r["sent"])), UTC).isoformat() == r["created"] for r in rows
    )


def test_mistakes_seen_late_are_usage_errors(run: Run) -> None:
    with pytest.raises(UsageError, match="ambiguous column 'name'.*qualify it"):
        run("SELECT name FROM Campaigns c JOIN CampaignActions a ON a.campaign_id = c.id")
    with pytest.raises(UsageError, match="failed in SQLite: no such function"):
        run("SELECT no_such_function(id) FROM Segments")


def test_segment_id_of_people_is_a_filter_only_where_the_api_takes_it(run: Run) -> None:
    with pytest.raises(UsageError, match="segment_id is no column of Customers"):
        run("SELECT cio_id FROM Customers WHERE segment_id = 1 OR email = 'x@example.com'")
    with pytest.raises(UsageError, match="segment_id is no column"):
        run("SELECT segment_id FROM Customers")


def test_a_lower_time_bound_stops_the_newest_first_activities_listing() -> None:
    sandbox = Sandbox("demo", seed=1)  # 1,500 activities: 15 pages
    store = sandbox.workspace.activities
    stamps = sorted(store.timestamp(k) for k in range(store.total))
    cut = stamps[-50]
    settings = load_settings(None, env={})
    with open_client(settings, transport=sandbox.transport(), sleep=lambda _s: None) as cio:
        run = Run(sandbox, cio)
        (row,) = run.rows(f"SELECT COUNT(*) AS n FROM Activities WHERE timestamp >= {cut}")
        assert row["n"] == sum(1 for t in stamps if t >= cut)
        assert len(run.requests) == 1  # the first page reaches below the bound
        (row,) = run.rows("SELECT COUNT(*) AS n FROM Activities")
        assert row["n"] == store.total and len(run.requests) == -(-store.total // 100)


def test_a_listing_longer_than_estimated_stops_at_the_call_limit() -> None:
    sandbox = Sandbox("demo", seed=1)  # 3,000 messages: 3 pages of 1,000
    settings = load_settings(None, env={})
    with open_client(settings, transport=sandbox.transport(), sleep=lambda _s: None) as cio:
        run = Run(sandbox, cio)
        with pytest.raises(UsageError, match="stopped after 3 API calls, more than --max-calls 2"):
            run("SELECT COUNT(*) FROM Messages", max_calls=2)
        assert len(run.requests) == 3
        (row,) = run.rows("SELECT COUNT(*) AS n FROM Messages", max_calls=3)
        assert row["n"] == sandbox.workspace.messages.total


@pytest.mark.parametrize("spec", CATALOG, ids=lambda s: s.name)
def test_every_object_answers_every_record_it_lists(
    run: Run, client: CioClient, spec: ObjectSpec
) -> None:
    listed = {
        key_of(r, spec.key)
        for r in records(client, spec, Filters(), int(datetime.now(UTC).timestamp()))
    }
    distinct = f"COUNT(DISTINCT {spec.key[0]})" if len(spec.key) == 1 else "COUNT(*)"
    sql = f"SELECT COUNT(*) AS n, {distinct} AS k FROM {spec.table}"
    (row,) = run.rows(sql, max_calls=100_000)
    assert row["n"] == row["k"] == len(listed)
    assert listed or spec.name == "DeletedPeopleActivities"  # nobody deleted in the seed
