"""Configuration: precedence, interpolation, validation errors naming key and source."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

from cio_replicate.cli import main
from cio_replicate.config import Secret, env_name, load_settings
from cio_replicate.errors import ConfigError
from cio_replicate.logs import redact

CONFIGS = sorted((Path(__file__).parent.parent / "configs").glob("*.toml"))
KEYS = {"CIO_APP_API_KEY": "app-key-0000-aaaa", "CIO_TRACK_API_KEY": "trk-key-1111-bbbb"}


def write(tmp_path: Path, text: str) -> str:
    path = tmp_path / "cio.toml"
    path.write_text(text)
    return str(path)


def test_no_credentials_anywhere_means_the_sandbox_with_defaults() -> None:
    s = load_settings(None, env={})
    assert (s.source, s.region, s.app_api_key, s.track_api_key) == ("sandbox", "us", None, None)
    assert (s.app_api_url, s.track_api_url) == (
        "https://api.customer.io",
        "https://track.customer.io",
    )
    assert (s.rate_limit, s.sandbox_scale, s.sandbox_seed) == (10.0, "demo", 1)
    assert s.target_url == "sqlite:///cio-replicate.db"
    assert s.origins["source"] == "default" and s.origins["rate_limit"] == "default"


def test_credentials_select_customerio_and_region_selects_hosts() -> None:
    env = {**KEYS, "CIO_SITE_ID": "site1", "CIO_REGION": "eu"}
    s = load_settings(None, env=env)
    assert s.source == "customerio" and s.site_id == "site1"
    assert s.app_api_key == Secret("app-key-0000-aaaa")
    assert s.app_api_url == "https://api-eu.customer.io"
    assert s.track_api_url == "https://track-eu.customer.io"
    assert s.origins["region"] == "env CIO_REGION"


def test_precedence_is_flag_then_env_then_file_then_default(tmp_path: Path) -> None:
    path = write(tmp_path, 'region = "eu"\nrate_limit = 5\nconcurrency = 2\ntimeout = 9\n')
    env = {"CIO_RATE_LIMIT": "7", "CIO_CONCURRENCY": "3", "CIO_SOURCE": "sandbox"}
    s = load_settings(path, env=env, flags={"concurrency": "6", "region": None})
    assert (s.region, s.rate_limit, s.concurrency, s.timeout, s.batch_size) == (
        "eu",
        7.0,
        6,
        9.0,
        1000,
    )
    assert s.origins["region"] == f"file {path}"
    assert s.origins["rate_limit"] == "env CIO_RATE_LIMIT"
    assert s.origins["concurrency"] == "flag --concurrency"
    assert s.origins["batch_size"] == "default"


def test_base_url_overrides_and_the_config_env_variable(tmp_path: Path) -> None:
    path = write(tmp_path, 'app_api_url = "http://127.0.0.1:8080/"\n')
    env = {**KEYS, "CIO_CONFIG": path, "CIO_TRACK_API_URL": "http://localhost:9"}
    s = load_settings(None, env={**env, "CIO_SITE_ID": "s"})
    assert (s.app_api_url, s.track_api_url) == ("http://127.0.0.1:8080", "http://localhost:9")


def test_env_interpolation_in_the_file(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        'app_api_key = "${MY_KEY}"\ntarget_url = "postgresql+psycopg://u:${PW}@h/db"\n'
        'site_id = "a$${b}"\ntrack_api_key = "${MY_KEY}x"\n',
    )
    s = load_settings(path, env={"MY_KEY": "k-123456", "PW": "pass-word-9"})
    assert s.app_api_key is not None and s.app_api_key.reveal() == "k-123456"
    assert s.target_url == "postgresql+psycopg://u:pass-word-9@h/db"
    assert s.site_id == "a${b}"
    assert "pass-word-9" not in repr(s) and "k-123456" not in repr(s)
    assert redact("connect u:pass-word-9@h") == "connect u:****@h"


def test_a_missing_interpolated_variable_names_variable_and_file(tmp_path: Path) -> None:
    path = write(tmp_path, 'app_api_key = "${NOT_SET_ANYWHERE}"\n')
    with pytest.raises(ConfigError) as info:
        load_settings(path, env={})
    assert "NOT_SET_ANYWHERE" in str(info.value) and path in str(info.value)


@pytest.mark.parametrize(
    ("where", "value", "needle"),
    [
        ("file", "rate_limit = 0", "rate_limit (from file "),
        ("file", 'rate_limit = "fast"', "rate_limit (from file "),
        ("env", "CIO_RATE_LIMIT=11", "rate_limit (from env CIO_RATE_LIMIT): must be <= 10"),
        ("env", "CIO_REGION=asia", "region (from env CIO_REGION): must be one of us, eu"),
        (
            "env",
            "CIO_CONCURRENCY=2.5",
            "concurrency (from env CIO_CONCURRENCY): must be an integer",
        ),
        ("flag", "timeout=-1", "timeout (from flag --timeout): must be between"),
        ("flag", "sandbox_scale=huge", "sandbox_scale (from flag --sandbox-scale)"),
        ("env", "CIO_DELETES=erase", "deletes (from env CIO_DELETES): must be one of soft"),
        ("flag", "deletes=remove", "deletes (from flag --deletes)"),
        ("env", "CIO_TARGET_URL=::nope::", "target_url (from env CIO_TARGET_URL)"),
        ("env", "CIO_APP_API_URL=api.customer.io", "app_api_url (from env CIO_APP_API_URL)"),
        ("env", "CIO_METRICS_LOOKBACK=1w", "metrics_lookback (from env CIO_METRICS_LOOKBACK)"),
        ("flag", "metrics_lookback=181", "must be at most 180 days"),
        ("file", "metrics_lookback = -1", "metrics_lookback (from file"),
        ("file", "colour = 1", "unknown key(s) colour"),
        ("file", "region = [", "is not valid TOML"),
    ],
)
def test_bad_values_name_the_key_and_where_it_came_from(
    tmp_path: Path, where: str, value: str, needle: str
) -> None:
    path, env, flags = None, {}, {}
    if where == "file":
        path = write(tmp_path, value + "\n")
    elif where == "env":
        name, _, raw = value.partition("=")
        env[name] = raw
    else:
        name, _, raw = value.partition("=")
        flags[name] = raw
    with pytest.raises(ConfigError) as info:
        load_settings(path, env=env, flags=flags)
    assert needle in str(info.value)
    assert info.value.exit_code == 2


@pytest.mark.parametrize(
    ("raw", "seconds"),
    [
        ("7", 7 * 86400),
        ("0", 0),
        ("36h", 36 * 3600),
        ("90m", 5400),
        ("3600s", 3600),
        ("2d", 172800),
    ],
)
def test_the_metrics_window_takes_days_or_a_duration(raw: str, seconds: int) -> None:
    assert load_settings(None, env={"CIO_METRICS_LOOKBACK": raw}).metrics_lookback == seconds
    assert load_settings(None, env={}).metrics_lookback == 7 * 86400


def test_rates_above_the_documented_limit_need_an_explicit_allowance() -> None:
    with pytest.raises(ConfigError, match="allow_unsafe_rate_limit"):
        load_settings(None, env={"CIO_RATE_LIMIT": "20"})
    s = load_settings(None, env={"CIO_RATE_LIMIT": "20", "CIO_ALLOW_UNSAFE_RATE_LIMIT": "true"})
    assert s.rate_limit == 20.0
    assert load_settings(None, env={"CIO_RATE_LIMIT": "2.5"}).rate_limit == 2.5


def test_customerio_source_needs_an_app_key_and_complete_track_credentials() -> None:
    with pytest.raises(ConfigError, match="no App API key") as info:
        load_settings(None, env={}, flags={"source": "customerio"})
    assert "CIO_APP_API_KEY" in str(info.value)
    with pytest.raises(ConfigError, match="site_id"):
        load_settings(None, env=KEYS)  # tracking key without site id
    explicit = load_settings(None, env=KEYS, flags={"source": "sandbox"})
    assert explicit.source == "sandbox"


def test_secrets_are_masked_and_bad_secret_values_are_never_echoed(tmp_path: Path) -> None:
    secret = Secret("s3cr3t-value-xyz")
    assert "s3cr3t" not in repr(secret) + str(secret) + f"{secret}"
    assert secret.reveal() == "s3cr3t-value-xyz"
    path = write(tmp_path, "app_api_key = 12345678\n")
    with pytest.raises(ConfigError) as info:
        load_settings(path, env={})
    assert "12345678" not in str(info.value) and "app_api_key" in str(info.value)


def test_empty_environment_variables_count_as_unset() -> None:
    s = load_settings(None, env={"CIO_APP_API_KEY": "", "CIO_REGION": " "})
    assert s.source == "sandbox" and s.region == "us"


@pytest.mark.parametrize("path", CONFIGS, ids=[p.name for p in CONFIGS])
def test_every_example_config_loads(path: Path) -> None:
    text = path.read_text()
    env = {name: f"value-of-{name.lower()}" for name in re.findall(r"\$\{(\w+)\}", text)}
    if "source" not in tomllib.loads(text):  # a target alone: the workspace's keys from the env
        env = {**KEYS, "CIO_SITE_ID": "site1", **env}
    s = load_settings(str(path), env=env)
    for key in tomllib.loads(text):  # each key is read (the env may override its own key)
        assert s.origins[key] in (f"file {path}", f"env {env_name(key)}")


def test_example_configs_cover_sandbox_regions_and_targets() -> None:
    assert {p.name for p in CONFIGS} >= {
        "sandbox.toml",
        "us-workspace.toml",
        "eu-workspace.toml",
        "postgres-target.toml",
        "mysql-target.toml",
    }


def test_a_malformed_config_exits_2_through_the_cli(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, "rate_limit = = 3\n")
    assert main(["-c", path, "check"]) == 2
    assert "is not valid TOML" in capsys.readouterr().err


def test_deletes_is_soft_unless_set() -> None:
    assert load_settings(None, env={}).deletes == "soft"
    assert load_settings(None, env={"CIO_DELETES": "HARD"}).deletes == "hard"
    assert load_settings(None, env={"CIO_DELETES": "hard"}, flags={"deletes": "keep"}).deletes == (
        "keep"
    )
