"""The sync plan as a pure function: the cases the sandbox tests do not reach easily."""

from __future__ import annotations

from typing import Any

from cio_replicate.sync.plan import Intent, Known, Local, Remote, digest, make_plan


def _remote(cid: int, name: str, data: Any, updated: int = 100) -> Remote:
    return Remote({"id": cid, "name": name, "updated_at": updated}, data, True)


def _known(cid: int, name: str, data: Any, updated: int = 100) -> Known:
    return Known(cid, name, digest(name, data), updated)


def _steps(plan: Any) -> list[tuple[str, str, int | None]]:
    return [(a.kind, a.way, a.id) for a in plan.actions]


def test_deleted_on_both_sides_is_forgotten_without_a_call() -> None:
    plan = make_plan([], {1: _known(1, "a", [])}, [], {}, prefer="newer", now=200)
    assert _steps(plan) == [("delete", "to_table", 1)] and plan.conflicts == []


def test_the_same_change_on_both_sides_is_no_conflict() -> None:
    local = Local(1, "a", [{"x": 2}])
    plan = make_plan(
        [local], {1: _known(1, "a", [{"x": 1}])}, [], {1: _remote(1, "a", [{"x": 2}], 150)},
        prefer="newer", now=200,
    )  # fmt: skip
    assert _steps(plan) == [("record", "to_table", 1)] and plan.conflicts == []


def test_a_recorded_create_is_linked_by_name_and_its_later_edit_sent() -> None:
    row = Local(None, "stores", [{"city": "Bern"}])
    made = _remote(7, "stores", [{"city": "Zürich"}])
    plan = make_plan([row], {}, [Intent("stores", "x")], {7: made}, prefer="newer", now=200)
    assert _steps(plan) == [("link", "to_table", 7), ("update", "to_cio", 7)]


def test_an_untracked_collection_of_another_name_is_not_linked() -> None:
    row = Local(None, "stores", [])
    plan = make_plan(
        [row], {}, [Intent("stores", "x")], {7: _remote(7, "other", [])}, prefer="newer", now=200
    )
    assert _steps(plan) == [("create", "to_cio", None), ("create", "to_table", 7)]
    assert plan.stale_intents == []


def test_two_new_rows_with_one_name_are_a_problem_not_two_creates() -> None:
    rows = [Local(None, "dup", [{"a": 1}]), Local(None, "dup", [{"a": 2}])]
    plan = make_plan(rows, {}, [], {}, prefer="newer", now=200)
    assert _steps(plan) == [("create", "to_cio", None)]
    assert len(plan.problems) == 1 and "another new row" in plan.problems[0]


def test_a_table_edit_against_a_deletion_in_customerio_makes_it_again() -> None:
    plan = make_plan(
        [Local(1, "a", [{"x": 2}])], {1: _known(1, "a", [])}, [], {}, prefer="target", now=200
    )
    (action,) = plan.actions
    assert (action.kind, action.way, action.replaces) == ("create", "to_cio", 1)
    assert [c.winner for c in plan.conflicts] == ["target"]
