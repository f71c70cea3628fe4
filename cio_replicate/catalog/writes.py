"""Write specs of the catalog entries that support DML (attached in objects.py).

The operations are the Skyvia connector's DML table; fields, their types and
the read-only fields come from the API reference (customerio-api.md section 3).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from .model import FieldType, WriteSpec


def _types(**kinds: FieldType) -> Mapping[str, FieldType]:
    return MappingProxyType(kinds)


WEBHOOK_EVENTS = frozenset(
    ["customer_subscribed", "customer_unsubscribed", "customer_subscription_preferences_changed"]
    + [
        f"{channel}_{metric}"
        for channel, metrics in {
            "email": "drafted attempted sent delivered opened clicked converted bounced dropped "
            "deferred spammed failed unsubscribed undeliverable",
            "in_app": "drafted attempted sent opened clicked converted failed undeliverable",
            "push": "drafted attempted sent delivered opened clicked converted bounced dropped "
            "failed undeliverable",
            "slack": "drafted attempted sent clicked converted failed",
            "sms": "drafted attempted sent delivered clicked converted bounced dropped failed "
            "undeliverable replied",
            "whatsapp": "drafted attempted sent delivered opened clicked converted bounced "
            "dropped failed undeliverable replied",
            "webhook": "drafted attempted sent clicked converted failed undeliverable",
        }.items()
        for metric in metrics.split()
    ]
)

_CONTENT_FIELDS = _types(
    body="text",
    body_amp="text",
    body_plain="text",
    body_json="text",
    subject="text",
    preheader_text="text",
    from_id="int",
    reply_to_id="int",
    recipient="text",
    headers="json_array",
)
_ACTION_READONLY = frozenset(
    "deduplicate_id name type created updated language layout from reply_to preprocessor "
    "cc bcc fake_bcc parent_action_id".split()
)

# Customers go through the Track API: identifiers and attributes, no fixed fields.
CUSTOMERS = WriteSpec(frozenset({"INSERT", "UPDATE", "DELETE"}), writer="people")

SEGMENTS = WriteSpec(
    frozenset({"INSERT", "DELETE"}),
    fields=_types(name="text", description="text"),
    readonly=frozenset(
        {"deduplicate_id", "state", "progress", "type", "tags", "created_at", "updated_at"}
    ),
    natural_key="name",
    insert_required=("name",),
    wrap="segment",
)

CAMPAIGN_ACTIONS = WriteSpec(
    frozenset({"UPDATE"}),
    fields=_types(
        **_CONTENT_FIELDS,
        image_url="text",
        method="text",
        url="url",
        send_to_unsubscribed="bool",
        sender_identity_id="int",
        sending_state="text",
        tracked="bool",
    ),
    readonly=_ACTION_READONLY,
    choices=MappingProxyType(
        {
            "sending_state": frozenset({"automatic", "draft", "off"}),
            "method": frozenset({"get", "post", "put", "delete", "patch"}),
        }
    ),
)

NEWSLETTER_VARIANTS = WriteSpec(
    frozenset({"UPDATE"}),
    fields=_CONTENT_FIELDS,
    readonly=(_ACTION_READONLY - {"parent_action_id"}) | {"newsletter_id"},
)

COLLECTIONS = WriteSpec(
    frozenset({"INSERT", "UPDATE", "DELETE"}),
    fields=_types(name="text", data="json_array", url="url"),
    readonly=frozenset({"bytes", "rows", "schema", "created_at", "updated_at"}),
    natural_key="name",
    insert_required=("name",),
    one_of=("data", "url"),
)

SNIPPETS = WriteSpec(
    frozenset({"UPDATE", "DELETE"}),
    fields=_types(value="text"),
    readonly=frozenset({"updated_at"}),
    update_required=("value",),
    update_at_listing=True,
)

REPORTING_WEBHOOKS = WriteSpec(
    frozenset({"INSERT", "UPDATE", "DELETE"}),
    fields=_types(
        name="text",
        endpoint="url",
        events="text_list",
        disabled="bool",
        full_resolution="bool",
        with_content="bool",
    ),
    readonly=frozenset({"type"}),
    natural_key="name",
    insert_required=("name", "endpoint", "events"),
    choices=MappingProxyType({"events": WEBHOOK_EVENTS}),
)
