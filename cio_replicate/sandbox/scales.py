"""Scale presets: how many records of each kind the generated workspace holds."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

ScaleName = Literal["tiny", "demo", "large"]


@dataclass(frozen=True)
class Scale:
    name: ScaleName
    people: int
    messages: int
    activities: int
    campaigns: int  # one of them always has more actions than one actions page
    broadcasts: int
    newsletters: int
    segments: int
    collections: int
    exports: int
    snippets: int
    webhooks: int
    senders: int
    transactional: int
    object_types: int
    objects_per_type: int


SCALES: dict[str, Scale] = {
    "tiny": Scale("tiny", 25, 160, 80, 4, 2, 3, 4, 2, 2, 3, 2, 3, 2, 2, 6),
    "demo": Scale("demo", 300, 3_000, 1_500, 7, 3, 12, 6, 3, 4, 5, 3, 5, 3, 2, 40),
    "large": Scale(
        "large", 100_000, 1_000_000, 200_000, 40, 10, 150, 30, 10, 20, 40, 8, 120, 20, 3, 2_000
    ),
}


def get_scale(name: str) -> Scale:
    try:
        return SCALES[name]
    except KeyError:
        raise ValueError(
            f"unknown sandbox scale {name!r}; choose one of {sorted(SCALES)}"
        ) from None
