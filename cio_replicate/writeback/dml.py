"""DML into Customer.io: which operations each object supports, and how rows are sent.

The operation matrix comes from the catalog (``ObjectSpec.dml``, the connector's
DML table); this module adds, per object, the write mechanics: writable fields and
their types, read-only fields (accepted in input, ignored), the record key, the
natural key used to notice that an INSERT already happened, and the paths.
Customers are written through the Track API (see people.py).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal

from ..catalog import CATALOG, get_object
from ..catalog.select import closest
from ..errors import UsageError
from .checks import InvalidValue
from .fields import FieldType

Operation = Literal["INSERT", "UPDATE", "DELETE"]
Mode = Literal["insert", "update", "delete", "upsert"]
OPERATIONS: tuple[Operation, ...] = ("INSERT", "UPDATE", "DELETE")

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


def _types(**kinds: FieldType) -> Mapping[str, FieldType]:
    return MappingProxyType(kinds)


@dataclass(frozen=True)
class WriteSpec:
    """How rows of one App API object become requests."""

    name: str
    fields: Mapping[str, FieldType]
    readonly: frozenset[str]
    item_path: str  # UPDATE/DELETE target, placeholders are key fields
    key: tuple[str, ...] = ("id",)
    create_path: str | None = None  # POST target of INSERT
    update_path: str | None = None  # when UPDATE does not go to item_path
    update_method: Literal["PUT", "POST"] = "PUT"
    list_envelope: str | None = None  # list endpoint envelope, for the existence index
    natural_key: str | None = None  # an INSERT of an existing value is reported, not repeated
    insert_required: tuple[str, ...] = ()
    update_required: tuple[str, ...] = ()
    wrap: str | None = None  # request body envelope, e.g. {"segment": {...}}
    choices: Mapping[str, frozenset[str]] = field(default_factory=lambda: MappingProxyType({}))
    check: Callable[[Operation, dict[str, Any]], None] | None = None

    @property
    def operations(self) -> frozenset[Operation]:
        return frozenset(get_object(self.name).dml)

    def known(self) -> frozenset[str]:
        return frozenset(self.fields) | self.readonly | frozenset(self.key)


def _collection_check(operation: Operation, values: dict[str, Any]) -> None:
    if "data" in values and "url" in values:
        raise InvalidValue("give either data or url, not both")
    if operation == "INSERT" and "data" not in values and "url" not in values:
        raise InvalidValue("INSERT into Collections needs data (a JSON array) or url")


_CONTENT_FIELDS = _types(
    body="str",
    body_amp="str",
    body_plain="str",
    body_json="str",
    subject="str",
    preheader_text="str",
    from_id="int",
    reply_to_id="int",
    recipient="str",
    headers="json_array",
)
_ACTION_READONLY = frozenset(
    "deduplicate_id name type created updated language layout from reply_to preprocessor "
    "cc bcc fake_bcc parent_action_id broadcast_id".split()
)

WRITE_SPECS: tuple[WriteSpec, ...] = (
    WriteSpec(
        "Collections",
        _types(name="str", data="json_array", url="url"),
        frozenset({"bytes", "rows", "schema", "created_at", "updated_at"}),
        "/v1/collections/{id}",
        create_path="/v1/collections",
        list_envelope="collections",
        natural_key="name",
        insert_required=("name",),
        check=_collection_check,
    ),
    WriteSpec(
        "ReportingWebhooks",
        _types(
            name="str",
            endpoint="url",
            events="str_list",
            disabled="bool",
            full_resolution="bool",
            with_content="bool",
        ),
        frozenset({"type"}),
        "/v1/reporting_webhooks/{id}",
        create_path="/v1/reporting_webhooks",
        list_envelope="reporting_webhooks",
        natural_key="name",
        insert_required=("name", "endpoint", "events"),
        choices=MappingProxyType({"events": WEBHOOK_EVENTS}),
    ),
    WriteSpec(
        "Segments",
        _types(name="str", description="str"),
        frozenset(
            {"deduplicate_id", "state", "progress", "type", "tags", "created_at", "updated_at"}
        ),
        "/v1/segments/{id}",
        create_path="/v1/segments",
        list_envelope="segments",
        natural_key="name",
        insert_required=("name",),
        wrap="segment",
    ),
    WriteSpec(
        "Snippets",
        _types(value="str"),
        frozenset({"updated_at"}),
        "/v1/snippets/{name}",
        key=("name",),
        update_path="/v1/snippets",
        list_envelope="snippets",
        update_required=("value",),
    ),
    WriteSpec(
        "NewsletterVariants",
        _CONTENT_FIELDS,
        _ACTION_READONLY | {"newsletter_id", "from", "fake_bcc"},
        "/v1/newsletters/{newsletter_id}/contents/{id}",
        key=("newsletter_id", "id"),
    ),
    WriteSpec(
        "CampaignActions",
        _types(
            **_CONTENT_FIELDS,
            image_url="str",
            method="str",
            url="url",
            send_to_unsubscribed="bool",
            sender_identity_id="int",
            sending_state="str",
            tracked="bool",
        ),
        _ACTION_READONLY,
        "/v1/campaigns/{campaign_id}/actions/{id}",
        key=("campaign_id", "id"),
        choices=MappingProxyType(
            {
                "sending_state": frozenset({"automatic", "draft", "off"}),
                "method": frozenset({"get", "post", "put", "delete", "patch"}),
            }
        ),
    ),
)

CUSTOMERS = "Customers"


def dml_objects() -> dict[str, frozenset[Operation]]:
    """Object name -> supported operations, from the catalog."""
    return {spec.name: frozenset(spec.dml) for spec in CATALOG if spec.dml}


def supported_text(heading: str = "supported DML") -> str:
    rows = [
        f"  {name}: {', '.join(op for op in OPERATIONS if op in ops)}"
        for name, ops in sorted(dml_objects().items())
    ]
    return f"{heading}:\n" + "\n".join(rows)


def resolve(object_name: str, mode: Mode) -> tuple[str, frozenset[Operation]]:
    """Check the object and mode against the DML table; returns (name, operations used).

    ``upsert`` needs both INSERT and UPDATE. Raised before any call is made.
    """
    objects = dml_objects()
    try:
        name = get_object(object_name).name
    except UsageError:
        match = closest(object_name, [spec.name for spec in CATALOG])
        hint = f" (did you mean {match!r}?)" if match else ""
        raise UsageError(
            f"unknown object {object_name!r}{hint}; {supported_text('objects with DML')}"
        ) from None
    if name not in objects:
        raise UsageError(f"{name} is read-only (no DML); {supported_text()}")
    needed: frozenset[Operation] = (
        frozenset({"INSERT", "UPDATE"}) if mode == "upsert" else frozenset({_op(mode)})
    )
    missing = needed - objects[name]
    if missing:
        raise UsageError(
            f"{mode} is not supported for {name} (it allows "
            f"{', '.join(sorted(objects[name]))}); {supported_text()}"
        )
    return name, needed


def _op(mode: Mode) -> Operation:
    return "INSERT" if mode == "insert" else "UPDATE" if mode == "update" else "DELETE"


def write_spec(name: str) -> WriteSpec:
    for spec in WRITE_SPECS:
        if spec.name == name:
            return spec
    raise UsageError(f"no write mechanics for {name}; {supported_text()}")


def unknown_columns(spec: WriteSpec, names: Iterable[str]) -> list[str]:
    known = spec.known()
    return [n for n in names if n not in known and not n.startswith("_cio_")]
