"""Spreadsheet-safe CSV cells (CSV / formula injection, OWASP guidance).

A spreadsheet runs a cell that begins with ``=``, ``+``, ``-``, ``@``, a tab or a
carriage return as a formula, and person attributes come from end users. In safe
mode such a cell is written with a leading ``'``, which spreadsheets show as text
and do not evaluate. A plain number (``-5``, ``+3.5``, ``-1e3``) cannot be a
formula and is never changed, so numeric columns stay numbers.

The ``'`` is data to any other reader (``import`` included), so the mode is for
files meant for people; machine exports stay exact (the default).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")


def is_risky(text: str) -> bool:
    """True if a spreadsheet would evaluate ``text`` as a formula."""
    return text.startswith(TRIGGERS) and _NUMBER.fullmatch(text) is None


def escape(text: str) -> str:
    return "'" + text if is_risky(text) else text


class Guard:
    """Counts risky cells and, in safe mode, escapes them."""

    def __init__(self, safe: bool) -> None:
        self.safe = safe
        self.risky = 0

    def row(self, cells: Sequence[str]) -> list[str]:
        out = list(cells)
        for i, text in enumerate(out):
            if is_risky(text):
                self.risky += 1
                if self.safe:
                    out[i] = "'" + text
        return out
