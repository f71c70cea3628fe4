"""Resume positions: typed values written as today's JSON, every earlier format read."""

from __future__ import annotations

import json
import random
from typing import Any

from cio_replicate.positions import FanOutPosition, ListingPosition, Position, read_position


def _token(rng: random.Random) -> str | None:
    return rng.choice([None, "", "abc", "eyJrIjoxfQ==", "ü/✓ 7"])


def _window(rng: random.Random) -> tuple[int, int] | None:
    if rng.random() < 0.3:
        return None
    start = rng.randrange(1, 2_000_000_000)
    return start, start + rng.randrange(0, 10_000)


def _position(rng: random.Random) -> Position:
    at: ListingPosition | FanOutPosition | None
    kind = rng.randrange(3)
    if kind == 0:
        at = None
    elif kind == 1:
        at = ListingPosition(_token(rng), _window(rng))
    else:
        keys = [json.dumps([rng.randrange(100)]) for _ in range(rng.randrange(5))]
        done = tuple(sorted(set(keys[: len(keys) // 2])))
        children = {k: f"t{rng.randrange(9)}" for k in keys[len(keys) // 2 :]}
        at = FanOutPosition(_token(rng), done, children, _window(rng))
    figure = [None, 0, rng.randrange(1, 2_000_000_000)]
    return Position(at, rng.choice(figure), rng.choice(figure))


def test_every_position_reads_back_as_written() -> None:
    rng = random.Random(20261206)
    for _ in range(500):
        position = _position(rng)
        stored = json.loads(json.dumps(position.to_json(), sort_keys=True))  # as the store does
        assert read_position(stored) == position
        assert read_position(stored).to_json() == stored  # type: ignore[union-attr]


def test_the_json_written_is_the_format_earlier_versions_wrote() -> None:
    listing = Position(ListingPosition("tok", (1, 9)), 5, 8)
    assert listing.to_json() == {"at": {"start": "tok", "window": [1, 9]}, "max": 5, "since": 8}
    fan_out = Position(FanOutPosition(None, ("[2]", "[1]"), {"[3]": "x"}, None), None)
    assert fan_out.to_json() == {
        "at": {"pstart": None, "window": None, "done": ["[1]", "[2]"], "children": {"[3]": "x"}},
        "max": None,
    }


def test_positions_of_earlier_versions_are_read() -> None:
    # one parent in progress ("child"), no "since": the cap is the window's end
    old: Any = {
        "at": {"pstart": "p2", "done": ["[1]"], "child": {"parent": "[4]", "start": "c9"},
               "window": [10, 20]},
        "max": 15,
    }  # fmt: skip
    position = read_position(old)
    assert position == Position(FanOutPosition("p2", ("[1]",), {"[4]": "c9"}, (10, 20)), 15)
    assert position.cap == 20
    # "child" and "children" together: "children" wins for the same parent
    both = {"pstart": None, "children": {"[4]": "new"}, "child": {"parent": "[4]", "start": "o"}}
    assert read_position({"at": both, "max": None}) == Position(
        FanOutPosition(children={"[4]": "new"})
    )
    # no window, no since: the cap is unknown (the watermark stays where it was)
    assert read_position({"at": {"start": "x"}, "max": 5}).cap is None  # type: ignore[union-attr]
    assert read_position({"at": None, "max": None}) == Position()


def test_anything_else_is_no_position() -> None:
    for value in (None, {}, [1], "x", 3):
        assert read_position(value) is None
    odd = read_position({"at": {"start": 7, "window": ["a", 2]}, "max": True, "since": "9"})
    assert odd == Position(ListingPosition("7", None), None, None)
