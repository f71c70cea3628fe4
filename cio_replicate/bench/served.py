"""A sandbox served over loopback by its own process (``cio-replicate sandbox serve``).

The server runs in a separate interpreter so that its work (and its memory)
never counts against the process being measured.
"""

from __future__ import annotations

import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager

from ..sandbox import APP_API_KEY, SITE_ID, TRACK_API_KEY

_URL = re.compile(r"listening on (http://\S+)")


@contextmanager
def served_sandbox(
    scale: str, seed: int = 1, *, rate_limit: float | None = None, latency: float = 0.0
) -> Iterator[str]:
    """Start the server, yield its base URL, stop it (by its own pid) afterwards."""
    cmd = [sys.executable, "-m", "cio_replicate", "sandbox", "serve", "--port", "0"]
    cmd += ["--scale", scale, "--seed", str(seed), "--latency", str(latency)]
    if rate_limit is not None:
        cmd += ["--rate-limit", str(rate_limit)]
    proc = subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, bufsize=1
    )
    try:
        assert proc.stdout is not None
        url = None
        for line in proc.stdout:
            match = _URL.search(line)
            if match:
                url = match.group(1)
                break
        if url is None:
            raise RuntimeError(f"the sandbox server did not start (exit {proc.wait()})")
        yield url
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def client_env(base_url: str, target_url: str) -> dict[str, str]:
    """Environment that points the tool at a served sandbox."""
    return {
        "CIO_APP_API_URL": base_url,
        "CIO_TRACK_API_URL": base_url,
        "CIO_APP_API_KEY": APP_API_KEY,
        "CIO_TRACK_API_KEY": TRACK_API_KEY,
        "CIO_SITE_ID": SITE_ID,
        "CIO_TARGET_URL": target_url,
    }
