"""Measured runs as subprocesses, and per-phase time and memory inside them.

The parent starts ``python -m cio_replicate.bench.proc TASK PARAMS``; the
child reports its own peak resident memory (``VmHWM``) when it ends. (The
``ru_maxrss`` that ``wait4`` returns is no good here: Linux folds the
parent's peak into it at ``exec``, so a small child of a big parent looks
big.) Inside a child, :func:`measure` times a phase and reads its own peak
after resetting the kernel's high-water mark (``/proc/self/clear_refs``), so
several phases in one process each get their own peak.
"""

from __future__ import annotations

import importlib
import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

Params = dict[str, Any]
Task = Callable[[Params], Params]

# task name -> "module:function" (modules of this package)
TASKS: dict[str, str] = {
    "load": "cio_replicate.bench.loadpath:run_task",
    "replicate": "cio_replicate.bench.e2e:run_task",
    "window": "cio_replicate.bench.window:run_task",
    "budget": "cio_replicate.bench.budget:run_task",
    "noop": "cio_replicate.bench.proc:noop_task",
    "cli": "cio_replicate.bench.proc:cli_task",
}

_MARK = "@@bench-result@@ "
_PEAK_KEY = "_process_peak_rss_mib"
_process_peak_kib = 0  # the highest VmHWM seen before a reset


class ChildFailed(RuntimeError):
    pass


@dataclass(frozen=True)
class ChildResult:
    data: Params
    wall_s: float
    peak_rss_mib: float  # the whole child process, from its own VmHWM
    cpu_s: float


@dataclass(frozen=True)
class Finished:
    returncode: int
    stdout: str
    stderr_tail: str
    wall_s: float
    peak_rss_mib: float  # from wait4: includes the parent's peak at exec (see above)
    cpu_s: float


def run_command(
    cmd: list[str], *, env: dict[str, str] | None = None, cwd: str | None = None
) -> Finished:
    """Run ``cmd`` and reap it with wait4: its own wall time, CPU time and peak RSS."""
    with tempfile.TemporaryFile(mode="w+") as errors:
        started = time.perf_counter()
        proc = subprocess.Popen(
            cmd,
            stdout=subprocess.PIPE,
            stderr=errors,
            stdin=subprocess.DEVNULL,
            text=True,
            env=None if env is None else {**os.environ, **env},
            cwd=cwd,
        )
        assert proc.stdout is not None
        with proc.stdout:
            output = proc.stdout.read()
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        wall = time.perf_counter() - started
        errors.seek(0)
        tail = errors.read()[-4000:]
    return Finished(
        returncode=proc.returncode,
        stdout=output,
        stderr_tail=tail,
        wall_s=wall,
        peak_rss_mib=usage.ru_maxrss / 1024,
        cpu_s=usage.ru_utime + usage.ru_stime,
    )


def run_child(task: str, params: Params) -> ChildResult:
    """Run ``task`` in a fresh interpreter and return its result and its own peak RSS."""
    done = run_command([sys.executable, "-m", "cio_replicate.bench.proc", task, json.dumps(params)])
    if done.returncode != 0:
        raise ChildFailed(f"benchmark task {task!r} exited {done.returncode}:\n{done.stderr_tail}")
    lines = [line for line in done.stdout.splitlines() if line.startswith(_MARK)]
    if not lines:
        raise ChildFailed(f"benchmark task {task!r} printed no result")
    data = json.loads(lines[-1][len(_MARK) :])
    return ChildResult(
        data=data,
        wall_s=done.wall_s,
        peak_rss_mib=float(data.pop(_PEAK_KEY)),
        cpu_s=done.cpu_s,
    )


def _status_kib(key: str) -> int:
    match = re.search(rf"^{key}:\s+(\d+) kB", Path("/proc/self/status").read_text(), re.M)
    return int(match.group(1)) if match else 0


def _reset_peak() -> bool:
    global _process_peak_kib
    _process_peak_kib = max(_process_peak_kib, _status_kib("VmHWM"))
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


@dataclass
class Phase:
    """Filled in when the ``with measure()`` block ends."""

    wall_s: float = 0.0
    cpu_s: float = 0.0
    base_rss_mib: float = 0.0  # resident before the phase
    peak_rss_mib: float = 0.0  # highest resident during the phase (whole process)
    extra: Params = field(default_factory=dict)

    @property
    def growth_mib(self) -> float:
        return max(0.0, self.peak_rss_mib - self.base_rss_mib)

    def as_dict(self) -> Params:
        return {
            "wall_s": round(self.wall_s, 4),
            "cpu_s": round(self.cpu_s, 3),
            "base_rss_mib": round(self.base_rss_mib, 1),
            "peak_rss_mib": round(self.peak_rss_mib, 1),
            **self.extra,
        }


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


@contextmanager
def measure() -> Iterator[Phase]:
    """Time a phase and record its own peak resident memory."""
    phase = Phase(base_rss_mib=_status_kib("VmRSS") / 1024)
    own_peak = _reset_peak()
    cpu0, t0 = _cpu(), time.perf_counter()
    try:
        yield phase
    finally:
        phase.wall_s = time.perf_counter() - t0
        phase.cpu_s = _cpu() - cpu0
        if own_peak:
            phase.peak_rss_mib = _status_kib("VmHWM") / 1024
        else:  # no clear_refs: the process-wide peak is an upper bound
            phase.peak_rss_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def noop_task(params: Params) -> Params:
    """Used by the tests: allocates ``mib`` MiB in a phase and reports it."""
    with measure() as phase:
        block = bytearray(int(params.get("mib", 0)) * 1024 * 1024)
        block[::4096] = b"x" * len(block[::4096])
        del block
    return {"phase": phase.as_dict()}


def cli_task(params: Params) -> Params:
    """Run ``cio-replicate ARGS`` in this process with ``env`` added (output to stderr)."""
    from ..cli import main

    os.environ.update({str(k): str(v) for k, v in params.get("env", {}).items()})
    stdout = sys.stdout
    sys.stdout = sys.stderr
    try:
        with measure() as phase:
            code = main([str(a) for a in params["args"]])
    finally:
        sys.stdout = stdout
    return {"exit": code, "phase": phase.as_dict()}


def _main(argv: list[str]) -> int:
    task_name, raw = argv[0], argv[1]
    module_name, func_name = TASKS[task_name].split(":")
    task: Task = getattr(importlib.import_module(module_name), func_name)
    result = task(json.loads(raw))
    peak = max(_process_peak_kib, _status_kib("VmHWM"))
    result[_PEAK_KEY] = round(peak / 1024, 1)
    sys.stdout.write(_MARK + json.dumps(result) + "\n")
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    raise SystemExit(_main(sys.argv[1:]))
