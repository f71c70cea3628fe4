"""Parse ``call NAME(arg, ...)`` statements whose arguments are SQL literals.

Accepted arguments: ``'text'`` (a doubled quote ``''`` stands for one quote),
numbers (``42``, ``-1.5``, ``1e3``), ``NULL``, ``TRUE``/``FALSE`` and named
placeholders ``:Name`` bound later from ``--param Name=value``. The keyword
(``call``, ``exec``, ``execute``) may be left out (``NAME(args)``), and the
statement may end with a semicolon. Parsing is pure: nothing is sent.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from ..errors import UsageError

Scalar = str | int | float | bool | None


@dataclass(frozen=True)
class Literal:
    """A literal argument; ``quoted`` tells a ``'42'`` string from a bare ``42``."""

    value: Scalar
    quoted: bool = False


@dataclass(frozen=True)
class Placeholder:
    """A named parameter ``:Name``, bound from the command line."""

    name: str


Argument = Literal | Placeholder


@dataclass(frozen=True)
class CallStatement:
    name: str
    args: tuple[Argument, ...]

    def placeholders(self) -> tuple[str, ...]:
        return tuple(a.name for a in self.args if isinstance(a, Placeholder))


_HEAD = re.compile(r"\s*(?:(?:call|exec|execute)\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*\(", re.IGNORECASE)
_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def parse_call(text: str) -> CallStatement:
    """Parse one ``call`` statement; a UsageError points at the offending column."""
    head = _HEAD.match(text)
    if head is None:
        raise UsageError(
            "expected a statement like: call NAME('text', 42, NULL, :Param) or NAME(...) "
            f"(got {_excerpt(text, 0)})"
        )
    pos = head.end()
    args: list[Argument] = []
    pos = _skip_space(text, pos)
    if pos < len(text) and text[pos] == ")":
        return CallStatement(head.group(1), ())
    while True:
        pos = _skip_space(text, pos)
        arg, pos = _argument(text, pos)
        args.append(arg)
        pos = _skip_space(text, pos)
        if pos >= len(text):
            raise UsageError(f"missing ')' at the end of the call to {head.group(1)}")
        if text[pos] == ",":
            pos += 1
            continue
        if text[pos] == ")":
            pos += 1
            break
        raise UsageError(f"expected ',' or ')' at column {pos + 1}: {_excerpt(text, pos)}")
    rest = text[pos:].strip()
    if rest not in ("", ";"):
        raise UsageError(
            f"unexpected text after the call at column {pos + 1}: {_excerpt(text, pos)}"
        )
    return CallStatement(head.group(1), tuple(args))


def _argument(text: str, pos: int) -> tuple[Argument, int]:
    if pos >= len(text):
        raise UsageError("the argument list ends early: missing argument and ')'")
    char = text[pos]
    if char == "'":
        return _string(text, pos)
    if char == ":":
        word = _WORD.match(text, pos + 1)
        if word is None:
            raise UsageError(f"':' must be followed by a parameter name at column {pos + 1}")
        return Placeholder(word.group(0)), word.end()
    number = _NUMBER.match(text, pos)
    if number is not None:
        raw = number.group(0)
        is_int = re.fullmatch(r"[+-]?\d+", raw) is not None
        return Literal(int(raw) if is_int else float(raw)), number.end()
    word = _WORD.match(text, pos)
    if word is not None:
        keyword = word.group(0).upper()
        constants: dict[str, Scalar] = {"NULL": None, "TRUE": True, "FALSE": False}
        if keyword in constants:
            return Literal(constants[keyword]), word.end()
        raise UsageError(
            f"{word.group(0)!r} at column {pos + 1} is not a literal: quote text as "
            f"'{word.group(0)}', or write a number, NULL, TRUE, FALSE or :{word.group(0)}"
        )
    raise UsageError(f"unexpected character {char!r} at column {pos + 1}: {_excerpt(text, pos)}")


def _string(text: str, pos: int) -> tuple[Literal, int]:
    out: list[str] = []
    i = pos + 1
    while i < len(text):
        char = text[i]
        if char == "'":
            if i + 1 < len(text) and text[i + 1] == "'":
                out.append("'")
                i += 2
                continue
            return Literal("".join(out), quoted=True), i + 1
        out.append(char)
        i += 1
    raise UsageError(f"unterminated string literal starting at column {pos + 1}")


def _skip_space(text: str, pos: int) -> int:
    while pos < len(text) and text[pos].isspace():
        pos += 1
    return pos


def _excerpt(text: str, pos: int) -> str:
    snippet = text[pos : pos + 30]
    return repr(snippet + ("..." if len(text) > pos + 30 else ""))


def parse_params(pairs: tuple[str, ...] | list[str]) -> dict[str, str]:
    """``Name=value`` pairs from ``--param``; the value is raw text (not a literal)."""
    out: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        name = name.strip().lstrip(":")
        if not sep or not _WORD.fullmatch(name):
            raise UsageError(f"--param expects Name=value, got {pair!r}")
        if name in out:
            raise UsageError(f"--param {name} is given twice")
        out[name] = value
    return out


def bind(statement: CallStatement, params: Mapping[str, str]) -> tuple[Literal, ...]:
    """Replace placeholders by their bound values.

    A placeholder with no ``--param`` is NULL (like an unset parameter); a
    ``--param`` naming no placeholder is refused, so a typo cannot go unnoticed.
    Names match case-insensitively.
    Bound values are text (``quoted``), converted by the procedure's parameter types.
    """
    used = {name.lower(): name for name in statement.placeholders()}
    given = {name.lower(): value for name, value in params.items()}
    unknown = sorted(name for name in params if name.lower() not in used)
    if unknown:
        listed = ", ".join(f":{n}" for n in sorted(used.values())) or "none"
        raise UsageError(
            f"--param {', '.join(unknown)} matches no placeholder in the statement "
            f"(placeholders: {listed})"
        )
    bound: list[Literal] = []
    for arg in statement.args:
        if isinstance(arg, Placeholder):
            value = given.get(arg.name.lower())
            bound.append(Literal(value if value != "" else None, quoted=value is not None))
        else:
            bound.append(arg)
    return tuple(bound)
