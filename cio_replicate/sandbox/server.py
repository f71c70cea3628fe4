"""Serve a Sandbox over loopback HTTP (stdlib ThreadingHTTPServer), both APIs on one base URL.

server = serve(sb, port=0)        # returns once listening; requests run in threads
server.base_url                    # "http://127.0.0.1:<port>"
server.shutdown()                  # stop and close the socket (also: `with serve(sb) as s:`)
"""

from __future__ import annotations

import logging
import threading
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType

import httpx

from .core import Sandbox
from .faults import Trickle

log = logging.getLogger(__name__)


class _Handler(BaseHTTPRequestHandler):
    server: _SandboxHTTPServer
    protocol_version = "HTTP/1.1"
    # Without it, small answers wait ~40 ms for the delayed ACK (Nagle) on loopback.
    disable_nagle_algorithm = True

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        content = self.rfile.read(length) if length > 0 else b""
        host, port = _address(self.server)
        url = f"http://{'localhost' if ':' in host else host}:{port}{self.path}"
        headers = [(k, v) for k, v in self.headers.items() if k.lower() != "host"]
        request = httpx.Request(self.command, url, headers=headers, content=content)
        try:
            response = self.server.sandbox.handle(request)
        except httpx.HTTPError as exc:  # pragma: no cover - loopback hosts are always served
            self.send_error(502, str(exc))
            return
        stream = response.stream
        # A trickling body (the slow-body fault) is written chunk by chunk as it comes.
        chunks = stream if isinstance(stream, Trickle) else [response.content]
        length = len(stream.content) if isinstance(stream, Trickle) else len(response.content)
        self.send_response(response.status_code)
        for name, value in response.headers.items():
            if name.lower() not in ("content-length", "transfer-encoding", "connection", "date"):
                self.send_header(name, value)
        self.send_header("Content-Length", str(length))
        self.end_headers()
        if self.command == "HEAD":
            return
        try:
            for chunk in chunks:
                self.wfile.write(chunk)
                self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):  # the client gave up on a slow body
            self.close_connection = True

    def date_time_string(self, timestamp: float | None = None) -> str:
        """The ``Date`` header: the sandbox's clock, not the machine's."""
        return formatdate(self.server.sandbox.clock.now(), usegmt=True)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = _answer

    def log_message(self, format: str, *args: object) -> None:
        log.debug("sandbox %s", format % args)


def _address(httpd: ThreadingHTTPServer) -> tuple[str, int]:
    host, port = httpd.server_address[:2]
    return (host.decode() if isinstance(host, bytes) else str(host)), int(port)


class _SandboxHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], sandbox: Sandbox) -> None:
        super().__init__(address, _Handler)
        self.sandbox = sandbox


class SandboxServer:
    def __init__(self, httpd: _SandboxHTTPServer) -> None:
        self._httpd = httpd
        self._thread = threading.Thread(target=httpd.serve_forever, name="cio-sandbox", daemon=True)
        self._thread.start()
        host, port = _address(httpd)
        shown = f"[{host}]" if ":" in host else host
        self.base_url = f"http://{shown}:{port}"
        self.port = int(port)

    def shutdown(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> SandboxServer:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.shutdown()


def serve(sandbox: Sandbox, host: str = "127.0.0.1", port: int = 0) -> SandboxServer:
    """Start serving in a background thread; the answer is ready for requests."""
    if host not in ("127.0.0.1", "localhost", "::1"):
        raise ValueError("the sandbox only listens on loopback")
    return SandboxServer(_SandboxHTTPServer((host, port), sandbox))
