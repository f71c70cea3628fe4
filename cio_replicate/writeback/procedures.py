"""Procedure calls: ``call NAME(args)`` with the connector's names and parameter lists.

Transactional email goes to ``POST /v1/send/email`` (App API); the object procedures
are Track API v2 ``POST /api/v2/entity`` operations. Every argument is converted and
checked before anything is sent; a failure raises UsageError naming the parameter.
"""

from __future__ import annotations

import json
import textwrap
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from ..catalog.select import did_you_mean
from ..errors import UsageError
from ..http import CioClient
from . import checks
from .sqlcall import Literal as SqlLiteral
from .sqlcall import bind, parse_call
from .wire import WriteRequest, send

Kind = Literal["text", "int", "bool", "json", "message_id"]


@dataclass(frozen=True)
class Param:
    name: str
    kind: Kind = "text"
    required: bool = False


@dataclass(frozen=True)
class Procedure:
    name: str
    params: tuple[Param, ...]
    build: Callable[[dict[str, Any], float], WriteRequest]
    summary: str

    @property
    def min_args(self) -> int:
        required = [i for i, p in enumerate(self.params) if p.required]
        return required[-1] + 1 if required else 0

    def signature(self) -> str:
        """``Name(Required, ...[, Optional, ...])``."""
        names = [p.name for p in self.params]
        required, optional = names[: self.min_args], names[self.min_args :]
        inner = ", ".join(required)
        if optional:
            inner += ("[, " if required else "[") + ", ".join(optional) + "]"
        return f"{self.name}({inner})"


def _p(name: str, kind: Kind = "text", required: bool = False) -> Param:
    return Param(name, kind, required)


# Parameter -> send-email body field (reference §5.8); order is the connector's.
_EMAIL_FIELDS: dict[str, str] = {
    "TransactionalMessageId": "transactional_message_id",
    "To": "to",
    "Body": "body",
    "Subject": "subject",
    "From": "from",
    "MessageData": "message_data",
    "SendAt": "send_at",
    "Bcc": "bcc",
    "FakeBcc": "fake_bcc",
    "ReplyTo": "reply_to",
    "Preheader": "preheader",
    "PlaintextBody": "body_plain",
    "Attachments": "attachments",
    "Headers": "headers",
    "DisableMessageRetention": "disable_message_retention",
    "SendToUnsubscribed": "send_to_unsubscribed",
    "Tracked": "tracked",
    "QueueDraft": "queue_draft",
    "DisableCssPreprocessing": "disable_css_preprocessing",
}
_EMAIL_TAIL = (
    _p("MessageData", "json"),
    _p("SendAt", "int"),
    _p("Bcc"),
    _p("FakeBcc", "bool"),
    _p("ReplyTo"),
    _p("Preheader"),
    _p("PlaintextBody"),
    _p("Attachments", "json"),
    _p("Headers", "json"),
    _p("DisableMessageRetention", "bool"),
    _p("SendToUnsubscribed", "bool"),
    _p("Tracked", "bool"),
    _p("QueueDraft", "bool"),
    _p("DisableCssPreprocessing", "bool"),
)


def _send_email(args: dict[str, Any], now: float) -> WriteRequest:
    for name in ("To", "Bcc", "ReplyTo"):
        if args.get(name) is not None:
            checks.recipients(name, args[name])
    checks.recipient_limit({"To": args.get("To"), "Bcc": args.get("Bcc")})
    body: dict[str, Any] = {}
    for name, value in args.items():
        if value is None:
            continue
        if name == "Identifiers_Email":
            body["identifiers"] = {"email": checks.email(name, value)}
        elif name == "MessageData":
            body["message_data"] = checks.parse_json(name, value, dict)
        elif name == "Attachments":
            body["attachments"] = checks.attachments(name, value)
        elif name == "Headers":
            # The spec types it as a JSON string of [{name, value}] (the official
            # clients send an object map; the spec is the newer source).
            body["headers"] = json.dumps(checks.headers(name, value))
        elif name == "SendAt":
            body["send_at"] = checks.send_at(name, value, now)
        else:
            body[_EMAIL_FIELDS[name]] = value
    return WriteRequest("app", "POST", "/v1/send/email", body)


def _object_op(action: str) -> Callable[[dict[str, Any], float], WriteRequest]:
    def build(args: dict[str, Any], now: float) -> WriteRequest:
        body: dict[str, Any] = {
            "type": "object",
            "identifiers": {
                "object_type_id": checks.object_type_id("ObjectTypeId", args["ObjectTypeId"]),
                "object_id": checks.identifier("ObjectId", args["ObjectId"]),
            },
            "action": action,
        }
        if action == "identify":
            attributes = checks.parse_json("Attributes", args.get("Attributes"), dict)
            if attributes is not None:
                body["attributes"] = attributes
        if action != "delete":
            rels = checks.relationships(
                "CioRelationships", args.get("CioRelationships"), required=action != "identify"
            )
            if rels is not None:
                body["cio_relationships"] = rels
        return WriteRequest("track", "POST", "/api/v2/entity", body)

    return build


