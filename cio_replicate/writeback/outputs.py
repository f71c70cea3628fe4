"""Where a command's file output goes: checked first, then written safely.

:func:`check_output` runs before any API call, so a missing folder or a folder
given as the file is a one-line usage error (exit 2) that costs nothing.

- ``-``: stdout.
- A regular file (new or existing, named directly or through an ordinary
  symlink): written to ``NAME.part`` beside the real file, then renamed over it,
  so readers never see half a file and a failed export leaves the old one.
  Through a symlink, the file it points to is replaced and the link is kept;
  an existing file keeps its permission bits.
- Anything else (a FIFO, a character device such as ``/dev/null``, a terminal,
  ``/dev/stdout``, ``/dev/fd/N`` from ``-o >(gzip > x.gz)``): written straight
  to it, opened for appending (a pipe or device does not care; ``/dev/stdout``
  redirected to a file by ``>>`` must not be truncated). ``/proc``
  file-descriptor links count as non-regular even when they lead to a regular
  file: the file is the one the shell opened, so it must not be replaced.
"""

from __future__ import annotations

import io
import os
import stat
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Literal

from ..errors import UsageError

Kind = Literal["stdout", "direct", "atomic"]


@dataclass(frozen=True)
class Output:
    target: str  # as the user wrote it
    kind: Kind
    path: Path | None = None  # the file written (atomic: the real file, links followed)


def check_output(target: str, option: str = "-o") -> Output:
    """How ``target`` will be written; UsageError for a folder or a missing folder."""
    if target == "-":
        return Output(target, "stdout")
    if not target.strip():
        raise UsageError(f"{option} needs a file name (or '-' for stdout)")
    path = Path(target)
    if path.is_dir():
        raise UsageError(f"{option} {target} is a folder; give a file name inside it")
    if _is_direct(path):
        return Output(target, "direct", path)
    real = Path(os.path.realpath(path))
    folder = real.parent
    if not folder.is_dir():
        raise UsageError(
            f"cannot write {target}: the folder {folder} does not exist (create it first)"
        )
    if not os.access(folder, os.W_OK | os.X_OK):
        raise UsageError(f"cannot write {target}: no permission to create files in {folder}")
    return Output(target, "atomic", real)


def _is_direct(path: Path) -> bool:
    """True if ``path`` is (or leads to) something other than a regular file."""
    current = path.absolute()
    for _hop in range(40):
        if os.path.realpath(current.parent).startswith("/proc/"):
            return True  # a file-descriptor link (/dev/stdout, /dev/fd/N)
        if not current.is_symlink():
            break
        link = Path(os.readlink(current))
        current = link if link.is_absolute() else current.parent / link
    try:
        mode = os.stat(current).st_mode
    except OSError:
        return False  # does not exist yet (or a dangling link): a new regular file
    return not stat.S_ISREG(mode)


@contextmanager
def open_output(output: Output, stdout: Callable[[], IO[bytes]]) -> Iterator[IO[str]]:
    """A UTF-8 text handle on the output (CSV newlines untouched); see the module."""
    if output.kind == "stdout":
        text = io.TextIOWrapper(stdout(), encoding="utf-8", newline="", write_through=True)
        try:
            yield text
        finally:
            text.flush()
            text.detach()
        return
    assert output.path is not None
    if output.kind == "direct":
        with _open(output, output.path, "a") as handle:
            yield handle
        return
    part = output.path.with_name(output.path.name + ".part")
    try:
        with _open(output, part) as handle:
            yield handle
        if output.path.exists():
            os.chmod(part, stat.S_IMODE(os.stat(output.path).st_mode))
        os.replace(part, output.path)
    finally:
        part.unlink(missing_ok=True)


def _open(output: Output, path: Path, mode: str = "w") -> IO[str]:
    try:
        return path.open(mode, encoding="utf-8", newline="")
    except OSError as exc:
        raise UsageError(f"cannot write {output.target}: {exc.strerror}") from None
