"""What to do with one input row: send a request, skip it, or reject it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, Protocol

from .dml import Mode, Operation
from .wire import WriteRequest

Outcome = Literal["send", "skip", "reject"]


@dataclass(frozen=True)
class Plan:
    outcome: Outcome
    message: str = ""
    request: WriteRequest | None = None
    operation: Operation | None = None
    # What the writer needs to remember once the request succeeded (e.g. a new name).
    memo: tuple[tuple[str, Any], ...] = ()


def send(operation: Operation, request: WriteRequest, message: str = "", **memo: Any) -> Plan:
    return Plan("send", message, request, operation, tuple(memo.items()))


def skip(message: str, operation: Operation | None = None) -> Plan:
    return Plan("skip", message, operation=operation)


def reject(message: str, operation: Operation | None = None) -> Plan:
    return Plan("reject", message, operation=operation)


class Writer(Protocol):
    """Turns typed rows of one object into plans, and learns from what was sent."""

    name: str

    def plan(self, mode: Mode, values: dict[str, Any]) -> Plan: ...

    def applied(self, plan: Plan, response: Any) -> str:
        """Record a successful write; returns a note for the output (e.g. the new id)."""
        ...

    def missing(self, plan: Plan) -> Plan:
        """The API answered 404 for ``plan``: what that means for this row."""
        ...
