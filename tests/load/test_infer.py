"""Typing people's attribute strings (load/infer.py): pure, no database."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from cio_replicate.load.infer import as_float, as_int, as_time, kinds_of, type_strings
from cio_replicate.load.types import Logical


def typed(
    values: list[Any], field: str = "f", column: Logical | None = None
) -> tuple[list[Any], bool]:
    """The field's values after typing one batch, and whether it was taken for a time."""
    batch = [{"id": str(i), field: v} for i, v in enumerate(values)]
    columns = {} if column is None else {field: column}
    out, times = type_strings(batch, columns, kept=("id",))
    return [r[field] for r in out], field in times


@pytest.mark.parametrize(
    ("text", "value"),
    [("0", 0), ("26", 26), ("-3", -3), ("9223372036854775807", 2**63 - 1)],
)
def test_canonical_integers(text: str, value: int) -> None:
    assert as_int(text) == value


@pytest.mark.parametrize(
    "text",
    ["007", "+5", "1_000", " 5", "5 ", "٤٢", "9223372036854775808", "", "-", "1.0", "1e3"],
)
def test_not_canonical_integers(text: str) -> None:
    assert as_int(text) is None


@pytest.mark.parametrize("text", ["26.5", "0.1", "-1.25", "1e+16", "123.45"])
def test_floats_whose_repr_round_trips(text: str) -> None:
    value = as_float(text)
    assert value is not None and repr(value) == text


@pytest.mark.parametrize("text", ["26.50", "1.", ".5", "1e5", "nan", "inf", "0.10000000000000001"])
def test_floats_that_would_not_come_back_as_written(text: str) -> None:
    assert as_float(text) is None


def test_iso_times_need_a_date_and_a_time() -> None:
    assert as_time("2024-05-01T10:00:00Z") == datetime(2024, 5, 1, 10, tzinfo=UTC)
    assert as_time("2024-05-01 12:30:00+02:00") == datetime(2024, 5, 1, 10, 30, tzinfo=UTC)
    assert as_time("2024-05-01T10:00") == datetime(2024, 5, 1, 10, tzinfo=UTC)  # naive: UTC
    for text in ("2024-05-01", "20240501T100000", "2024-05-01T25:00", "soon", "0999-01-01T00:00"):
        assert as_time(text) is None, text


def test_unix_seconds_are_times_only_in_fields_named_at() -> None:
    assert kinds_of("last_login_at", "1700000000") == {"number", "timestamp"}
    assert kinds_of("last_login", "1700000000") == {"number"}
    assert kinds_of("signup_at", "42") == {"number"}  # out of the plausible range
    assert kinds_of("signup_at", "1700000000.5") == {"number"}
    assert kinds_of("x", "true") == {"bool"} and kinds_of("x", "True") == frozenset()


def test_a_whole_field_converts_or_none_of_it() -> None:
    assert typed(["26", "40", None]) == ([26, 40, None], False)
    assert typed(["26", "26.5"]) == ([26, 26.5], False)  # int + float: float by join
    assert typed(["true", "false"]) == ([True, False], False)
    assert typed(["26", "n/a"]) == (["26", "n/a"], False)
    assert typed(["true", "1"]) == (["true", "1"], False)
    assert typed(["007", "8"]) == (["007", "8"], False)
    assert typed(["26.50", "1.5"]) == (["26.50", "1.5"], False)


def test_times_are_named_and_left_as_strings_for_the_mapper() -> None:
    iso = ["2024-05-01T10:00:00Z", "2024-06-01 00:00:00"]
    assert typed(iso) == (iso, True)
    assert typed(["1700000000", "2024-05-01T10:00:00Z"], field="seen_at")[1] is True
    assert typed(["1700000000", "42"], field="seen_at") == ([1700000000, 42], False)  # ints
    assert typed(["1700000000"], field="seen") == ([1700000000], False)


def test_the_current_column_decides() -> None:
    assert typed(["26"], column="text") == (["26"], False)  # text never types again
    assert typed(["26"], column="float") == ([26], False)
    assert typed(["26.5"], column="int") == ([26.5], False)  # int -> float by the join
    assert typed(["true"], column="int") == (["true"], False)  # would be text anyway
    assert typed(["26"], column="bool") == (["26"], False)
    assert typed(["true"], column="bool") == ([True], False)
    # a timestamp column: the mapper's path parses every value (no time: the raw column)
    assert typed(["2024-05-01T10:00:00Z"], column="timestamp") == (["2024-05-01T10:00:00Z"], False)
    # unix seconds in an int column of a *_at field stay numbers (a time would be text)
    assert typed(["1700000000"], field="n_at", column="int") == ([1700000000], False)


def test_identifiers_and_non_strings_are_left_alone() -> None:
    batch = [{"id": "42", "email": "true", "age": "26", "vip": True, "devices": []}]
    out, times = type_strings(batch, {}, kept=("id", "email"))
    assert out == [{"id": "42", "email": "true", "age": 26, "vip": True, "devices": []}]
    assert times == frozenset()
    assert batch[0]["age"] == "26"  # the caller's records are not changed
