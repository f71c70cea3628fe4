"""Bad input through the CLI: one line naming what to fix, the right exit code,
no traceback, no secret; and secrets that reach an error by a side road."""

from __future__ import annotations

import base64
import os
from pathlib import Path

import httpx
import pytest

from cio_replicate.cli import main
from cio_replicate.config import load_settings
from cio_replicate.connect import open_client
from cio_replicate.errors import AuthError

PASSWORD = "pw-hunter2"
# Nothing listens on port 1: the connection is refused at once.
UNREACHABLE = f"postgresql+psycopg://postgres:{PASSWORD}@127.0.0.1:1/test?connect_timeout=5"


@pytest.fixture(autouse=True)
def _no_ambient_config(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("CIO_"):
            monkeypatch.delenv(name)


def _one_line_error(capsys: pytest.CaptureFixture[str]) -> str:
    captured = capsys.readouterr()
    text = captured.out + captured.err
    assert "Traceback" not in text and "unexpected error" not in text
    errors = [line for line in captured.err.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1, captured.err
    return errors[0]


@pytest.mark.parametrize(
    "args",
    [
        ["replicate", "Segments"],
        ["db", "upgrade"],
        ["status"],
        ["import", "Segments", "--from-table", "segments", "--operation", "insert"],
    ],
    ids=["replicate", "db-upgrade", "status", "import-from-table"],
)
def test_an_unreachable_target_is_one_line_naming_the_setting(
    args: list[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)  # import writes its rejects file in the working folder
    monkeypatch.setenv("CIO_SOURCE", "sandbox")  # a target alone no longer implies the sandbox
    assert main([*args, "--target-url", UNREACHABLE]) == 1
    line = _one_line_error(capsys)
    assert "cannot use target postgresql+psycopg://postgres:***@127.0.0.1:1/test" in line
    assert "Connection refused" in line and "CIO_TARGET_URL" in line
    assert PASSWORD not in line


def test_a_target_sqlite_file_in_a_missing_folder_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path}/no/such/folder/x.db"
    assert main(["replicate", "Segments", "--source", "sandbox", "--target-url", url]) == 1
    line = _one_line_error(capsys)
    assert f"cannot use target {url}: unable to open database file" in line


@pytest.mark.parametrize(
    "url",
    ["nonsense://", "mssql+pyodbc://u@h/db", "postgresql+nosuchdriver://u@h/db"],
)
def test_a_target_url_of_an_unsupported_database_is_a_config_error(
    url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["replicate", "Segments", "--target-url", url]) == 2
    line = _one_line_error(capsys)
    assert line.startswith("error: target_url (from flag --target-url): ")
    assert "sqlite:///" in line and "postgresql+psycopg://" in line
    # A command that never opens the target still refuses the wrong configuration.
    monkeypatch.setenv("CIO_TARGET_URL", url)
    assert main(["export", "Segments", "-o", "-"]) == 2
    assert _one_line_error(capsys).startswith("error: target_url (from env CIO_TARGET_URL): ")


def test_an_encoded_password_is_masked_in_the_settings_repr() -> None:
    url = "postgresql+psycopg://u:p%40ss%2Fw0rd@127.0.0.1:1/db"
    settings = load_settings(None, env={"CIO_TARGET_URL": url, "CIO_SOURCE": "sandbox"})
    shown = repr(settings) + str(settings)
    assert "p%40ss%2Fw0rd" not in shown and "p@ss/w0rd" not in shown
    assert "postgresql+psycopg://u:***@127.0.0.1:1/db" in shown


def test_an_error_body_echoing_the_track_authorization_header_is_masked() -> None:
    site, key = "site-echo-1", "track-echo-key-5678"
    token = base64.b64encode(f"{site}:{key}".encode()).decode()

    def echo(request: httpx.Request) -> httpx.Response:
        # A proxy or gateway that answers with the request's own headers.
        return httpx.Response(401, text=f"denied: {request.headers['authorization']}")

    settings = load_settings(
        None,
        env={
            "CIO_APP_API_KEY": "app-echo-key-1234",
            "CIO_TRACK_API_KEY": key,
            "CIO_SITE_ID": site,
        },
    )
    with open_client(settings, transport=httpx.MockTransport(echo)) as client:
        with pytest.raises(AuthError) as info:
            client.track("GET", "/api/v1/accounts/region")
    text = str(info.value) + repr(info.value)
    assert "denied" in text
    assert token not in text and key not in text
