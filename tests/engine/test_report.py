"""What a person reads on the terminal: the live display, plain lines, the summary."""

from __future__ import annotations

import io

from rich.console import Console

from cio_replicate.engine import ObjectStats, Progress, RunReport, summary_table
from cio_replicate.engine.progress import render_live


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _result(name: str, status: str = "success", **figures: object) -> ObjectStats:
    return ObjectStats(name=name, mode="incremental", status=status, **figures)  # type: ignore[arg-type]


def _running(clock: Clock, stream: io.StringIO, live: bool) -> tuple[Progress, dict[str, int]]:
    """Three objects: A and B in flight (with call estimates), C never ran (no estimate)."""
    calls = {"A": 0, "B": 0, "C": 0}
    progress = Progress(stream, live=live, clock=clock, every=10)
    progress.begin(["A", "B", "C"], {"A": 100, "B": 50}, lambda name: calls[name])
    progress.start("A")
    progress.start("B")
    calls.update(A=40, B=10)
    clock.now += 10
    progress.update("A", 1_000, 2, 40, 0, 0.0)
    return progress, calls


def _render(progress: Progress) -> list[str]:
    out = io.StringIO()
    Console(file=out, force_terminal=True, width=100, color_system=None).print(
        render_live(progress.snapshot())
    )
    return out.getvalue().splitlines()


def test_the_live_display_has_a_line_per_object_the_run_and_an_eta() -> None:
    clock = Clock()
    progress, calls = _running(clock, io.StringIO(), live=False)
    lines = _render(progress)
    a = next(line for line in lines if line.startswith("A "))
    assert "40/100 calls" in a and "1,000 rows" in a and "100 rows/s" in a
    b = next(line for line in lines if line.startswith("B "))
    assert "10/50 calls" in b and "0 rows" in b
    # 50 calls in 10 s: 5/s; left (100-40) + (50-10) = 100 calls: 20 s; C has no estimate
    assert lines[-1] == (
        "objects 0/3 done | 50 API calls, 5.0/s | 10s elapsed | ETA 20s + 1 never ran"
    )
    assert all(len(line) <= 100 for line in lines)

    calls["A"] = 100
    progress.finish(_result("A", api_calls=100, inserted=2_000))
    clock.now += 10
    lines = _render(progress)
    assert not any(line.startswith("A ") for line in lines)
    assert lines[-1].startswith("objects 1/3 done | 110 API calls")


def test_the_live_display_reads_calls_between_batches() -> None:
    """Calls are read from the request log on each redraw, not only after a batch."""
    clock = Clock()
    progress, calls = _running(clock, io.StringIO(), live=False)
    calls["B"] = 30
    assert "30/50 calls" in next(line for line in _render(progress) if line.startswith("B "))


def test_on_a_terminal_objects_leave_the_live_display_without_a_line_each() -> None:
    """The live region is transient; the one listing of the objects is the summary table."""
    clock = Clock()
    out = io.StringIO()
    progress, calls = _running(clock, out, live=True)
    progress.finish(_result("A", api_calls=40))
    progress.finish(_result("B", api_calls=10))
    progress.close()
    assert "A: success" not in out.getvalue() and "B: success" not in out.getvalue()


def test_not_a_terminal_gives_plain_lines_and_progress_at_most_every_n_seconds() -> None:
    clock = Clock()
    out = io.StringIO()
    progress, calls = _running(clock, out, live=False)  # 10 s passed: one progress line
    clock.now += 3
    progress.update("A", 1_500, 3, 45, 0, 0.0)  # 3 s later: none
    progress.finish(_result("B", api_calls=1, inserted=6))
    progress.finish(_result("A", api_calls=45, inserted=1_500))
    text = out.getvalue()
    assert "\r" not in text and "\x1b" not in text
    assert text.splitlines() == [
        "A: started (about 100 API calls)",
        "B: started (about 50 API calls)",
        "progress: objects 0/3 done | 50 API calls, 5.0/s | 10s elapsed"
        " | ETA 20s + 1 never ran; running: A 1,000 rows, 40/100 calls;"
        " B 0 rows, 10/50 calls",
        "B: success, 6 rows written, 1 call",
        "A: success, 1,500 rows written, 45 calls",
    ]


def test_the_summary_lists_each_object_once_without_the_misleading_wait() -> None:
    """The limiter's wait, summed over requests in flight, exceeds the wall time: not shown."""
    report = RunReport(
        "run-1",
        0.0,
        9.0,
        (
            _result("Campaigns", api_calls=1, inserted=4, wait_seconds=30.0, seconds=2.0),
            _result("Exports", "failed", api_calls=1, message="AuthError: HTTP 403", seconds=1.0),
        ),
        seconds=3.0,
    )
    text = summary_table(report)
    lines = text.splitlines()
    assert lines[0].split() == [
        "object", "mode", "status", "inserted", "updated", "deleted", "API", "calls", "time"
    ]  # fmt: skip
    assert "wait" not in text and "30" not in text
    assert sum(line.startswith("Campaigns ") for line in lines) == 1
    assert lines[-2] == "run run-1: partial, 2 objects in 3.0s, 2 API calls (0.7/s)"
    assert lines[-1] == "  Exports: failed: AuthError: HTTP 403"
    verbose = summary_table(report, verbose=True).splitlines()
    assert verbose[0].split()[-2:] == ["pages", "429s"]


def test_one_call_is_not_called_calls() -> None:
    out = io.StringIO()
    progress = Progress(out, live=False)
    progress.finish(_result("Segments", api_calls=1))
    progress.finish(_result("Campaigns", api_calls=2))
    lines = out.getvalue().splitlines()
    assert lines == ["Segments: success, 0 rows written, 1 call", "Campaigns: success, 0 rows written, 2 calls"]  # fmt: skip


def test_the_json_summary_holds_each_objects_figures_and_no_internal_counter() -> None:
    """The record the engine counts in (staged rows, max cursor, run id...) keeps its
    working fields out of the summary: each object has exactly the documented figures."""
    result = _result("Campaigns", inserted=3, staged=7, max_cursor=99, errors=1, run_id="r")
    fields = RunReport("run", 0.0, 1.0, (result,), 1.0).summary_fields()
    assert list(fields["objects"][0]) == [
        "name", "mode", "status", "inserted", "updated", "deleted", "pages", "api_calls",
        "throttled", "wait_seconds", "seconds", "watermark", "message",
    ]  # fmt: skip
    assert fields["objects"][0]["inserted"] == fields["inserted"] == 3
