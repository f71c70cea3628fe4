"""The sandbox's metrics routes and `deleted=true` activities follow the reference:
version 2 (start/end unix times, res, tz) only where offered, version 1 (period, steps)
everywhere, link metrics, strict errors."""

from __future__ import annotations

import httpx
import pytest

from cio_replicate.sandbox import Sandbox

DAY = 86_400
EST = -5 * 3_600


def _day(ts: int, offset: int = 0) -> int:
    return ((ts + offset) // DAY) * DAY - offset


def _first(sb: Sandbox, table: str) -> int:
    return int(sb.workspace.records(table)[0]["id"])


def test_version_2_answers_one_entry_per_utc_day_from_start_to_end(
    sb: Sandbox, app: httpx.Client
) -> None:
    now = sb.workspace.now()
    cid = _first(sb, "campaigns")
    params = {"version": "2", "res": "daily", "start": now - 3 * DAY + 5, "end": now}
    body = app.get(f"/v1/campaigns/{cid}/metrics", params=params).json()
    assert body["start"] == _day(now - 3 * DAY) and body["res"] == "daily"
    assert body["end"] == now
    series = body["series"]
    assert {"sent", "opened", "human_opened", "prefetch_clicked"} <= set(series)
    assert all(len(values) == 4 for values in series.values())  # 3 days ago .. today


def test_version_1_counts_back_from_the_current_est_day(sb: Sandbox, app: httpx.Client) -> None:
    bid = _first(sb, "broadcasts")
    body = app.get(f"/v1/broadcasts/{bid}/metrics", params={"period": "days", "steps": 8}).json()
    series = body["metric"]["series"]
    assert "sent" in series and "human_opened" not in series  # v1 has no human_/prefetch_
    assert all(len(v) == 8 for v in series.values())
    most = app.get(f"/v1/broadcasts/{bid}/metrics").json()["metric"]["series"]
    assert all(len(v) == 45 for v in most.values())  # no steps: the maximum
    two = app.get(f"/v1/broadcasts/{bid}/metrics", params={"steps": 1}).json()
    assert all(len(v) == 2 for v in two["metric"]["series"].values())  # fewer than 2 is 2


def test_a_bump_changes_only_its_day(sb: Sandbox, app: httpx.Client) -> None:
    nid = _first(sb, "newsletters")
    path = f"/v1/newsletters/{nid}/metrics"
    before = app.get(path, params={"steps": 3}).json()["metric"]["series"]
    sb.workspace.metrics.bump("newsletter", nid, sb.workspace.now() - DAY, "opened", 5)
    after = app.get(path, params={"steps": 3}).json()["metric"]["series"]
    assert [a - b for a, b in zip(after["opened"], before["opened"], strict=True)] == [0, 5, 0]
    assert after["sent"] == before["sent"]


@pytest.mark.parametrize(
    ("path", "params", "detail"),
    [
        ("/v1/broadcasts/{b}/metrics", {"version": "2"}, "no version 2"),
        ("/v1/newsletters/{n}/metrics", {"version": "2", "start": 1, "end": 2}, "no version 2"),
        ("/v1/campaigns/{c}/metrics", {"version": "2", "res": "daily"}, "start and end"),
        ("/v1/campaigns/{c}/metrics", {"version": "2", "start": 9, "end": 1}, "end must not"),
        ("/v1/campaigns/{c}/metrics", {"version": "2", "start": 1, "end": 2, "res": "x"}, "res"),
        ("/v1/campaigns/{c}/metrics", {"version": "3"}, "version must be"),
        ("/v1/broadcasts/{b}/metrics", {"period": "days", "steps": 46}, "at most 45"),
        ("/v1/broadcasts/{b}/metrics", {"period": "years"}, "period must be"),
        ("/v1/campaigns/{c}/metrics", {"steps": "abc"}, "integer"),
        ("/v1/newsletters/{n}/metrics/links", {"version": "2"}, "not a parameter"),
        ("/v1/campaigns/{c}/metrics", {"type": "fax"}, "type must be"),
    ],
)
def test_wrong_parameters_are_400_with_the_app_error_body(
    sb: Sandbox, app: httpx.Client, path: str, params: dict[str, object], detail: str
) -> None:
    ids = {
        "b": _first(sb, "broadcasts"),
        "n": _first(sb, "newsletters"),
        "c": _first(sb, "campaigns"),
    }
    answer = app.get(path.format(**ids), params=params)  # type: ignore[arg-type]
    assert answer.status_code == 400
    error = answer.json()["errors"][0]
    assert error["status"] == "400" and detail in error["detail"]


def test_unknown_parents_and_foreign_actions_are_404(sb: Sandbox, app: httpx.Client) -> None:
    assert app.get("/v1/transactional/999/metrics").status_code == 404
    assert app.get("/v1/newsletters/999/metrics/links").status_code == 404
    campaigns = sb.workspace.records("campaigns")
    other = sb.workspace.campaign_actions(campaigns[1]["id"])[0]["id"]
    answer = app.get(f"/v1/campaigns/{campaigns[0]['id']}/actions/{other}/metrics")
    assert answer.status_code == 404


def test_action_and_link_metrics(sb: Sandbox, app: httpx.Client) -> None:
    ws = sb.workspace
    bid = _first(sb, "broadcasts")
    action = ws.broadcast_actions(bid)[0]["id"]
    body = app.get(f"/v1/broadcasts/{bid}/actions/{action}/metrics", params={"steps": 2}).json()
    assert all(len(v) == 2 for v in body["metric"]["series"].values())
    parents = [(t, n) for t in ("campaigns", "newsletters") for n in ws.records(t)]
    with_links = 0
    for table, rec in parents:
        links = app.get(f"/v1/{table}/{rec['id']}/metrics/links", params={"steps": 3}).json()
        for item in links["links"]:
            assert set(item["link"]) == {"id", "href"}
            series = item["metric"]["series"]
            assert set(series) == {"clicked", "human_clicked", "machine_clicked"}
            assert all(len(v) == 3 for v in series.values())
            with_links += 1
    assert with_links > 0


def test_deleted_true_lists_the_activities_of_deleted_people_only(
    sb: Sandbox, app: httpx.Client, track: httpx.Client
) -> None:
    ws = sb.workspace
    person = ws.people.get(0)
    assert person is not None
    assert track.delete(f"/api/v1/customers/cio_{person.cio_id}").status_code == 200

    def ids(**params: object) -> list[str]:
        found: list[str] = []
        start = ""
        while True:
            query = {"limit": 100, **params, **({"start": start} if start else {})}
            page = app.get("/v1/activities", params=query).json()  # type: ignore[arg-type]
            found += [a["customer_identifiers"]["cio_id"] for a in page["activities"]]
            start = page["next"]
            if not start or not page["activities"]:
                return found

    deleted = ids(deleted="true")
    assert deleted and set(deleted) == {person.cio_id}
    assert person.cio_id not in ids()
