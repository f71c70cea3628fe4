"""The ``CIO_*`` environment variables: each setting's name, and typos of them.

An unknown ``CIO_*`` variable is most likely a typo (``CIO_API_KEY`` for
``CIO_APP_API_KEY``) whose value is silently ignored. It is reported with the
nearest known name: a warning, or an error (exit 2) when it looks like a
credential, an API URL, the target or the source, because ignoring one of those
changes where data is read from or written to.
"""

from __future__ import annotations

import difflib
import logging
import re
from collections.abc import Mapping

from .errors import ConfigError

PREFIX = "CIO_"
CONFIG_VARIABLE = "CIO_CONFIG"
INTERNAL = frozenset({CONFIG_VARIABLE, "CIO_REPLICATE_CRASH", "CIO_REPLICATE_PAUSE"})
"""Variables read outside the settings (engine/crash.py, the CLI's -c)."""
INTERNAL_PREFIXES = ("CIO_TEST_", "CIO_BENCH_")
"""The test suite's and the benchmarks' own variables."""
STRICT_KEYS = frozenset(
    {
        "app_api_key",
        "track_api_key",
        "site_id",
        "app_api_url",
        "track_api_url",
        "target_url",
        "source",
        "config",
    }
)
"""Settings whose typo is an error: ignoring them changes where data goes."""
_SENSITIVE = re.compile(r"KEY|TOKEN|SECRET|PASSW|SITE|TARGET|DATABASE|DSN|URL|SOURCE")

log = logging.getLogger("cio_replicate.config")


def env_name(key: str) -> str:
    """The environment variable for a key: CIO_ + the key in upper case."""
    return PREFIX + key.upper()


def _nearest(name: str, known: Mapping[str, str]) -> list[str]:
    """The known names closest to ``name``: the best match and any as close (CIO_LOOKBACK:
    CIO_LOOKBACK_SECONDS or CIO_METRICS_LOOKBACK), sorted."""
    scored = [(difflib.SequenceMatcher(None, name, k).ratio(), k) for k in known]
    best = max((score for score, _ in scored), default=0.0)
    if best < 0.6:
        return []
    return sorted(k for score, k in scored if score >= best - 0.01)


def check_environment(env: Mapping[str, str], variables: Mapping[str, str]) -> None:
    """Report unknown ``CIO_*`` names in ``env``; ``variables`` maps setting -> variable.

    Raises ConfigError for the first one that looks like a credential, URL, target
    or source; logs a warning for the others.
    """
    known = {variable: key for key, variable in variables.items()}
    known[CONFIG_VARIABLE] = "config"
    unknown = sorted(
        name
        for name in env
        if name.upper().startswith(PREFIX)
        and name not in known
        and name not in INTERNAL
        and not name.startswith(INTERNAL_PREFIXES)
    )
    warnings = []
    for name in unknown:
        close = _nearest(name.upper(), known)
        if close:
            hint = f"did you mean {' or '.join(close)}?"
        else:
            hint = "no setting has a similar name (see Configuration in the README)."
        strict = any(known[n] in STRICT_KEYS for n in close) or bool(
            _SENSITIVE.search(name.upper()[len(PREFIX) :])
        )
        if strict:
            raise ConfigError(
                f"unknown environment variable {name}: {hint} It is not read, so its value "
                f"would be ignored: rename it, or unset it if it is not meant for cio-replicate"
            )
        warnings.append(f"unknown environment variable {name} is ignored: {hint}")
    for message in warnings:
        log.warning(message)
