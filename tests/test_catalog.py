"""The catalog: consistent as declared, and each consistency rule can fail."""

from __future__ import annotations

import dataclasses
import re
from typing import Any

import pytest

from cio_replicate.catalog import (
    CATALOG,
    UNCONFIRMED_MAX,
    Cost,
    ObjectSpec,
    Pushdown,
    catalog_markdown,
    check_catalog,
    get_object,
    resolve_selection,
    spec_json,
)
from cio_replicate.catalog.checks import (
    ATTRIBUTE_BATCH_MAX,
    DOCUMENTED_MAX,
    EXTRACTORS,
    placeholders,
)
from cio_replicate.catalog.model import PEOPLE, frozen
from cio_replicate.errors import UsageError
from cio_replicate.extract import registered

from .engine.expected import TABLES as EXPECTED

PER_PERSON = [s for s in CATALOG if s.per_person]


def test_the_catalog_is_consistent() -> None:
    assert check_catalog(CATALOG) == []


def test_tables_are_the_object_names_in_snake_case() -> None:
    for spec in CATALOG:
        assert spec.table == re.sub(r"(?<!^)(?=[A-Z])", "_", spec.name).lower(), spec.name


def test_keys_are_those_of_the_independently_written_expected_tables() -> None:
    """tests/engine/expected.py states each table's shape from the API reference."""
    assert {spec.table: spec.key for spec in CATALOG} == {
        table: shape.key for table, shape in EXPECTED.items()
    }


def test_children_of_people_are_read_per_person_or_in_batches() -> None:
    """A child of Customers is read one call per person (its path names the person) or
    in batches of people; only the first kind is per-person."""
    assert PER_PERSON
    people = get_object(PEOPLE)
    for spec in CATALOG:
        if spec.per_person:
            assert spec.parent == PEOPLE and placeholders(spec.path), spec.name
            assert set(spec.parent_params.values()) <= set(people.key), spec.name
            assert not spec.default, spec.name
        elif spec.parent == PEOPLE:
            assert spec.batch_size is not None and not placeholders(spec.path), spec.name
        assert spec.default == (not spec.per_person and not spec.on_request)


def test_per_person_and_default_follow_from_the_parent_and_its_parameters() -> None:
    child = next(s for s in CATALOG if s.parent not in (None, PEOPLE) and s.parent_params)
    assert not child.per_person and child.default
    person = frozen(customer_id=get_object(PEOPLE).key[0])
    addressed = dataclasses.replace(
        child, name="PersonThings", table="person_things", parent=PEOPLE, parent_params=person
    )
    assert addressed.per_person and not addressed.default
    batched = dataclasses.replace(child, parent=PEOPLE, parent_params=frozen())
    assert not batched.per_person and batched.default
    assert addressed not in resolve_selection([], (*CATALOG, addressed)).write


def test_paginated_objects_ask_for_the_documented_maximum_page() -> None:
    paginated = [s for s in CATALOG if s.paginated]
    assert paginated
    for spec in paginated:
        documented = DOCUMENTED_MAX.get(spec.path, UNCONFIRMED_MAX)
        assert spec.page_size in (documented, None), spec.name  # None: `start` only
    for spec in CATALOG:
        assert spec.batch_size in (None, ATTRIBUTE_BATCH_MAX), spec.name
    assert get_object(PEOPLE).batch_size == ATTRIBUTE_BATCH_MAX


def test_the_dml_matrix_is_each_entrys_write_spec() -> None:
    with_dml = [s for s in CATALOG if s.dml]
    assert with_dml and len(with_dml) < len(CATALOG)  # some objects are read-only
    for spec in CATALOG:
        assert spec.dml == (spec.write.operations if spec.write else frozenset()), spec.name
    assert [s.name for s in CATALOG if s.write and s.write.writer == "people"] == [PEOPLE]


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
    """Message listings take ``start_ts``: every append-only listing of messages has it."""
    with_since = [s for s in CATALOG if s.since_param is not None]
    assert with_since
    assert {s.since_param for s in with_since} == {"start_ts"}
    assert with_since == [s for s in CATALOG if s.envelope == "messages" and s.mode == "append"]
    for spec in CATALOG:
        for rule in spec.pushdown:
            if rule.kind == "parent":
                assert rule.param in spec.parent_params, spec.name


def test_every_delivery_listing_re_reads_its_metrics() -> None:
    """Deliveries (records with ``metrics``, reference 4.7) keep changing after they are
    created: each delivery listing declares the field its metrics window merges."""
    deliveries = [s.name for s in CATALOG if s.envelope == "messages" and s.mode == "append"]
    assert [s.name for s in CATALOG if s.metrics is not None] == deliveries
    assert {s.metrics for s in CATALOG if s.metrics is not None} == {"metrics"}
    assert "Messages" in deliveries and "CustomerMessages" in deliveries


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


def test_default_selection_leaves_out_per_person_and_on_request_objects() -> None:
    selection = resolve_selection([])
    on_request = [s for s in CATALOG if s.on_request]
    assert on_request and not set(on_request) & set(PER_PERSON)
    assert selection.write == tuple(s for s in CATALOG if s not in PER_PERSON + on_request)
    assert len(selection.write) == len(CATALOG) - len(PER_PERSON) - len(on_request)
    # CampaignActionMetrics named: the actions (and campaigns) are read, not written
    named = resolve_selection(["CampaignActionMetrics"])
    assert [s.name for s in named.implied] == ["Campaigns", "CampaignActions"]


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
    with pytest.raises(
        UsageError, match="unknown object 'Nope'.*TransactionalLinkMetrics, or 'all'"
    ):
        resolve_selection(["Campaigns", "Nope"])


