"""Read routes of the App API for campaigns, broadcasts, newsletters, messages,
transactional templates, collections, exports, snippets, reporting webhooks, activities,
sender identities and workspaces. Envelopes and parameters follow the reference, section 4."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .constants import ACTIONS_PAGE_SIZE
from .listing import activity_page, message_page
from .paging import next_token, page_after_id, parse_limit, read_cursor, take_page
from .router import Call, Reply, app_error, route


def _get(call: Call, table: str, param: str, what: str) -> dict[str, Any]:
    rec = call.workspace.record(table, call.int_param(param))
    if rec is None:
        raise app_error(404, f"The {what} you requested does not exist.")
    return rec


def _owned(
    call: Call,
    parent: dict[str, Any],
    store: Mapping[int, dict[str, Any]],
    param: str,
    link: str,
    what: str,
) -> dict[str, Any]:
    """The child record ``param`` names, if it belongs to ``parent`` (else 404)."""
    rec = store.get(call.int_param(param))
    if rec is None or rec[link] != parent["id"]:
        raise app_error(404, f"The {what} you requested does not exist.")
    return rec


# (list path, table, list envelope or None, id parameter, single envelope or None, name)
SIMPLE: tuple[tuple[str, str, str | None, str, str | None, str], ...] = (
    ("/v1/campaigns", "campaigns", "campaigns", "campaign_id", "campaign", "campaign"),
    ("/v1/broadcasts", "broadcasts", "broadcasts", "broadcast_id", "broadcast", "broadcast"),
    ("/v1/newsletters", "newsletters", None, "newsletter_id", "newsletter", "newsletter"),
    ("/v1/segments", "segments", "segments", "segment_id", "segment", "segment"),
    (
        "/v1/transactional",
        "transactional",
        "messages",
        "transactional_id",
        "message",
        "transactional message",
    ),
    ("/v1/collections", "collections", "collections", "collection_id", "collection", "collection"),
    ("/v1/exports", "exports", "exports", "export_id", "export", "export"),
    (
        "/v1/reporting_webhooks",
        "webhooks",
        "reporting_webhooks",
        "webhook_id",
        None,
        "reporting webhook",
    ),
    ("/v1/sender_identities", "senders", None, "sender_id", "sender_identity", "sender identity"),
    ("/v1/snippets", "snippets", "snippets", "", None, "snippet"),
)


def _register_simple(
    path: str, table: str, envelope: str | None, param: str, single: str | None, what: str
) -> None:
    """Un-paginated list (everything in one answer) + get by integer id."""
    if envelope is not None:

        def list_all(call: Call) -> Reply:
            return Reply(200, {envelope: call.workspace.records(table)})

        route("app", "GET", path)(list_all)
    if param:

        def get_one(call: Call) -> Reply:
            rec = _get(call, table, param, what)
            return Reply(200, rec if single is None else {single: rec})

        route("app", "GET", f"{path}/{{{param}}}")(get_one)


for _spec in SIMPLE:
    _register_simple(*_spec)


# campaigns ----------------------------------------------------------------------------


@route("app", "GET", "/v1/campaigns/{campaign_id}/actions")
def campaign_actions(call: Call) -> Reply:
    camp = _get(call, "campaigns", "campaign_id", "campaign")
    if "limit" in call.query:
        raise app_error(400, "limit is not a parameter of this endpoint")
    actions = call.workspace.campaign_actions(camp["id"])
    kind = f"actions:{camp['id']}"
    start = read_cursor(call, kind) or 0
    if not isinstance(start, int):
        raise app_error(400, "start is not a valid pagination token for this listing")
    page, position = take_page(
        enumerate(actions[start:], start), ACTIONS_PAGE_SIZE, lambda r: r[0] + 1
    )
    return Reply(200, {"actions": [a for _, a in page], "next": next_token(kind, position)})


@route("app", "GET", "/v1/campaigns/{campaign_id}/actions/{action_id}")
def campaign_action(call: Call) -> Reply:
    camp = _get(call, "campaigns", "campaign_id", "campaign")
    store = call.workspace.content.campaign_actions
    return Reply(200, {"action": _owned(call, camp, store, "action_id", "campaign_id", "action")})


# broadcasts ---------------------------------------------------------------------------


@route("app", "GET", "/v1/broadcasts/{broadcast_id}/actions")
def broadcast_actions(call: Call) -> Reply:
    bc = _get(call, "broadcasts", "broadcast_id", "broadcast")
    return Reply(200, {"actions": call.workspace.broadcast_actions(bc["id"])})


@route("app", "GET", "/v1/broadcasts/{broadcast_id}/actions/{action_id}")
def broadcast_action(call: Call) -> Reply:
    bc = _get(call, "broadcasts", "broadcast_id", "broadcast")
    store = call.workspace.content.broadcast_actions
    return Reply(200, {"action": _owned(call, bc, store, "action_id", "broadcast_id", "action")})


@route("app", "GET", "/v1/broadcasts/{broadcast_id}/triggers")
def broadcast_triggers(call: Call) -> Reply:
    bc = _get(call, "broadcasts", "broadcast_id", "broadcast")
    return Reply(200, {"triggers": call.workspace.triggers(bc["id"])})


# newsletters --------------------------------------------------------------------------
@route("app", "GET", "/v1/newsletters")
def list_newsletters(call: Call) -> Reply:
    limit = parse_limit(call, "newsletters")
    sort = call.query.get("sort") or "asc"
    if sort not in ("asc", "desc"):
        raise app_error(400, "sort must be asc or desc")
    page, token = page_after_id(
        call,
        f"newsletters:{sort}",
        call.workspace.records("newsletters"),
        limit,
        descending=sort == "desc",
    )
    return Reply(200, {"newsletters": page, "next": token})


@route("app", "GET", "/v1/newsletters/{newsletter_id}/contents")
def newsletter_contents(call: Call) -> Reply:
    news = _get(call, "newsletters", "newsletter_id", "newsletter")
    return Reply(200, {"contents": call.workspace.newsletter_contents(news["id"])})


@route("app", "GET", "/v1/newsletters/{newsletter_id}/contents/{content_id}")
def newsletter_content(call: Call) -> Reply:
    news = _get(call, "newsletters", "newsletter_id", "newsletter")
    store = call.workspace.content.contents
    content = _owned(call, news, store, "content_id", "newsletter_id", "content")
    return Reply(200, {"content": content})


# messages -----------------------------------------------------------------------------
@route("app", "GET", "/v1/messages")
def list_messages(call: Call) -> Reply:
    return Reply(200, message_page(call, "messages", "messages", default_window=True))


@route("app", "GET", "/v1/messages/{message_id}")
def get_message(call: Call) -> Reply:
    store = call.workspace.messages
    j = store.index_of(call.params["message_id"])
    if j is None:
        raise app_error(404, "The message you requested does not exist.")
    return Reply(200, {"message": store.get(j, call.bool_query("get_tracked_responses"))})


# the deliveries of one campaign, broadcast, newsletter or transactional message ---------

# (parent path, table, id parameter, name, source kind, cursor prefix)
PARENT_MESSAGES: tuple[tuple[str, str, str, str, str, str], ...] = (
    ("/v1/campaigns", "campaigns", "campaign_id", "campaign", "campaign", "cmsg"),
    ("/v1/broadcasts", "broadcasts", "broadcast_id", "broadcast", "broadcast", "bmsg"),
    ("/v1/newsletters", "newsletters", "newsletter_id", "newsletter", "newsletter", "nmsg"),
    (
        "/v1/transactional",
        "transactional",
        "transactional_id",
        "transactional message",
        "transactional",
        "tmsg",
    ),
)


def _register_parent_messages(
    path: str, table: str, param: str, what: str, kind: str, prefix: str
) -> None:
    def parent_messages(call: Call) -> Reply:
        rec = _get(call, table, param, what)
        sources = call.workspace.sources_of(kind, rec["id"])
        page = message_page(call, f"{prefix}:{rec['id']}", "parent_messages", sources=sources)
        return Reply(200, page)

    route("app", "GET", f"{path}/{{{param}}}/messages")(parent_messages)


for _parent in PARENT_MESSAGES:
    _register_parent_messages(*_parent)


# collections, exports, snippets, reporting webhooks ------------------------------------


@route("app", "GET", "/v1/collections/{collection_id}/content")
def collection_content(call: Call) -> Reply:
    rec = _get(call, "collections", "collection_id", "collection")
    return Reply(200, call.workspace.misc.collection_data[rec["id"]])


@route("app", "GET", "/v1/exports/{export_id}/download")
def download_export(call: Call) -> Reply:
    rec = _get(call, "exports", "export_id", "export")
    if rec["status"] != "done":
        raise app_error(400, "The export is not ready yet.")
    rec["downloads"] += 1
    expires = call.workspace.now() + 15 * 60
    url = f"https://sandbox-exports.invalid/{rec['id']}.csv?expires={expires}&signature=sandbox"
    return Reply(200, {"url": url})


# activities, sender identities, workspaces ---------------------------------------------
@route("app", "GET", "/v1/activities")
def list_activities(call: Call) -> Reply:
    person = None
    if call.query.get("customer_id"):
        id_type = call.query.get("id_type") or "id"
        if id_type not in ("id", "email", "cio_id"):
            raise app_error(400, "id_type must be one of id, email, cio_id")
        person = call.workspace.people.find(call.query["customer_id"], id_type)
        if person is None:
            return Reply(200, {"activities": [], "next": ""})
    return Reply(200, activity_page(call, "activities", "activities", person))


@route("app", "GET", "/v1/sender_identities")
def list_senders(call: Call) -> Reply:
    limit = parse_limit(call, "sender_identities")
    sort = call.query.get("sort") or "asc"
    if sort not in ("asc", "desc"):
        raise app_error(400, "sort must be asc or desc")
    records = call.workspace.records("senders")
    if not call.bool_query("hidden"):
        records = [r for r in records if not r["hidden"]]
    page, token = page_after_id(call, f"senders:{sort}", records, limit, descending=sort == "desc")
    return Reply(200, {"sender_identities": page, "next": token})


@route("app", "GET", "/v1/workspaces")
def list_workspaces(call: Call) -> Reply:
    return Reply(200, {"workspaces": [call.workspace.workspace_info()]})
