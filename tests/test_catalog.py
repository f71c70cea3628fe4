"""The catalog: consistent as declared, and each consistency rule can fail."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from cio_replicate.catalog import (
    CATALOG,
    ObjectSpec,
    Pushdown,
    catalog_markdown,
    check_catalog,
    get_object,
    object_names,
    resolve_selection,
    spec_json,
)
from cio_replicate.catalog.checks import CONNECTOR_DML, EXTRACTORS, placeholders
from cio_replicate.catalog.model import frozen
from cio_replicate.errors import UsageError
from cio_replicate.extract import registered

TABLE = {
    # name: (table, key, mode, cursor)
    "Customers": ("customers", ("cio_id",), "append", "created_at"),
    "CustomersAttributes": ("customers_attributes", ("cio_id", "name"), "full", None),
    "CustomerSegments": ("customer_segments", ("cio_id", "segment_id"), "full", None),
    "CustomerMessages": ("customer_messages", ("id",), "append", "created"),
    "CustomerActivities": ("customer_activities", ("id",), "append", "timestamp"),
    "Segments": ("segments", ("id",), "incremental", "updated_at"),
    "Campaigns": ("campaigns", ("id",), "incremental", "updated"),
    "CampaignActions": ("campaign_actions", ("id",), "incremental", "updated"),
    "Broadcasts": ("broadcasts", ("id",), "incremental", "updated"),
    "BroadcastActions": ("broadcast_actions", ("id",), "incremental", "updated"),
    "BroadcastMessages": ("broadcast_messages", ("id",), "append", "created"),
    "BroadcastTriggers": ("broadcast_triggers", ("id",), "append", "created_at"),
    "Newsletters": ("newsletters", ("id",), "incremental", "updated"),
    "NewsletterVariants": ("newsletter_variants", ("id",), "full", None),
    "NewsletterMessages": ("newsletter_messages", ("id",), "append", "created"),
    "Messages": ("messages", ("id",), "append", "created"),
    "Collections": ("collections", ("id",), "incremental", "updated_at"),
    "Exports": ("exports", ("id",), "incremental", "updated_at"),
    "Snippets": ("snippets", ("name",), "incremental", "updated_at"),
    "ReportingWebhooks": ("reporting_webhooks", ("id",), "full", None),
    "TransactionalMessages": ("transactional_messages", ("id",), "incremental", "updated_at"),
    "TransactionalMessageDeliveries": (
        "transactional_message_deliveries",
        ("id",),
        "append",
        "created",
    ),
    "Activities": ("activities", ("id",), "append", "timestamp"),
    "SenderIdentities": ("sender_identities", ("id",), "full", None),
    "ObjectTypes": ("object_types", ("id",), "full", None),
    "Objects": ("objects", ("object_type_id", "object_id"), "full", None),
    "SegmentMemberships": ("segment_memberships", ("segment_id", "cio_id"), "full", None),
}
PER_PERSON = {"CustomerSegments", "CustomerMessages", "CustomerActivities"}


def test_the_catalog_is_consistent() -> None:
    assert check_catalog(CATALOG) == []


def test_the_catalog_matches_the_documented_object_table() -> None:
    assert object_names() == list(TABLE)
    for spec in CATALOG:
        assert (spec.table, spec.key, spec.mode, spec.cursor) == TABLE[spec.name], spec.name
        assert spec.per_person == (spec.name in PER_PERSON)
        assert spec.default == (spec.name not in PER_PERSON)


def test_documented_page_sizes() -> None:
    sizes = {s.name: s.page_size for s in CATALOG if s.paginated}
    assert sizes["Customers"] == 1000
    assert sizes["Messages"] == 1000
    assert sizes["Activities"] == 100
    assert sizes["SegmentMemberships"] == 30000
    assert sizes["CampaignActions"] is None  # only `start`, no limit
    assert get_object("Customers").batch_size == 100
    others = set(sizes) - {"Customers", "Messages", "Activities", "SegmentMemberships"}
    assert {sizes[n] for n in others} == {100, None}


def test_the_dml_matrix_is_the_connectors() -> None:
    assert {s.name: s.dml for s in CATALOG if s.dml} == CONNECTOR_DML


def test_paths_render_from_parent_records() -> None:
    actions = get_object("campaignactions")
    assert actions.render_path({"id": 7, "name": "x"}) == "/v1/campaigns/7/actions"
    person = get_object("CUSTOMERMESSAGES")
    assert person.render_path({"cio_id": "a1"}) == "/v1/customers/cio_a1/messages"
    assert person.params == {"id_type": "cio_id"}
    assert get_object("Messages").render_path() == "/v1/messages"
    for spec in CATALOG:
        if spec.parent and spec.extractor is None:
            fake_parent = {field: 1 for field in spec.parent_params.values()}
            assert "{" not in spec.render_path(fake_parent)


def test_time_pushdown_is_declared_where_the_api_filters_by_time() -> None:
    with_since = {s.name for s in CATALOG if s.since_param == "start_ts"}
    assert with_since == {
        "CustomerMessages",
        "BroadcastMessages",
        "NewsletterMessages",
        "Messages",
        "TransactionalMessageDeliveries",
    }
    assert {p.param for p in get_object("Messages").pushdown} >= {
        "campaign_id",
        "newsletter_id",
        "action_id",
    }
    assert {p.kind for p in get_object("Customers").pushdown} == {"query", "filter"}


def test_get_object_ignores_case_and_accepts_table_names() -> None:
    assert get_object("campaigns").name == "Campaigns"
    assert get_object("Transactional_Message_Deliveries").name == "TransactionalMessageDeliveries"
    with pytest.raises(UsageError) as err:
        get_object("Campains")
    assert "Campaigns" in str(err.value) and "SegmentMemberships" in str(err.value)
    # One object is asked for (export, import): 'all' is no answer to offer.
    with pytest.raises(UsageError) as err:
        get_object("all")
    assert "'all'" in str(err.value) and "(or 'all')" not in str(err.value)


def test_default_selection_leaves_out_per_person_objects() -> None:
    selection = resolve_selection([])
    assert {s.name for s in selection.write} == set(TABLE) - PER_PERSON
    assert selection.implied == ()


def test_all_selects_everything() -> None:
    assert resolve_selection(["ALL"]).write == CATALOG


def test_children_imply_their_parents_for_reading_only() -> None:
    selection = resolve_selection(["customermessages,campaign_actions", "CampaignActions"])
    assert [s.name for s in selection.write] == ["CustomerMessages", "CampaignActions"]
    assert [s.name for s in selection.read] == [
        "Customers",
        "CustomerMessages",
        "Campaigns",
        "CampaignActions",
    ]
    assert [s.name for s in selection.implied] == ["Customers", "Campaigns"]
    assert selection.writes(get_object("CampaignActions"))
    assert not selection.writes(get_object("Campaigns"))


def test_unknown_names_in_a_selection_are_usage_errors() -> None:
    with pytest.raises(UsageError, match="unknown object 'Nope'.*SegmentMemberships, or 'all'"):
        resolve_selection(["Campaigns", "Nope"])


def test_json_holds_every_field() -> None:
    data = spec_json(get_object("Objects"))
    assert set(data) >= {f.name for f in dataclasses.fields(ObjectSpec)}
    assert data["key"] == ["object_type_id", "object_id"]
    assert data["inherit"] == {"object_type_id": "id"}
    assert spec_json(get_object("Customers"))["dml"] == ["INSERT", "UPDATE", "DELETE"]


def test_markdown_table_has_one_row_per_object() -> None:
    text = catalog_markdown()
    rows = [line for line in text.splitlines() if line.startswith("| ") and "---" not in line]
    assert len(rows) == len(CATALOG) + 1
    assert (
        "| CampaignActions | `campaign_actions` | `GET /v1/campaigns/{campaign_id}/actions` |"
        in text
    )
    assert "| CustomerMessages* |" in text


def test_specs_cannot_be_mutated() -> None:
    spec = get_object("Campaigns")
    with pytest.raises(dataclasses.FrozenInstanceError):
        spec.table = "x"  # type: ignore[misc]
    with pytest.raises(TypeError):
        get_object("CampaignActions").parent_params["x"] = "y"  # type: ignore[index]


# --- every rule of check_catalog fails on a deliberately broken entry --------


def _broken(target: str, changes: dict[str, Any]) -> list[str]:
    catalog = tuple(
        dataclasses.replace(spec, **changes) if spec.name == target else spec for spec in CATALOG
    )
    return check_catalog(catalog)


@pytest.mark.parametrize(
    ("name", "changes", "expected"),
    [
        ("Exports", {"name": "Campaigns"}, "already used by Campaigns"),
        ("Exports", {"table": "campaigns"}, "already used by Campaigns"),
        ("Exports", {"table": "Bad Name"}, "not a plain snake_case name"),
        ("Exports", {"name": "All"}, "reserved"),
        ("CampaignActions", {"parent": "Campaign"}, "not an earlier catalog entry"),
        ("Campaigns", {"parent": "CampaignActions"}, "not an earlier catalog entry"),
        ("CampaignActions", {"parent_params": frozen()}, "not in parent_params"),
        ("CampaignActions", {"parent_params": frozen(campaign_id="name")}, "not a key of"),
        ("Segments", {"parent_params": frozen(x="id")}, "no parent"),
        ("Exports", {"path": "/v1/exports/{export_id}"}, "no parent"),
        ("BroadcastTriggers", {"inherit": frozen(broadcast_id="bid")}, "not a key of"),
        ("CampaignActions", {"parent_params": frozen(campaign_id="id", x="id")}, "fill no path"),
        ("Campaigns", {"mode": "incremental", "cursor": None}, "incremental needs a cursor"),
        ("Messages", {"cursor": None}, "append needs a cursor"),
        ("Campaigns", {"cursor": "modified"}, "not a timestamp field"),
        ("Messages", {"mode": "incremental"}, "must be append"),
        ("Messages", {"mode": "full", "cursor": None}, "'since' pushdown"),
        ("CustomerMessages", {"default": True}, "not in the default selection"),
        ("CustomerMessages", {"per_person": False, "default": False}, "per_person"),
        ("Campaigns", {"per_person": True}, "per_person"),
        ("CustomerSegments", {"cost": None}, "cost model"),
        ("Campaigns", {"feeds": "Customers"}, "not an earlier irregular entry"),
        ("CustomersAttributes", {"feeds": "Segments"}, "not an earlier irregular entry"),
        ("Campaigns", {"key": ()}, "needs a key"),
        ("Campaigns", {"page_size": 100}, "unpaginated"),
        ("Newsletters", {"page_size": 1000}, "outside 1..100"),
        ("Messages", {"page_size": 1001}, "outside 1..1000"),
        ("Customers", {"batch_size": 1000}, "batch_size"),
        ("Objects", {"extractor": "object"}, "unknown extractor"),
        ("Campaigns", {"envelope": None}, "needs a GET with an envelope"),
        ("Snippets", {"dml": frozenset({"UPDATE"})}, "differs from the connector"),
        ("Exports", {"dml": frozenset({"DELETE"})}, "differs from the connector"),
        (
            "Messages",
            {"pushdown": (Pushdown("updated", "since", "start_ts", "x"),)},
            "'since' pushdown",
        ),
        ("Campaigns", {"timestamps": ("updated", "updated")}, "duplicate timestamp"),
    ],
)
def test_each_consistency_rule_fails_on_a_broken_entry(
    name: str, changes: dict[str, Any], expected: str
) -> None:
    problems = _broken(name, changes)
    assert any(expected in p for p in problems), problems


def test_every_extractor_the_catalog_may_name_registers_its_hooks() -> None:
    assert registered() == EXTRACTORS
    assert {spec.extractor for spec in CATALOG if spec.extractor} <= registered()


def test_a_missing_dml_object_is_reported() -> None:
    catalog = tuple(spec for spec in CATALOG if spec.name != "ReportingWebhooks")
    assert any("ReportingWebhooks" in p for p in check_catalog(catalog))


def test_placeholders() -> None:
    assert placeholders("/v1/a/{x}/b/{y}") == {"x", "y"}
    assert placeholders("/v1/a") == set()