def test_json_holds_every_field() -> None:
    data = spec_json(get_object("Objects"))
    assert set(data) >= {f.name for f in dataclasses.fields(ObjectSpec)}
    assert set(data) >= {"per_person", "default", "dml", "write", "source", "since_param"}
    assert spec_json(get_object("Snippets"))["write"]["update_at_listing"] is True
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


def _write(name: str, **changes: Any) -> dict[str, Any]:
    """Changes that give ``name`` a write spec differing from its own by ``changes``."""
    write = get_object(name).write
    assert write is not None
    return {"write": dataclasses.replace(write, **changes)}


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
        ("CampaignActions", {"parent_params": frozen(campaign_id="name")}, "not a key"),
        ("Segments", {"parent_params": frozen(x="id")}, "no parent"),
        ("Exports", {"path": "/v1/exports/{export_id}"}, "no parent"),
        ("BroadcastTriggers", {"inherit": frozen(broadcast_id="bid")}, "not a key"),
        # a documented field of the parent, but no parent pushdown may build it from a key
        ("CampaignActionMetrics", {"inherit": frozen(action_id="nope")}, "not a key or field"),
        (
            "CampaignActionMetrics",
            {"pushdown": (Pushdown("action_id", "parent", "action_id", "one action"),)},
            "not a key",
        ),
        ("CampaignActions", {"parent_params": frozen(campaign_id="id", x="id")}, "fill no path"),
        ("Campaigns", {"mode": "incremental", "cursor": None}, "incremental needs a cursor"),
        ("Messages", {"cursor": None}, "append needs a cursor"),
        ("Campaigns", {"cursor": "modified"}, "not a timestamp field"),
        ("Messages", {"mode": "incremental"}, "must be append"),
        ("Campaigns", {"mode": "append"}, "append needs a creation-time cursor"),
        ("Messages", {"mode": "full", "cursor": None}, "'since' pushdown"),
        ("CustomerSegments", {"cost": None}, "cost model"),
        ("Campaigns", {"cost": Cost()}, "cost model"),
        ("Campaigns", {"feeds": "Customers"}, "not an earlier irregular entry"),
        ("CustomersAttributes", {"feeds": "Segments"}, "not an earlier irregular entry"),
        ("Campaigns", {"key": ()}, "needs a key"),
        ("Campaigns", {"kept_text": ("name",)}, "kept_text without typed_strings"),
        ("Customers", {"kept_text": ("id", "email")}, "must keep key ['cio_id'] as text"),
        ("Campaigns", {"page_size": 100}, "unpaginated"),
        ("Newsletters", {"page_size": 1000}, "outside 1..100"),
        ("Messages", {"page_size": 1001}, "outside 1..1000"),
        ("Customers", {"batch_size": 1000}, "batch_size"),
        ("Objects", {"extractor": "object"}, "unknown extractor"),
        ("Campaigns", {"envelope": None}, "needs a GET with an envelope"),
        ("Snippets", _write("Snippets", operations=frozenset()), "no DML operation"),
        ("Exports", {"write": get_object(PEOPLE).write}, "written through the Track API"),
        ("Segments", _write("Segments", natural_key="title"), "not among the writable fields"),
        ("Segments", _write("Segments", choices=frozen(kind=frozenset())), "not among the"),
        ("Snippets", _write("Snippets", readonly=frozenset({"value"})), "and read-only"),
        ("Collections", _write("Collections", insert_required=()), "needs insert_required"),
        (
            "CampaignActions",
            _write("CampaignActions", operations=frozenset({"INSERT"}), insert_required=("url",)),
            "needs no parent",
        ),
        ("ReportingWebhooks", _write("ReportingWebhooks", natural_key="url"), "required on INSERT"),
        ("Snippets", _write("Snippets", insert_required=("value",)), "without INSERT"),
        ("NewsletterVariants", _write("NewsletterVariants", fields=frozen()), "writable fields"),
        ("Snippets", _write("Snippets", operations=frozenset({"DELETE"})), "without UPDATE"),
        ("Segments", {"key": ("kind", "id")}, "by one key field"),
        (
            "Messages",
            {"pushdown": (Pushdown("updated", "since", "start_ts", "x"),)},
            "'since' pushdown",
        ),
        ("Campaigns", {"timestamps": ("updated", "updated")}, "duplicate timestamp"),
        (
            "CampaignActions",
            _write("CampaignActions", readonly=frozenset({"broadcast_id"})),
            "read-only 'broadcast_id' is not a field of its records",
        ),
        (
            "Segments",
            _write("Segments", fields=frozen(name="int", description="text")),
            "'name' is written as int but its records carry text",
        ),
        (
            "Collections",
            _write("Collections", fields=frozen(name="text", data="json_array", rows="bool")),
            "'rows' is written as bool but its records carry int",
        ),
        ("Campaigns", {"metrics": "metrics"}, "metrics are re-read on append objects"),
        ("Messages", {"metrics": "id"}, "metrics are re-read on append objects"),
        ("BroadcastTriggers", {"metrics": "metrics"}, "'since' pushdown or newest_first"),
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


def test_placeholders() -> None:
    assert placeholders("/v1/a/{x}/b/{y}") == {"x", "y"}
    assert placeholders("/v1/a") == set()
