"""Deletes found by a complete read (the ``deletes`` setting: soft, hard or keep).

An object whose run reads the complete current list from the API (a full
listing, the people search, the children of every listed parent) knows that
a key it did not read is gone. Two ways, one notion of "complete":

* a full refresh (``replace``): the stage holds exactly what was read; with
  ``soft`` the rows missing from it are carried over, marked
  (``load/replace.py``); ``hard`` and ``keep`` swap as before (rows gone).
* an object written by key (``upsert``): :class:`KeyTracker` collects every
  key read; when the read ends, in the transaction that moves the watermark,
  the live keys not read are marked (``soft``) or removed (``hard``).

A read is complete only when it began at the start (no resume position of an
interrupted run), had no filter, and reached its end: a failed object (an
error after the retries), an interrupted or killed run, a filtered run never
get there, so they mark nothing. The mass-drop guard (engine/guard.py) holds
for the deletes as for full refreshes. Children of a deleted parent follow it
because their own read no longer lists them.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Literal

import sqlalchemy as sa

from ..catalog import ObjectSpec
from ..extract import Record
from ..load import TableWriter
from ..load.deletes import Key, has_column, live_keys, mark_deleted, remove, text_key
from .guard import check_drop

Deletes = Literal["soft", "hard", "keep"]


def deletes_setting(value: str) -> Deletes:
    """The ``deletes`` setting as its type (config.py has checked the value)."""
    if value == "hard":
        return "hard"
    if value == "keep":
        return "keep"
    return "soft"


def tracks(spec: ObjectSpec) -> bool:
    """Does the object's run read the complete current list (so a missing key is gone)?

    Not: time-windowed reads (``since`` pushdowns, the metrics series' recent days),
    newest-first listings cut at the floor, and insert-only objects (deliveries, activities: their reads are
    windows), except people, whose search lists everyone every run.
    """
    if spec.since_param is not None or spec.newest_first:
        return False
    if spec.extractor == "metrics":  # daily series: each run re-reads only recent days
        return False
    return spec.mode != "append" or spec.current


class KeyTracker:
    """The keys an object written by key has read in this run."""

    def __init__(self, spec: ObjectSpec, *, enabled: bool) -> None:
        self.key = spec.key
        self.enabled = enabled
        self.seen: set[Key] = set()

    def add(self, records: Iterable[Record]) -> None:
        if self.enabled:
            key = self.key
            self.seen.update(text_key(r.get(f) for f in key) for r in records)

    def finish(
        self,
        conn: sa.Connection,
        table: TableWriter,
        how: Deletes,
        moment: datetime,
        max_drop: float,
    ) -> int:
        """Mark or remove the live rows whose key was not read; returns how many."""
        if not self.enabled or how == "keep":
            return 0
        marked = has_column(conn, table.name)
        if marked is None or not table.recorded(conn):
            return 0  # no table yet (or one this tool did not make)
        soft = how == "soft"
        if soft and not marked:
            table.evolve(conn)  # a table of an earlier version gains the column
        live = live_keys(conn, table, soft=soft)
        gone = [stored for key, stored in live.items() if key not in self.seen]
        if not gone:
            return 0
        check_drop(table.name, len(live), len(live) - len(gone), max_drop)
        if soft:
            return mark_deleted(conn, table, gone, moment)
        return remove(conn, table, gone)
