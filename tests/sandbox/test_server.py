"""The loopback server and the `sandbox serve` command (bounded: port 0, timeouts)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading

import httpx
from click.testing import CliRunner

from cio_replicate.cli import cli
from cio_replicate.sandbox import APP_API_KEY, SITE_ID, TRACK_API_KEY, Faults, Sandbox
from cio_replicate.sandbox.server import serve

from .walk import walk

APP = {"Authorization": f"Bearer {APP_API_KEY}"}


def test_both_apis_on_one_loopback_base_url() -> None:
    sb = Sandbox("tiny")
    with serve(sb, port=0) as server, httpx.Client(base_url=server.base_url, timeout=10) as c:
        assert server.base_url.startswith("http://127.0.0.1:") and server.port > 0
        people = (
            walk(
                c,
                "POST",
                "/v1/customers",
                "identifiers",
                {"limit": 4},
                {"filter": {"attribute": {"field": "cio_id", "operator": "exists"}}},
            )
            if False
            else None
        )
        c.headers.update(APP)
        people = walk(
            c,
            "POST",
            "/v1/customers",
            "identifiers",
            {"limit": 4},
            json={"filter": {"attribute": {"field": "cio_id", "operator": "exists"}}},
        )
        assert len(people.records) == sb.workspace.people.count()
        region = c.get(
            "/api/v1/accounts/region", headers={"Authorization": ""}, auth=(SITE_ID, TRACK_API_KEY)
        )
        assert region.json()["region"] == "us"
        assert c.get("/v1/campaigns", headers={"Authorization": "Bearer x"}).status_code == 401
        unicode_id = c.get("/v1/customers/%C3%BCn%C3%AF-%C3%87%C3%98D%C3%89-3/attributes")
        assert unicode_id.status_code == 200
    assert [r.path for r in sb.requests][-1] == "/v1/customers/ünï-ÇØDÉ-3/attributes"
    with httpx.Client(timeout=2) as c2:
        try:
            c2.get(f"{server.base_url}/v1/campaigns")
            raise AssertionError("server still answering after shutdown")
        except httpx.TransportError:
            pass


def test_concurrent_requests_and_faults_over_loopback() -> None:
    sb = Sandbox("tiny", faults=Faults(truncate_rate=1.0))
    results: list[tuple[int, bool]] = []
    with serve(sb) as server:

        def fetch() -> None:
            with httpx.Client(base_url=server.base_url, headers=APP, timeout=10) as c:
                r = c.get("/v1/messages", params={"limit": 20})
                try:
                    json.loads(r.content)
                    results.append((r.status_code, True))
                except ValueError:
                    results.append((r.status_code, False))

        threads = [threading.Thread(target=fetch) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=20)
    assert results == [(200, False)] * 8, "every body arrived truncated, with status 200"


def test_cli_help_lists_serve() -> None:
    result = CliRunner().invoke(cli, ["sandbox", "serve", "--help"])
    assert result.exit_code == 0
    for flag in (
        "--port",
        "--scale",
        "--seed",
        "--region",
        "--rate-limit",
        "--latency",
        "--error-rate",
        "--truncate-rate",
        "--burst-429-every",
    ):
        assert flag in result.output


def test_cli_rejects_bad_options() -> None:
    result = CliRunner().invoke(cli, ["sandbox", "serve", "--scale", "huge"])
    assert result.exit_code == 2
    result = CliRunner().invoke(cli, ["sandbox", "serve", "--error-rate", "2"])
    assert result.exit_code == 2


def test_cli_serves_until_interrupted() -> None:
    cmd = [
        sys.executable,
        "-m",
        "cio_replicate",
        "sandbox",
        "serve",
        "--port",
        "0",
        "--scale",
        "tiny",
        "--region",
        "eu",
    ]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    with subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env
    ) as proc:
        try:
            assert proc.stdout is not None
            first = proc.stdout.readline()
            assert "listening on http://127.0.0.1:" in first
            base = first.rsplit(" ", 1)[-1].strip()
            rest = "".join(proc.stdout.readline() for _ in range(4))
            assert APP_API_KEY in rest and TRACK_API_KEY in rest and SITE_ID in rest
            with httpx.Client(base_url=base, timeout=10) as c:
                region = c.get("/api/v1/accounts/region", auth=(SITE_ID, TRACK_API_KEY)).json()
                assert region["region"] == "eu"
                assert c.get("/v1/segments", headers=APP).status_code == 200
            proc.send_signal(signal.SIGINT)
            assert proc.wait(timeout=20) in (0, 130)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait(timeout=10)


def test_answers_are_not_held_back_by_nagle() -> None:
    """Small answers on loopback otherwise wait ~40 ms each for the delayed ACK
    (measured: 50 requests 2.18 s before, 0.08 s after), which skews every
    loopback benchmark; the handler must set TCP_NODELAY on its sockets."""
    from cio_replicate.sandbox.server import _Handler

    assert _Handler.disable_nagle_algorithm is True


def test_a_slow_body_trickles_over_loopback_and_a_client_may_give_up() -> None:
    faults = Faults(slow_body=0.01, slow_body_chunk=64, slow_body_paths=("/v1/segments",))
    sb = Sandbox("tiny", faults=faults)
    with serve(sb) as server, httpx.Client(base_url=server.base_url, headers=APP, timeout=10) as c:
        with c.stream("GET", "/v1/segments") as response:
            chunks = list(response.iter_raw())
        assert len(chunks) > 1 and all(len(chunk) <= 64 for chunk in chunks)
        plain = httpx.Client(transport=Sandbox("tiny").transport(), headers=APP)
        with plain:
            expected = plain.get("https://api.customer.io/v1/segments").json()
        assert json.loads(b"".join(chunks)) == expected
        with c.stream("GET", "/v1/segments") as response:
            next(response.iter_raw())  # read a little, then hang up
        assert c.get("/v1/campaigns").status_code == 200  # the server still serves
    assert [r.path for r in sb.requests] == ["/v1/segments", "/v1/segments", "/v1/campaigns"]


def test_cli_takes_the_malformed_answer_faults() -> None:
    result = CliRunner().invoke(cli, ["sandbox", "serve", "--help"])
    for flag in ("--bad-envelope", "--endless-cursor", "--slow-body", "--slow-body-path"):
        assert flag in result.output
    bad = CliRunner().invoke(cli, ["sandbox", "serve", "--bad-envelope", "/v1/segments=nil"])
    assert bad.exit_code == 2 and "PATH=MODE" in bad.output
