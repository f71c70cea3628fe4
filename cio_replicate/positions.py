"""Resume positions: where an interrupted read goes on, as typed values.

An object's position is stored as JSON in ``_cio_state.resume``::

    {"at": <where the extraction goes on, or null>,
     "max": <largest cursor committed so far, or null>,
     "since": <the source's time at the start of the run that began the read>}

``at`` is a :class:`ListingPosition` (``{"start": <next page token>, "window":
[start_ts, end_ts]}``) or a :class:`FanOutPosition` (``{"pstart": <token of the
parent page in progress>, "done": [<parent keys finished in that page>],
"children": {<parent key>: <token of its next page>}, "window": [...]}``).

:func:`read_position` reads every format written so far: positions without
``since`` (its cap is then the end of their time window, or unknown), and
fan-out positions with ``"child": {"parent": <key>, "start": <token>}`` (one
parent in progress). :meth:`Position.to_json` writes today's format only.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["At", "FanOutPosition", "ListingPosition", "Position", "read_at", "read_position"]

Window = tuple[int, int]


@dataclass(frozen=True)
class ListingPosition:
    """A listing read part way: the next page's token and the time window it reads."""

    start: str | None = None
    window: Window | None = None

    def to_json(self) -> dict[str, Any]:
        return {"start": self.start, "window": _window_json(self.window)}


@dataclass(frozen=True)
class FanOutPosition:
    """A fan-out over parents read part way (:mod:`cio_replicate.extract.fanout`)."""

    pstart: str | None = None
    """The token that fetched the parent page in progress (None: the first page)."""
    done: tuple[str, ...] = ()
    """Keys of the parents of that page read in full."""
    children: Mapping[str, str] = field(default_factory=dict)
    """Parents read part way: ``{key: token of their next page}``."""
    window: Window | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "pstart": self.pstart,
            "window": _window_json(self.window),
            "done": sorted(self.done),
            "children": dict(self.children),
        }


At = ListingPosition | FanOutPosition


@dataclass(frozen=True)
class Position:
    """What ``_cio_state.resume`` holds for a read that is not finished."""

    at: At | None = None
    max: int | None = None
    """The largest cursor committed so far (the watermark's candidate)."""
    since: int | None = None
    """The source's time at the start of the run that began the read (None: not stored)."""

    @property
    def cap(self) -> int | None:
        """Where the watermark of the resumed read is capped: ``since``, or for positions
        written by earlier versions the end of their time window; None when unknown."""
        if self.since is not None:
            return self.since
        return None if self.at is None or self.at.window is None else self.at.window[1]

    def to_json(self) -> dict[str, Any]:
        value: dict[str, Any] = {"at": None if self.at is None else self.at.to_json()}
        value["max"] = self.max
        if self.since is not None:
            value["since"] = self.since
        return value


def read_position(value: Any) -> Position | None:
    """The stored position, any format written so far; None when there is none (not
    a non-empty JSON object: the read starts afresh)."""
    if not isinstance(value, Mapping) or not value:
        return None
    return Position(
        at=read_at(value.get("at")), max=_int(value.get("max")), since=_int(value.get("since"))
    )


_FAN_OUT_KEYS = ("pstart", "done", "children", "child")


def read_at(value: Any) -> At | None:
    """A listing's or a fan-out's position (by its keys), or None."""
    if not isinstance(value, Mapping):
        return None
    window = _window(value.get("window"))
    if not any(k in value for k in _FAN_OUT_KEYS):
        start = value.get("start")
        return ListingPosition(start=None if start is None else str(start), window=window)
    children = value.get("children")
    progress = {
        str(k): str(t) for k, t in (children if isinstance(children, Mapping) else {}).items() if t
    }
    old = value.get("child")  # one parent in progress (earlier versions)
    if isinstance(old, Mapping) and old.get("parent") is not None and old.get("start"):
        progress.setdefault(str(old["parent"]), str(old["start"]))
    pstart = value.get("pstart")
    done = value.get("done")
    return FanOutPosition(
        pstart=None if pstart is None else str(pstart),
        done=tuple(str(k) for k in done) if isinstance(done, list | tuple) else (),
        children=progress,
        window=window,
    )


def _int(value: Any) -> int | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return int(value)
    return None


def _window(value: Any) -> Window | None:
    if isinstance(value, list | tuple) and len(value) == 2:
        start, end = _int(value[0]), _int(value[1])
        if start is not None and end is not None:
            return start, end
    return None


def _window_json(window: Window | None) -> list[int] | None:
    return None if window is None else [window[0], window[1]]
