"""Records the listings show late, and the ``Date`` header on the sandbox's clock."""

from __future__ import annotations

from email.utils import parsedate_to_datetime

import httpx

from cio_replicate.sandbox import APP_API_KEY, Sandbox
from cio_replicate.sandbox.server import serve


def _ids(app: httpx.Client, path: str, envelope: str, **params: object) -> list[str]:
    body = app.get(path, params={"limit": 100, **params}).json()
    return [r["id"] for r in body[envelope]]


def test_a_late_message_is_listed_only_from_its_time_with_its_created(
    sb: Sandbox, app: httpx.Client
) -> None:
    ws = sb.workspace
    person = next(iter(ws.iter_people()))
    late = ws.add_message(ws.messages.sources[0], person, visible_after=600)
    created = late["created"]
    path = f"/v1/customers/cio_{person.cio_id}/messages"
    assert late["id"] not in _ids(app, "/v1/messages", "messages", start_ts=created - 10)
    assert late["id"] not in _ids(app, path, "messages", id_type="cio_id")
    sb.clock.advance(600)
    assert late["id"] in _ids(app, "/v1/messages", "messages", start_ts=created - 10)
    assert late["id"] in _ids(app, path, "messages", id_type="cio_id")
    assert app.get(f"/v1/messages/{late['id']}").json()["message"]["created"] == created


def test_a_late_activity_is_listed_only_from_its_time(sb: Sandbox, app: httpx.Client) -> None:
    ws = sb.workspace
    person = next(iter(ws.iter_people()))
    late = ws.add_activity(person, "event", "late", {}, visible_after=60)
    assert "_visible_at" not in late
    path = f"/v1/customers/cio_{person.cio_id}/activities"
    assert late["id"] not in _ids(app, path, "activities", id_type="cio_id")
    assert late["id"] not in _ids(app, "/v1/activities", "activities")
    sb.clock.advance(60)
    assert late["id"] in _ids(app, path, "activities", id_type="cio_id")
    assert late["id"] in _ids(app, "/v1/activities", "activities")


def test_the_date_header_is_the_sandboxs_clock_in_process_and_served(
    sb: Sandbox, app: httpx.Client
) -> None:
    sb.clock.advance(3 * 86_400 + 7)
    answer = app.get("/v1/campaigns")
    assert parsedate_to_datetime(answer.headers["date"]).timestamp() == sb.clock.now()
    with serve(sb) as server:
        served = httpx.get(
            f"{server.base_url}/v1/campaigns", headers={"Authorization": f"Bearer {APP_API_KEY}"}
        )
    assert served.headers.get_list("date") == [answer.headers["date"]]
