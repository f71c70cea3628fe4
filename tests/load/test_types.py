"""Logical types without a database: inference, widening, time parsing."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from cio_replicate.load.types import infer, join, parse_timestamp, to_text


def test_infer() -> None:
    assert [infer(v) for v in (None, True, 1, 1.5, "a", {}, [])] == [
        None,
        "bool",
        "int",
        "float",
        "text",
        "json",
        "json",
    ]
    assert infer(2**63) == "text" and infer(-(2**63)) == "int"
    assert infer(float("nan")) == "text" and infer(float("inf")) == "text"


def test_join_only_widens() -> None:
    assert join(None, "int") == "int" and join("int", None) == "int"
    assert join("int", "float") == "float" and join("float", "int") == "float"
    for a in ("bool", "int", "float", "json", "text"):
        for b in ("bool", "int", "float", "json", "text"):
            wide = join(a, b)
            assert wide in (a, b) or wide == "text"
            assert join(wide, a) == wide and join(wide, b) == wide  # no narrowing back


def test_parse_timestamp() -> None:
    assert parse_timestamp(None) is None
    assert parse_timestamp(0) == datetime(1970, 1, 1, tzinfo=UTC)
    assert parse_timestamp(1.5) == datetime(1970, 1, 1, 0, 0, 1, 500000, tzinfo=UTC)
    assert parse_timestamp("1700000000") == datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC)
    assert parse_timestamp("2024-01-01T02:00:00+02:00") == datetime(2024, 1, 1, tzinfo=UTC)
    assert parse_timestamp("2024-01-01 00:00:00") == datetime(2024, 1, 1, tzinfo=UTC)
    beyond_utc = ("0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00")
    for garbage in ("soon", True, 10**15, -(10**12), float("nan"), {"a": 1}, "", *beyond_utc):
        with pytest.raises(ValueError):
            parse_timestamp(garbage)


def test_to_text_is_lossless() -> None:
    assert to_text(True) == "true" and to_text(0.1 + 0.2) == "0.30000000000000004"
    assert to_text({"é": [1, None]}) == '{"é": [1, null]}'
    assert to_text(2**70) == str(2**70)
