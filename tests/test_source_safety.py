"""Issue 10 item 1: a typo never writes simulated data into a real database.

The sandbox is the source only when asked or when nothing is configured; unknown
CIO_* variables are reported; every command says which source and target it
uses; a target remembers its source; plain http:// to a remote host is refused.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from cio_replicate.cli import main
from cio_replicate.config import load_settings
from cio_replicate.errors import ConfigError
from cio_replicate.sandbox import APP_API_KEY, SITE_ID, TRACK_API_KEY, Sandbox
from cio_replicate.sandbox.server import SandboxServer, serve

FAST = {
    "CIO_RATE_LIMIT": "1000",
    "CIO_ALLOW_UNSAFE_RATE_LIMIT": "true",
    "CIO_SANDBOX_SCALE": "tiny",
}


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> pytest.MonkeyPatch:
    """No CIO_* variable from the outside; the working folder is a fresh one."""
    for name in list(os.environ):
        if name.startswith("CIO_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    return monkeypatch


@pytest.fixture
def served() -> Iterator[tuple[Sandbox, SandboxServer]]:
    """A "real" workspace: the sandbox served on loopback, reached as source customerio."""
    sandbox = Sandbox("tiny", seed=1)
    with serve(sandbox) as server:
        yield sandbox, server


def workspace_env(server: SandboxServer) -> dict[str, str]:
    return {
        "CIO_APP_API_URL": server.base_url,
        "CIO_TRACK_API_URL": server.base_url,
        "CIO_APP_API_KEY": APP_API_KEY,
        "CIO_TRACK_API_KEY": TRACK_API_KEY,
        "CIO_SITE_ID": SITE_ID,
    }


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def tables(url: str) -> set[str]:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return set(sa.inspect(conn).get_table_names())
    finally:
        engine.dispose()


def recorded_source(url: str) -> list[tuple[object, ...]]:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(sa.text("SELECT kind, region, workspace FROM _cio_source"))
            return [tuple(row) for row in rows]
    finally:
        engine.dispose()


# --- the sandbox only when asked, or when nothing at all is configured ----------------


def test_a_typo_in_the_key_name_writes_nothing_into_the_target_and_exits_2(
    env: pytest.MonkeyPatch, db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    env.setenv("CIO_API_KEY", "a-real-key-0000")  # typo for CIO_APP_API_KEY
    env.setenv("CIO_TARGET_URL", db_url)
    code, _, err = run(capsys, "replicate", "Segments")
    assert code == 2
    assert "CIO_API_KEY" in err and "did you mean CIO_APP_API_KEY?" in err
    assert "a-real-key-0000" not in err
    assert tables(db_url) == set()  # not one table, not one row


def test_a_target_without_credentials_is_exit_2_naming_the_key_and_the_sandbox_flag(
    env: pytest.MonkeyPatch, db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    env.setenv("CIO_TARGET_URL", db_url)
    code, _, err = run(capsys, "replicate", "Segments")
    assert code == 2
    assert "no App API key" in err and "CIO_APP_API_KEY" in err
    assert "because target_url is set (env CIO_TARGET_URL)" in err
    assert "--source sandbox" in err
    assert tables(db_url) == set()
    # ... and with the sandbox asked for explicitly, the same target is filled from it
    code, _, err = run(capsys, "replicate", "Segments", "--source", "sandbox")
    assert code == 0, err
    assert "segments" in tables(db_url)


@pytest.mark.parametrize(
    ("kind", "value"),
    [
        ("file", "rate_limit = 5\n"),
        ("env", "CIO_SITE_ID=site-1"),
        ("env", "CIO_APP_API_URL=https://api.example.com"),
        ("flag", "target_url=sqlite:///x.db"),
    ],
)
def test_any_real_setting_means_customerio_and_its_missing_key_is_an_error(
    tmp_path: Path, kind: str, value: str
) -> None:
    path, env, flags = None, {}, {}
    if kind == "file":
        path = str(tmp_path / "cio.toml")
        Path(path).write_text(value)
    name, _, raw = value.partition("=")
    if kind == "env":
        env[name] = raw
    if kind == "flag":
        flags[name] = raw
    with pytest.raises(ConfigError, match="no App API key") as info:
        load_settings(path, env=env, flags=flags)
    assert info.value.exit_code == 2


def test_nothing_configured_and_explicit_sandbox_are_the_sandbox(tmp_path: Path) -> None:
    assert load_settings(None, env={}).source == "sandbox"
    assert load_settings(None, env={"CIO_SANDBOX_SCALE": "tiny"}).source == "sandbox"
    explicit = load_settings(
        None, env={"CIO_TARGET_URL": "sqlite:///t.db", "CIO_SOURCE": "sandbox"}
    )
    assert (explicit.source, explicit.target_url) == ("sandbox", "sqlite:///t.db")
    repo_configs = Path(__file__).parent.parent / "configs"
    assert load_settings(str(repo_configs / "sandbox.toml"), env={}).source == "sandbox"


def test_the_sandbox_never_ignores_an_api_url_silently(
    env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    env.setenv("CIO_APP_API_URL", "https://api.customer.io")
    code, _, err = run(capsys, "check", "--source", "sandbox")
    assert code == 2
    assert "app_api_url (from env CIO_APP_API_URL)" in err and "in-process" in err


# --- unknown CIO_* variables ------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "nearest"),
    [
        ("CIO_API_KEY", "CIO_APP_API_KEY"),
        ("CIO_TRACK_KEY", "CIO_TRACK_API_KEY"),
        ("CIO_SITEID", "CIO_SITE_ID"),
        ("CIO_TARGET", "CIO_TARGET_URL"),
        ("CIO_APP_URL", "CIO_APP_API_URL"),
        ("CIO_SOURCES", "CIO_SOURCE"),
    ],
)
def test_an_unknown_credential_or_target_variable_is_an_error_with_the_nearest_name(
    name: str, nearest: str
) -> None:
    with pytest.raises(ConfigError) as info:
        load_settings(None, env={name: "value-1234"})
    assert f"{name}: did you mean {nearest}?" in str(info.value)
    assert "value-1234" not in str(info.value)
    assert info.value.exit_code == 2


def test_an_unknown_setting_variable_is_a_warning_with_the_nearest_name(
    env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    env.setenv("CIO_RATELIMIT", "3")
    env.setenv("CIO_LOOKBACK", "60")
    code, _, err = run(capsys, "check", "--sandbox-scale", "tiny")
    assert code == 0
    assert (
        "unknown environment variable CIO_RATELIMIT is ignored: did you mean CIO_RATE_LIMIT?" in err
    )
    # As close to two settings: both are named.
    assert (
        "CIO_LOOKBACK is ignored: did you mean CIO_LOOKBACK_SECONDS or CIO_METRICS_LOOKBACK?" in err
    )


def test_the_variables_the_tool_reads_itself_are_not_reported(
    env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in (
        "CIO_REPLICATE_CRASH",
        "CIO_REPLICATE_PAUSE",
        "CIO_TEST_POSTGRES_URL",
        "CIO_TEST_MYSQL_URL",
        "CIO_BENCH_CONCURRENCY",
        "CIO_BENCH_POSTGRES_URL",
    ):
        env.setenv(name, "")  # empty: set, but no crash point or URL that changes anything
    code, _, err = run(capsys, "check", "--sandbox-scale", "tiny")
    assert code == 0
    assert "unknown environment variable" not in err


# --- every command says which source and which target, first thing ----------------


@pytest.mark.parametrize(
    ("args", "shows_target"),
    [
        (["check"], True),
        (["replicate", "Segments"], True),
        (["export", "Segments", "-o", "out.csv"], False),
        (["import", "Segments", "in.csv", "--operation", "insert", "--dry-run"], False),
        (["call", "call DeleteObject('1', 'x')"], False),
    ],
    ids=["check", "replicate", "export", "import", "call"],
)
def test_every_command_names_source_and_target_first(
    env: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    args: list[str],
    shows_target: bool,
) -> None:
    (tmp_path / "in.csv").write_text("name,description\nVIP,Top\n")
    env.setenv("CIO_SANDBOX_SCALE", "tiny")
    code, _, err = run(capsys, *args)
    assert code == 0, err
    first = err.splitlines()[0]
    assert first.startswith("using source: sandbox, simulated"), first
    assert ("target: sqlite:///cio-replicate.db" in first) is shows_target


def test_a_real_source_and_target_are_named_with_the_password_masked(
    env: pytest.MonkeyPatch,
    served: tuple[Sandbox, SandboxServer],
    capsys: pytest.CaptureFixture[str],
) -> None:
    _, server = served
    for name, value in workspace_env(server).items():
        env.setenv(name, value)
    env.setenv("CIO_TARGET_URL", "postgresql+psycopg://cio:pw-s3cret-1@db.example.com/prod")
    code, out, err = run(capsys, "check")
    assert code == 0
    first = err.splitlines()[0]
    assert first.startswith(
        f"using source: Customer.io workspace (region us, site id {SITE_ID}; "
        f"App API {server.base_url}"
    )
    assert first.endswith("target: postgresql+psycopg://cio:***@db.example.com/prod")
    assert "pw-s3cret-1" not in out + err
    assert f"App API:   {server.base_url}  ok" in out


def test_the_source_line_is_json_in_json_log_format(
    env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(capsys, "--log-format", "json", "check", "--sandbox-scale", "tiny")
    assert code == 0
    line = json.loads(err.splitlines()[0])
    assert line["event"] == "using" and line["source_kind"] == "sandbox"
    assert line["source"].startswith("sandbox, simulated")
    assert line["target"] == "sqlite:///cio-replicate.db"


# --- a target remembers its source ------------------------------------------------


def test_sandbox_data_and_a_real_workspace_never_mix_without_force(
    env: pytest.MonkeyPatch,
    db_url: str,
    served: tuple[Sandbox, SandboxServer],
    capsys: pytest.CaptureFixture[str],
) -> None:
    sandbox, server = served
    env.setenv("CIO_TARGET_URL", db_url)
    for name, value in FAST.items():
        env.setenv(name, value)
    code, _, err = run(capsys, "replicate", "Segments", "--source", "sandbox")
    assert code == 0, err
    assert recorded_source(db_url) == [("sandbox", "us", "scale tiny, seed 1")]

    for name, value in workspace_env(server).items():
        env.setenv(name, value)
    code, _, err = run(capsys, "replicate", "Segments")
    assert code == 2
    assert "holds data from the sandbox" in err and "--force" in err
    assert sandbox.requests == []  # refused before any call
    # import --from-table reads the target and writes to the workspace: refused as well
    code, _, err = run(
        capsys, "import", "Segments", "--from-table", "segments", "--operation", "insert"
    )
    assert code == 2 and "--force" in err
    assert sandbox.requests == []

    code, _, err = run(capsys, "replicate", "Segments", "--force")
    assert code == 0, err
    assert "--force" in err
    assert recorded_source(db_url) == [("customerio", "us", SITE_ID)]
    assert [r.path for r in sandbox.requests] == ["/v1/segments"]
    engine = sa.create_engine(db_url)
    try:
        with engine.connect() as conn:
            stored = str(conn.execute(sa.text("SELECT * FROM _cio_source")).all())
    finally:
        engine.dispose()
    assert APP_API_KEY not in stored and TRACK_API_KEY not in stored  # no secrets kept


def test_the_sandbox_never_writes_into_a_real_workspaces_copy_without_force(
    env: pytest.MonkeyPatch,
    db_url: str,
    served: tuple[Sandbox, SandboxServer],
    capsys: pytest.CaptureFixture[str],
) -> None:
    _, server = served
    env.setenv("CIO_TARGET_URL", db_url)
    for name, value in {**FAST, **workspace_env(server)}.items():
        env.setenv(name, value)
    code, _, err = run(capsys, "replicate", "Segments")
    assert code == 0, err
    assert recorded_source(db_url) == [("customerio", "us", SITE_ID)]
    rows_before = _segment_rows(db_url)

    for name in ("CIO_APP_API_URL", "CIO_TRACK_API_URL"):
        env.delenv(name)
    code, _, err = run(capsys, "replicate", "Segments", "--source", "sandbox", "--full-refresh")
    assert code == 2
    assert f"holds data from a Customer.io workspace (region us, site id {SITE_ID}" in err
    assert _segment_rows(db_url) == rows_before  # untouched

    # the same workspace again is fine; another site id (another workspace) is not
    env.setenv("CIO_APP_API_URL", server.base_url)
    env.setenv("CIO_TRACK_API_URL", server.base_url)
    assert run(capsys, "replicate", "Segments")[0] == 0
    env.setenv("CIO_SITE_ID", "another-site")
    code, _, err = run(capsys, "replicate", "Segments")
    assert code == 2 and "site id another-site" in err

    env.setenv("CIO_SITE_ID", SITE_ID)
    for name in ("CIO_APP_API_URL", "CIO_TRACK_API_URL"):
        env.delenv(name)
    code, _, err = run(capsys, "replicate", "Segments", "--source", "sandbox", "--force")
    assert code == 0, err
    assert recorded_source(db_url) == [("sandbox", "us", "scale tiny, seed 1")]


def _segment_rows(url: str) -> list[tuple[object, ...]]:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return [tuple(r) for r in conn.execute(sa.text("SELECT id, name FROM segments"))]
    finally:
        engine.dispose()


# --- plain http:// ------------------------------------------------------------------

KEY = {"CIO_APP_API_KEY": "app-key-0000-aaaa"}


@pytest.mark.parametrize("key", ["CIO_APP_API_URL", "CIO_TRACK_API_URL"])
def test_plain_http_to_a_remote_host_is_refused_without_the_setting(key: str) -> None:
    env = {**KEY, key: "http://api.example.com"}
    with pytest.raises(ConfigError) as info:
        load_settings(None, env=env)
    message = str(info.value)
    assert message.startswith(f"{key[4:].lower()} (from env {key}): http://api.example.com")
    assert "in clear" in message and "allow_insecure_http" in message
    allowed = load_settings(None, env={**env, "CIO_ALLOW_INSECURE_HTTP": "true"})
    assert allowed.allow_insecure_http


@pytest.mark.parametrize(
    "url",
    ["http://127.0.0.1:8765", "http://127.1.2.3", "http://localhost:9", "http://[::1]:80"],
)
def test_plain_http_to_loopback_is_fine(url: str) -> None:
    assert load_settings(None, env={**KEY, "CIO_APP_API_URL": url}).app_api_url == url


def test_plain_http_through_the_cli_is_exit_2(
    env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    env.setenv("CIO_APP_API_KEY", "app-key-0000-aaaa")
    env.setenv("CIO_APP_API_URL", "http://10.0.0.5:8080")
    code, _, err = run(capsys, "check")
    assert code == 2
    assert "allow_insecure_http" in err and "app-key-0000-aaaa" not in err
