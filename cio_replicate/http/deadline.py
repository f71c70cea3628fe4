"""A whole-request deadline on top of httpx's per-read timeout.

httpx's ``timeout`` bounds each socket read, so a server that sends one byte
every few seconds keeps a request alive for as long as it likes (a 1-byte-per-
0.5 s body with ``timeout = 5`` took 141 s). :func:`send_within` reads the
body against a deadline as well: once ``seconds`` have passed since the
request was sent, the next chunk that arrives (or a read that stays silent for
``timeout``) ends the request with :class:`httpx.ReadTimeout`, which the retry
policy treats like any other timeout.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx


class DeadlineStream(httpx.SyncByteStream):
    """A response stream that raises ReadTimeout once the request's deadline has passed."""

    def __init__(
        self, inner: httpx.SyncByteStream, deadline: float, seconds: float, request: httpx.Request
    ) -> None:
        self._inner = inner
        self._deadline = deadline
        self._seconds = seconds
        self._request = request

    def check(self) -> None:
        if time.monotonic() > self._deadline:
            raise httpx.ReadTimeout(
                f"the response was not complete within {self._seconds:g}s (the timeout setting, "
                "a bound on the whole request)",
                request=self._request,
            )

    def __iter__(self) -> Iterator[bytes]:
        for chunk in self._inner:
            self.check()
            yield chunk

    def close(self) -> None:
        self._inner.close()


def send_within(
    http: httpx.Client,
    request: httpx.Request,
    seconds: float | None,
    auth: httpx.Auth | None,
) -> httpx.Response:
    """Send ``request`` and read its whole body, within ``seconds`` in total (None: no bound)."""
    started = time.monotonic()
    response = http.send(request, auth=auth, stream=True)
    try:
        inner = response.stream
        if seconds is not None and isinstance(inner, httpx.SyncByteStream):
            stream = DeadlineStream(inner, started + seconds, seconds, request)
            stream.check()  # the headers alone may have used the time up
            response.stream = stream
        response.read()
    finally:
        response.close()
    return response
