"""The import journal: which rows are done, so a rerun neither repeats nor skips.

A JSON-lines file beside the input (``people.csv`` -> ``people.csv.progress``) gets
one line per row that succeeded or was found already done, written and flushed right
after the API answered. A rerun skips rows whose fingerprint (object, mode and the
mapped values) is in the journal; a row changed since is a new fingerprint and is
sent. If the process dies between the API's answer and the journal line, the rerun
sends that one row again, and the writers' existence checks make that harmless.
The journal is removed when an import ends with no failed row.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import IO, Any

from ..errors import UsageError


def fingerprint(object_name: str, mode: str, values: dict[str, Any]) -> str:
    canonical = json.dumps(
        [object_name, mode, sorted((k, v) for k, v in values.items() if v not in (None, ""))],
        ensure_ascii=False,
        default=str,
        separators=(",", ":"),
    )
    return hashlib.sha256(canonical.encode()).hexdigest()[:32]


class Journal:
    def __init__(self, path: Path | None) -> None:
        self.path = path
        self.done: set[str] = set()
        self._handle: IO[str] | None = None
        if path is not None and path.exists():
            for line in path.read_text(encoding="utf-8").splitlines():
                try:
                    self.done.add(json.loads(line)["fp"])
                except (ValueError, KeyError, TypeError):
                    continue  # a torn last line from a crash

    def record(self, fp: str, row: int, outcome: str) -> None:
        if self.path is None:
            return
        if self._handle is None:
            try:
                self._handle = self.path.open("a", encoding="utf-8")
            except OSError as exc:
                raise UsageError(f"cannot write the import journal {self.path}: {exc}") from None
        self._handle.write(json.dumps({"fp": fp, "row": row, "outcome": outcome}) + "\n")
        self._handle.flush()
        self.done.add(fp)

    def close(self, *, finished: bool) -> None:
        """Close; a finished import (no failed row) removes the journal."""
        if self._handle is not None:
            self._handle.close()
            self._handle = None
        if finished and self.path is not None:
            self.path.unlink(missing_ok=True)
