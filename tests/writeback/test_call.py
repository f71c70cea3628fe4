"""``cio-replicate call``: each procedure against the sandbox, effects read back."""

from __future__ import annotations

import json

from cio_replicate.sandbox import Sandbox

from .conftest import Cli
from .openapi import request_schema, validate

ENTITY = request_schema("/api/v2/entity", "post")


def _related(sandbox: Sandbox, person_id: str) -> list[str]:
    person = sandbox.workspace.people.find_by_id(person_id)
    assert person is not None
    rels = sandbox.workspace.relationships_of_person(person)
    return [r["identifiers"]["object_id"] for r in rels]


def test_send_with_template_creates_a_delivery(cli: Cli, sandbox: Sandbox) -> None:
    code = cli(
        "call",
        "call SendTransactionalEmailWithTemplate(1, 'Ann <person1@example.com>', "
        "'person1@example.com', NULL, 'Your code', NULL, '{\"code\": \"1234\"}')",
    )
    assert code == 0, cli.err
    answer = json.loads(cli.out)
    assert set(answer) == {"delivery_id", "queued_at"}
    message = sandbox.workspace.message(answer["delivery_id"])
    assert message is not None and message["message_template_id"] == 1
    assert message["customer_identifiers"]["email"] == "person1@example.com"
    sent = sandbox.requests[-1]
    assert (sent.method, sent.path) == ("POST", "/v1/send/email")
    validate("components/schemas/sendemail", sent.body)
    assert sent.body["message_data"] == {"code": "1234"}


def test_send_without_template_with_named_parameters(cli: Cli, sandbox: Sandbox) -> None:
    code = cli(
        "call",
        "call SendTransactionalEmailWithoutTemplate(:Body, :Subject, :From, :To, :Identifiers_Email)",
        "--param",
        "Body=<p>Hi 👋</p>",
        "--param",
        "Subject=Hello",
        "--param",
        "From=team@example.com",
        "--param",
        "To=new.person@example.com",
        "--param",
        "Identifiers_Email=new.person@example.com",
    )
    assert code == 0, cli.err
    message = sandbox.workspace.message(json.loads(cli.out)["delivery_id"])
    assert message is not None and message["subject"] == "Hello"
    validate("components/schemas/sendemail", sandbox.requests[-1].body)


def test_object_procedures(cli: Cli, sandbox: Sandbox) -> None:
    # the connector's own example, with its extra 'identify' argument
    example = (
        "call IdentifyObject('1', 'vehicle_5', 'identify', "
        '\'{"Make":"Volkswagen","Model":"Golf R"}\', \'[{"identifiers": {"id": "user-1"}}]\')'
    )
    assert cli("call", example) == 0, cli.err
    assert json.loads(cli.out) == {}
    vehicle = sandbox.workspace.misc.objects["1"]["vehicle_5"]
    assert vehicle["attributes"] == {"Make": "Volkswagen", "Model": "Golf R"}
    assert "vehicle_5" in _related(sandbox, "user-1")

    rel = '\'[{"identifiers": {"id": "user-2"}}]\''
    assert cli("call", f"call AddRelationship('1', 'vehicle_5', {rel})") == 0
    assert "vehicle_5" in _related(sandbox, "user-2")
    assert cli("call", f"call RemoveRelationship('1', 'vehicle_5', {rel})") == 0
    assert "vehicle_5" not in _related(sandbox, "user-2")
    assert cli("call", "call DeleteObject('1', 'vehicle_5')") == 0
    assert "vehicle_5" not in sandbox.workspace.misc.objects["1"]
    assert "vehicle_5" not in _related(sandbox, "user-1")

    bodies = [r.body for r in sandbox.requests if r.path == "/api/v2/entity"]
    assert [b["action"] for b in bodies] == [
        "identify",
        "add_relationships",
        "delete_relationships",
        "delete",
    ]
    for body in bodies:
        validate(ENTITY, body)


def test_invalid_calls_fail_before_any_request(cli: Cli, sandbox: Sandbox) -> None:
    too_many = ", ".join(f"p{i}@example.com" for i in range(16))
    cases = {
        f"call SendTransactionalEmailWithTemplate(1, '{too_many}')": "too many recipients: 16",
        "call DeleteObject('1')": "wrong argument count for DeleteObject: expected 2, got 1",
        "call Nope()": "unknown procedure 'Nope'",
        "call DeleteObjekt('1', 'x')": "unknown procedure 'DeleteObjekt'; did you mean "
        "'DeleteObject'?",
        "call IdentifyObject('1', 'x', '{bad json')": "Attributes is not valid JSON",
    }
    for statement, message in cases.items():
        assert cli("call", statement) == 2
        assert message in cli.err
    assert sandbox.requests == []


def test_the_call_keyword_may_be_left_out(cli: Cli, sandbox: Sandbox) -> None:
    # `cio-replicate call 'NAME(...)'`: the statement without its leading `call`
    code = cli("call", "SendTransactionalEmailWithTemplate(1, 'a@example.com', 'a@example.com')")
    assert code == 0, cli.err
    answer = json.loads(cli.out)
    message = sandbox.workspace.message(answer["delivery_id"])
    assert message is not None and message["customer_identifiers"]["email"] == "a@example.com"
    assert cli("call", "  DeleteObject('1', 'vehicle_5');") == 0, cli.err
    assert [r.path for r in sandbox.requests[-1:]] == ["/api/v2/entity"]


def test_api_refusal_is_reported(cli: Cli, sandbox: Sandbox) -> None:
    code = cli("call", "call SendTransactionalEmailWithTemplate(999, 'a@example.com')")
    assert code == 1
    assert "transactional message 999 not found" in cli.err


def test_help_lists_every_procedure_with_its_arguments(cli: Cli, sandbox: Sandbox) -> None:
    from cio_replicate.writeback.procedures import PROCEDURES

    assert cli("call", "--help") == 0
    flat = " ".join(cli.out.split())
    for proc in PROCEDURES:
        assert proc.signature() in flat and proc.summary in flat
    assert "IdentifyObject(ObjectTypeId, ObjectId[, Attributes, CioRelationships])" in flat
    assert "DeleteObject(ObjectTypeId, ObjectId) " in flat
    assert sandbox.requests == []
