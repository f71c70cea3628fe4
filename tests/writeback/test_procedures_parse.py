"""Procedure calls: parsing, binding and validation, before anything is sent."""

from __future__ import annotations

import base64
import json

import pytest
from jsonschema import ValidationError

from cio_replicate.errors import UsageError
from cio_replicate.writeback.procedures import PROCEDURES, prepare
from cio_replicate.writeback.sqlcall import Literal, Placeholder, parse_call

from .openapi import request_schema, validate

NOW = 1_700_000_000.0
SENDEMAIL = "components/schemas/sendemail"
ENTITY = request_schema("/api/v2/entity", "post")


def test_parse_literals_and_placeholders() -> None:
    stmt = parse_call(
        "CALL Foo('it''s', 42, -1.5, NULL, true, FALSE, :Name, '{\"a\": [1, \"x)\"]}');"
    )
    assert parse_call("Bar(1)") == parse_call("call Bar(1)") == parse_call("exec Bar (1)")
    assert stmt.name == "Foo"
    assert stmt.args == (
        Literal("it's", quoted=True),
        Literal(42),
        Literal(-1.5),
        Literal(None),
        Literal(True),
        Literal(False),
        Placeholder("Name"),
        Literal('{"a": [1, "x)"]}', quoted=True),
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("select 1", "expected a statement like"),
        ("call Foo('a'", r"missing '\)'"),
        ("call Foo('a) ", "unterminated string"),
        ("call Foo(abc)", "is not a literal"),
        ("call Foo('a' 'b')", r"expected ',' or '\)'"),
        ("call Foo('a') extra", "unexpected text after the call"),
        ("call Foo(1,)", r"unexpected character '\)'"),
    ],
)
def test_parse_errors_are_precise(text: str, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        parse_call(text)


def _email(**over: str) -> str:
    args = {
        "TransactionalMessageId": "7",
        "To": "'a@example.com'",
        "Identifiers_Email": "'a@example.com'",
    }
    args.update(over)
    return f"call SendTransactionalEmailWithTemplate({', '.join(args.values())})"


def test_send_with_template_builds_the_spec_body() -> None:
    attachment = base64.b64encode(b"hello").decode()
    text = (
        "call SendTransactionalEmailWithTemplate(7, 'Ann <a@example.com>, b@example.com', "
        "'a@example.com', NULL, 'Hi', NULL, '{\"token\": \"x\"}', 1700000100, 'c@example.com', "
        f"TRUE, NULL, 'pre', 'plain', '{{\"a.txt\": \"{attachment}\"}}', "
        '\'[{"name": "X-Tag", "value": "t1"}]\', FALSE, TRUE, TRUE, FALSE, FALSE)'
    )
    request = prepare(text, {}, NOW)
    assert (request.api, request.method, request.path) == ("app", "POST", "/v1/send/email")
    assert request.body == {
        "transactional_message_id": 7,
        "to": "Ann <a@example.com>, b@example.com",
        "identifiers": {"email": "a@example.com"},
        "subject": "Hi",
        "message_data": {"token": "x"},
        "send_at": 1700000100,
        "bcc": "c@example.com",
        "fake_bcc": True,
        "preheader": "pre",
        "body_plain": "plain",
        "attachments": {"a.txt": attachment},
        "headers": json.dumps([{"name": "X-Tag", "value": "t1"}]),
        "disable_message_retention": False,
        "send_to_unsubscribed": True,
        "tracked": True,
        "queue_draft": False,
        "disable_css_preprocessing": False,
    }
    validate(SENDEMAIL, request.body)


def test_send_without_template_and_named_params() -> None:
    text = "call SendTransactionalEmailWithoutTemplate(:Body, :Subject, :From, :To)"
    params = {"body": "<p>x</p>", "Subject": "S", "From": "f@example.com", "To": "t@example.com"}
    request = prepare(text, params, NOW)
    assert request.body == {
        "body": "<p>x</p>",
        "subject": "S",
        "from": "f@example.com",
        "to": "t@example.com",
    }
    validate(SENDEMAIL, request.body)


def test_trigger_name_stays_text_numeric_text_becomes_int() -> None:
    assert (
        prepare(_email(TransactionalMessageId="'pwdreset'"), {}, NOW).body[
            "transactional_message_id"
        ]
        == "pwdreset"
    )
    assert (
        prepare(_email(TransactionalMessageId="'44'"), {}, NOW).body["transactional_message_id"]
        == 44
    )


@pytest.mark.parametrize(
    ("text", "params", "message"),
    [
        ("call NoSuchThing(1)", {}, r"(?s)unknown procedure 'NoSuchThing'.*IdentifyObject\("),
        ("call DeleteObject('1')", {}, "wrong argument count for DeleteObject: expected 2, got 1"),
        (
            "call DeleteObject('1', 'a', 'b')",
            {},
            "wrong argument count for DeleteObject: expected 2, got 3",
        ),
        (
            "call SendTransactionalEmailWithTemplate(7)",
            {},
            "expected 2 to 20, got 1",
        ),
        (_email(To="NULL"), {}, "To is required and cannot be NULL"),
        (
            _email(To="'" + ", ".join(f"p{i}@example.com" for i in range(16)) + "'"),
            {},
            "too many recipients: 16",
        ),
        (
            _email(To="'" + ", ".join(f"p{i}@example.com" for i in range(10)) + "'")[:-1]
            + ", NULL, NULL, NULL, NULL, NULL, '"
            + ", ".join(f"q{i}@example.com" for i in range(6))
            + "')",
            {},
            r"too many recipients: 16 across To, Bcc",
        ),
        (
            _email(To="'not an address'"),
            {},
            "To: 'not an address' is not a list of email addresses",
        ),
        (
            _email()[:-1] + ", NULL, NULL, NULL, '{bad'" + ")",
            {},
            "MessageData is not valid JSON",
        ),
        (
            _email()[:-1] + ", NULL, NULL, NULL, '[1]'" + ")",
            {},
            "MessageData must be a JSON object",
        ),
        (
            _email()[:-1] + ", NULL, NULL, NULL, NULL, " + str(int(NOW) + 91 * 86400) + ")",
            {},
            "SendAt is 91.0 days ahead",
        ),
        (
            "call SendTransactionalEmailWithTemplate(:Id, :To, :FakeBcc)",
            {"Id": "1", "To": "a@example.com", "Nope": "x"},
            "--param Nope matches no placeholder",
        ),
        ("call DeleteObject('x', 'a')", {}, 'ObjectTypeId must be a positive integer like "1"'),
        ("call DeleteObject('1', '')", {}, "ObjectId must not be empty"),
        ("call AddRelationship('1', 'a', NULL)", {}, "CioRelationships is required"),
        ("call AddRelationship('1', 'a', '[]')", {}, "CioRelationships must list at least one"),
        (
            'call AddRelationship(\'1\', \'a\', \'[{"identifiers": {"id": "1", "email": "x"}}]\')',
            {},
            r"CioRelationships\[0\].identifiers must hold exactly one of id, email, cio_id",
        ),
        ("call IdentifyObject('1', 'a', '[1]')", {}, "Attributes must be a JSON object"),
        ("call IdentifyObject('1', 'a', 5)", {}, "Attributes must be JSON inside quotes"),
    ],
)
def test_validation_messages(text: str, params: dict[str, str], message: str) -> None:
    with pytest.raises(UsageError, match=message):
        prepare(text, params, NOW)


def _with_attachments(value: str) -> str:
    return _email()[:-1] + ", NULL" * 10 + ", " + value + ")"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ('\'{"a.txt": "not base64!"}\'', "content of 'a.txt' is not valid base64"),
        ('\'{"noextension": "aGk="}\'', "file name 'noextension' needs an extension"),
        ("'[\"a\"]'", "Attachments must be a JSON object"),
        (
            '\'{"big.bin": "' + base64.b64encode(b"x" * (2 * 1024 * 1024)).decode() + "\"}'",
            "attachments total 2097152 bytes",
        ),
    ],
)
def test_attachment_checks(value: str, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        prepare(_with_attachments(value), {}, NOW)


def _with_headers(value: str) -> str:
    return _email()[:-1] + ", NULL" * 11 + ", " + value + ")"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ('\'[{"name": "X-A", "value": "has space"}]\'', "header value 'has space'"),
        ('\'{"X-Ünï": "v"}\'', "header name 'X-Ünï' must be non-empty ASCII"),
        ('\'{"Subject": "v"}\'', "header 'Subject' is reserved"),
        ("'{\"X-A\": 5}'", "header 'X-A' must have a string value"),
        ('\'[{"n": "X-A"}]\'', r"each header must be an object \{name, value\}"),
    ],
)
def test_header_checks(value: str, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        prepare(_with_headers(value), {}, NOW)


def test_headers_object_form_is_sent_as_the_spec_string() -> None:
    body = prepare(_with_headers('\'{"X-Mailgun-Tag": "t"}\''), {}, NOW).body
    assert json.loads(body["headers"]) == [{"name": "X-Mailgun-Tag", "value": "t"}]
    validate(SENDEMAIL, body)


def test_object_procedures_match_the_v2_schemas() -> None:
    rel = '[{"identifiers": {"id": "baf708000001"}}]'
    cases = {
        # the connector's own example, with its extra 'identify' argument
        "call IdentifyObject('1', 'vehicle_5', 'identify', "
        '\'{"Make":"Volkswagen","Model":"Golf R"}\', \'' + rel + "')": "identify",
        f"call AddRelationship('1', 'vehicle_4', '{rel}')": "add_relationships",
        f"call RemoveRelationship(1, 'vehicle_4', '{rel}')": "delete_relationships",
        "call DeleteObject('1', 'vehicle_4')": "delete",
    }
    for text, action in cases.items():
        request = prepare(text, {}, NOW)
        assert (request.api, request.method, request.path) == ("track", "POST", "/api/v2/entity")
        assert request.body["action"] == action
        assert request.body["identifiers"]["object_type_id"] == "1"
        validate(ENTITY, request.body)
    identify = prepare(next(iter(cases)), {}, NOW).body
    assert identify["attributes"] == {"Make": "Volkswagen", "Model": "Golf R"}
    assert identify["cio_relationships"] == [{"identifiers": {"id": "baf708000001"}}]


def test_schema_validation_can_fail() -> None:
    body = prepare("call DeleteObject('1', 'a')", {}, NOW).body
    with pytest.raises(ValidationError):
        validate(ENTITY, {**body, "identifiers": {"object_type_id": 1}})


def test_every_procedure_has_the_connector_parameter_list() -> None:
    signatures = {p.name: [q.name for q in p.params] for p in PROCEDURES}
    assert signatures["SendTransactionalEmailWithoutTemplate"][:5] == [
        "Body",
        "Subject",
        "From",
        "To",
        "Identifiers_Email",
    ]
    assert len(signatures["SendTransactionalEmailWithTemplate"]) == 20
    assert len(signatures["SendTransactionalEmailWithoutTemplate"]) == 19
    assert signatures["IdentifyObject"] == [
        "ObjectTypeId",
        "ObjectId",
        "Attributes",
        "CioRelationships",
    ]
    assert signatures["DeleteObject"] == ["ObjectTypeId", "ObjectId"]