_OBJECT_KEY = (_p("ObjectTypeId", required=True), _p("ObjectId", required=True))
PROCEDURES: tuple[Procedure, ...] = (
    Procedure(
        "SendTransactionalEmailWithTemplate",
        (
            _p("TransactionalMessageId", "message_id", True),
            _p("To", required=True),
            _p("Identifiers_Email"),
            _p("Body"),
            _p("Subject"),
            _p("From"),
            *_EMAIL_TAIL,
        ),
        _send_email,
        "send a transactional email from a template (POST /v1/send/email)",
    ),
    Procedure(
        "SendTransactionalEmailWithoutTemplate",
        (
            _p("Body", required=True),
            _p("Subject", required=True),
            _p("From", required=True),
            _p("To", required=True),
            _p("Identifiers_Email"),
            *_EMAIL_TAIL,
        ),
        _send_email,
        "send a transactional email with its own body (POST /v1/send/email)",
    ),
    Procedure(
        "IdentifyObject",
        (*_OBJECT_KEY, _p("Attributes", "json"), _p("CioRelationships", "json")),
        _object_op("identify"),
        "create or update a custom object (Track v2 identify)",
    ),
    Procedure(
        "AddRelationship",
        (*_OBJECT_KEY, _p("CioRelationships", "json", True)),
        _object_op("add_relationships"),
        "relate people to a custom object (Track v2 add_relationships)",
    ),
    Procedure(
        "DeleteObject",
        _OBJECT_KEY,
        _object_op("delete"),
        "delete a custom object and its relationships (Track v2 delete)",
    ),
    Procedure(
        "RemoveRelationship",
        (*_OBJECT_KEY, _p("CioRelationships", "json", True)),
        _object_op("delete_relationships"),
        "remove people from a custom object (Track v2 delete_relationships)",
    ),
)


def procedures_help(width: int = 78) -> str:
    """Every procedure's signature and summary, for ``call --help``."""
    lines = ["Procedures (arguments in [ ] may be left out):"]
    for proc in PROCEDURES:
        lines += textwrap.wrap(
            proc.signature(), width, initial_indent="  ", subsequent_indent="      "
        )
        lines.append(f"      {proc.summary}")
    return "\n".join(lines)


def get_procedure(name: str) -> Procedure:
    for proc in PROCEDURES:
        if proc.name.lower() == name.lower():
            return proc
    listed = "\n  ".join(p.signature() for p in PROCEDURES)
    hint = did_you_mean(name, [p.name for p in PROCEDURES])
    raise UsageError(f"unknown procedure {name!r}{hint}\nsupported procedures:\n  {listed}")


def _convert(param: Param, arg: SqlLiteral, proc: str) -> Any:
    value = arg.value
    where = f"{proc}: {param.name}"
    if value is None:
        if param.required:
            raise UsageError(f"{where} is required and cannot be NULL")
        return None
    if param.kind == "bool":
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in ("true", "1", "yes", "t"):
            return True
        if text in ("false", "0", "no", "f"):
            return False
        raise UsageError(f"{where} must be TRUE or FALSE, got {value!r}")
    if isinstance(value, bool):
        raise UsageError(f"{where} must be {param.kind}, got {str(value).upper()}")
    if param.kind == "int" or (param.kind == "message_id" and _is_int(value)):
        if not _is_int(value):
            raise UsageError(f"{where} must be an integer, got {value!r}")
        return int(value)
    if param.kind == "json" and not arg.quoted:
        raise UsageError(f'{where} must be JSON inside quotes, like \'{{"key": "value"}}\'')
    return value if isinstance(value, str) else _number_text(value)


def _is_int(value: object) -> bool:
    if isinstance(value, int):
        return True
    if isinstance(value, float):
        return value.is_integer()
    return isinstance(value, str) and value.strip().lstrip("+-").isdigit()


def _number_text(value: int | float) -> str:
    return str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)


def prepare(text: str, params: Mapping[str, str], now: float) -> WriteRequest:
    """Parse, bind, convert and check a call; the request is ready to send."""
    statement = parse_call(text)
    proc = get_procedure(statement.name)
    args = list(bind(statement, params))
    # The connector's IdentifyObject example passes the action 'identify' third.
    if proc.name == "IdentifyObject" and len(args) == 5 and _is_action(args[2], "identify"):
        del args[2]
    if not proc.min_args <= len(args) <= len(proc.params):
        expected = (
            str(len(proc.params))
            if proc.min_args == len(proc.params)
            else f"{proc.min_args} to {len(proc.params)}"
        )
        raise UsageError(
            f"wrong argument count for {proc.name}: expected {expected}, got {len(args)}; "
            f"usage: call {proc.signature()}"
        )
    values = {p.name: _convert(p, a, proc.name) for p, a in zip(proc.params, args, strict=False)}
    try:
        return proc.build(values, now)
    except checks.InvalidValue as exc:
        raise UsageError(f"{proc.name}: {exc}") from None


def _is_action(arg: SqlLiteral, action: str) -> bool:
    return isinstance(arg.value, str) and arg.value.strip().lower() == action


def call(client: CioClient, request: WriteRequest) -> Any:
    """Send a prepared call; the API's answer (e.g. delivery_id, queued_at) is returned."""
    return send(client, request)
