"""Deterministic pseudo-randomness: every generated value is a pure function of (seed, keys).

No state, so a record can be rebuilt from its index at any time (the large scale relies on it).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import TypeVar

T = TypeVar("T")
_M64 = (1 << 64) - 1


def mix(*parts: int) -> int:
    """A 64-bit hash of integers (splitmix64 steps)."""
    x = 0x9E3779B97F4A7C15
    for part in parts:
        x = (x ^ (part & _M64)) & _M64
        x = (x + 0x9E3779B97F4A7C15) & _M64
        x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & _M64
        x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & _M64
        x = x ^ (x >> 31)
    return x


def frac(*parts: int) -> float:
    """A float in [0, 1)."""
    return mix(*parts) / float(1 << 64)


def pick(options: Sequence[T], *parts: int) -> T:
    return options[mix(*parts) % len(options)]


def below(n: int, *parts: int) -> int:
    return mix(*parts) % n if n > 0 else 0


@lru_cache(maxsize=4096)
def key(text: str) -> int:
    """A stable integer for a short label (salting hashes by purpose)."""
    value = 0
    for ch in text.encode():
        value = (value * 131 + ch) & _M64
    return value
