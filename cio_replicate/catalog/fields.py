"""The documented fields of each object's records, with their kinds.

From the API reference (``customerio-api.md`` section 4, TRACK-SPEC schemas; a
few fields the AIRBYTE schema expects are included as ``any``). Used to check
``--filter Object.field=value`` (the field exists, the value can be of its kind)
and ``export --columns`` before anything is fetched or written, and to suggest
the name meant. People (``Customers``) and custom objects (``Objects``) also carry
arbitrary attributes, so any name is accepted for them (:data:`OPEN`).

A record may carry fields the reference does not list; ``export --columns``
therefore also accepts every field seen in the records (see writeback.export).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from .model import FieldType

FieldKind = FieldType  # the kinds a record field has: text, int, time, bool, json, any

OPEN = frozenset({"Customers", "Objects"})
"""Objects whose records also have one field per (arbitrary) attribute."""

FILTER_ONLY: Mapping[str, frozenset[str]] = MappingProxyType(
    {"Customers": frozenset({"segment", "segment_id"})}
)
"""Pushdown names that are filters, not fields of the records (people of a segment)."""


def _kinds(spec: str) -> dict[str, FieldKind]:
    """``"id:int name created:time"`` -> {"id": "int", "name": "text", ...}."""
    out: dict[str, FieldKind] = {}
    for item in spec.split():
        name, _, kind = item.partition(":")
        out[name] = kind or "text"  # type: ignore[assignment]
    return out


_MESSAGE = (
    "id deduplicate_id message_template_id:int msg_template_id:int customer_id "
    "customer_identifiers:json recipient subject metrics:json created:time failure_message "
    "campaign_id:int newsletter_id:int broadcast_id:int action_id:int parent_action_id:int "
    "content_id:int trigger_event_id forgotten:bool tracked_responses:json type"
)
_ACTIVITY = (
    "id customer_id customer_identifiers:json type name url timestamp:time delivery_id "
    "delivery_type data:json"
)
_CONTENT = (
    "id:int deduplicate_id name created:time updated:time body body_amp type layout language "
    "from from_id:int reply_to reply_to_id:int preprocessor recipient subject cc bcc "
    "fake_bcc:bool preheader_text headers:json_text"
)
_ACTION = (
    f"{_CONTENT} parent_action_id:int sending_state image_url body_json sender_identity_id:int "
    "send_to_unsubscribed:bool tracked:bool url method"
)
_V1_SERIES = (
    "attempted bounced clicked converted created deferred delivered drafted failed opened "
    "sent spammed suppressed undeliverable topic_unsubscribed unsubscribed"
)
_V2_SERIES = f"{_V1_SERIES} human_clicked prefetch_clicked human_opened prefetch_opened"
_SERIES = " ".join(f"{m}:int" for m in _V2_SERIES.split())
_METRICS = f"day period_start:time {_SERIES}"
_LINKS = "link_id:int href day period_start:time clicked:int human_clicked:int machine_clicked:int"
_SEGMENT = (
    "deduplicate_id name description state progress:int type tags:json "
    "created_at:time updated_at:time"
)

FIELDS: Mapping[str, Mapping[str, FieldKind]] = MappingProxyType(
    {
        name: MappingProxyType(_kinds(spec))
        for name, spec in {
            "Customers": "cio_id id email created_at:time unsubscribed:bool devices:json "
            "segment:int segment_id:int",
            "CustomersAttributes": "cio_id name value updated_at:time",
            "CustomerSegments": f"cio_id segment_id:int {_SEGMENT}",
            "CustomerMessages": f"cio_id {_MESSAGE}",
            "CustomerActivities": f"cio_id {_ACTIVITY}",
            "Segments": f"id:int {_SEGMENT}",
            "Campaigns": "id:int deduplicate_id name description type created:time "
            "updated:time first_started:time active:bool state actions:json tags:json "
            "trigger_segment_ids:json filter_segment_ids:json msg_templates:json event_name "
            "frequency date_attribute timezone use_customer_timezone:bool start_hour:int "
            "start_minutes:int object_type_id:int filter_object_attributes:json "
            "filter_relationship_attributes:json audience:json "
            "relationship_attribute_triggers:json object_attribute_triggers:json "
            "webhook_id:int created_by:any scheduled_start:any "
            "scheduled_start_should_backfill:any scheduled_stop:any "
            "scheduled_stop_should_sunset:any",
            "CampaignActions": f"campaign_id:int {_ACTION}",
            "Broadcasts": "id:int deduplicate_id name type created:time updated:time "
            "first_started:time active:bool state actions:json msg_template_ids:json tags:json",
            "BroadcastActions": f"broadcast_id:int {_ACTION}",
            "BroadcastMessages": _MESSAGE,
            "BroadcastTriggers": "id:int broadcast_id:int created_at:time processed_at:time",
            "Newsletters": "id:int deduplicate_id name content_ids:json type created:time "
            "updated:time sent_at:time tags:json recipient_segment_ids:json "
            "subscription_topic_id:int",
            "NewsletterVariants": f"newsletter_id:int {_CONTENT}",
            "NewsletterMessages": _MESSAGE,
            "Messages": _MESSAGE,
            "Collections": "id:int name bytes:int rows:int schema:json created_at:time "
            "updated_at:time data:json",
            "Exports": "id:int user_id:int user_email total:int deduplicate_id type failed:bool "
            "description downloads:int created_at:time updated_at:time status",
            "Snippets": "name value updated_at:time",
            "ReportingWebhooks": "id:int name type endpoint disabled:bool "
            "full_resolution:bool with_content:bool events:json",
            "TransactionalMessages": "id:int name description send_to_unsubscribed:bool "
            "link_tracking:bool open_tracking:bool hide_message_body:bool queue_drafts:bool "
            "created_at:time updated_at:time",
            "TransactionalMessageDeliveries": f"transactional_message_id:int {_MESSAGE}",
            "Activities": _ACTIVITY,
            "SenderIdentities": "id:int deduplicate_id name email address template_type "
            "auto_generated:bool phone hidden:bool",
            "ObjectTypes": "id name singular_name slug singular_slug icon enabled:bool",
            "Objects": "object_type_id object_id cio_object_id",
            "SegmentMemberships": "segment_id:int cio_id id email",
            "CampaignMessages": _MESSAGE,
            "DeletedPeopleActivities": _ACTIVITY,
            "CampaignMetrics": f"campaign_id:int {_METRICS}",
            "CampaignActionMetrics": f"action_id:int campaign_id:int {_METRICS}",
            "BroadcastMetrics": f"broadcast_id:int {_METRICS}",
            "BroadcastActionMetrics": f"action_id:int broadcast_id:int {_METRICS}",
            "NewsletterMetrics": f"newsletter_id:int {_METRICS}",
            "TransactionalMessageMetrics": f"transactional_message_id:int {_METRICS}",
            "CampaignLinkMetrics": f"campaign_id:int {_LINKS}",
            "BroadcastLinkMetrics": f"broadcast_id:int {_LINKS}",
            "NewsletterLinkMetrics": f"newsletter_id:int {_LINKS}",
            "TransactionalLinkMetrics": f"transactional_message_id:int {_LINKS}",
        }.items()
    }
)


def fields_of(object_name: str) -> Mapping[str, FieldKind]:
    """The documented fields of an object's records (with the filter-only names)."""
    return FIELDS.get(object_name, MappingProxyType({}))


def record_fields(object_name: str) -> list[str]:
    """The documented fields that appear in records (not the filter-only names)."""
    skip = FILTER_ONLY.get(object_name, frozenset())
    return [name for name in fields_of(object_name) if name not in skip]
