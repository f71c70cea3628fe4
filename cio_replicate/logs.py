"""Logging set-up: text or JSON lines on stderr, with every known secret redacted.

In ``--log-format json`` mode every line the tool writes as log output (log
records, progress, per-object lines, warnings, errors, the closing summary) is
one JSON object with at least ``ts``, ``level``, ``event`` and ``message``;
:func:`emit` writes such a line (or its text form in text mode).
"""

from __future__ import annotations

import json
import logging
import sys
import threading
from datetime import UTC, datetime
from typing import Any, TextIO

_SECRETS: set[str] = set()
_LOCK = threading.Lock()
_WRITE = threading.Lock()
MASK = "****"
_FORMAT = ["text"]
"""The output format of this process: "text" or "json" (set by :func:`set_log_format`)."""
CORE_KEYS = ("ts", "level", "event", "message")


def register_secret(value: str | None) -> None:
    """Remember a secret so that no log line can ever print it."""
    if value and len(value) >= 4:
        with _LOCK:
            _SECRETS.add(value)


def redact(text: str) -> str:
    """Replace every registered secret in ``text`` by a mask."""
    with _LOCK:
        secrets = sorted(_SECRETS, key=len, reverse=True)
    for secret in secrets:
        if secret in text:
            text = text.replace(secret, MASK)
    return text


class _RedactingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = redact(message)
        if redacted != message or record.args:
            record.msg = redacted
            record.args = None
        return True


def set_log_format(fmt: str) -> None:
    """Choose text or JSON lines for everything :func:`emit` and the log handler write."""
    _FORMAT[0] = "json" if fmt == "json" else "text"


def log_format() -> str:
    return _FORMAT[0]


def json_line(
    event: str, message: str, *, level: str = "info", created: float | None = None, **fields: Any
) -> str:
    """One JSON object: ts, level, event, message, then ``fields`` (never overriding those)."""
    moment = datetime.now(tz=UTC) if created is None else datetime.fromtimestamp(created, tz=UTC)
    payload: dict[str, Any] = {
        "ts": moment.isoformat(),
        "level": level,
        "event": event,
        "message": redact(message),
    }
    for key, value in fields.items():
        if key not in CORE_KEYS:
            payload[key] = redact(value) if isinstance(value, str) else value
    return redact(json.dumps(payload, default=str, ensure_ascii=False))


def emit(
    event: str,
    message: str,
    *,
    level: str = "info",
    text: str | None = None,
    stream: TextIO | None = None,
    fmt: str | None = None,
    **fields: Any,
) -> None:
    """Write one line of the tool's own output (default: stderr).

    JSON mode (``fmt``, default the process's format): :func:`json_line`.
    Text mode: ``text`` (default ``message``), redacted.
    """
    line = (
        json_line(event, message, level=level, **fields)
        if (fmt or log_format()) == "json"
        else redact(message if text is None else text)
    )
    write_line(line, stream)


def write_line(line: str, stream: TextIO | None = None) -> None:
    """Write one whole line (default: stderr): text and newline in one write, under the
    lock every line of the tool's own output takes, so threads never splice lines."""
    out = stream if stream is not None else sys.stderr
    with _WRITE:
        out.write(line + "\n")
        out.flush()


class JsonFormatter(logging.Formatter):
    """One JSON object per line, for schedulers and log shippers."""

    def format(self, record: logging.LogRecord) -> str:
        fields: dict[str, Any] = {"logger": record.name}
        extra = getattr(record, "data", None)
        if isinstance(extra, dict):
            fields.update(extra)
        if record.exc_info:
            fields["exc"] = self.formatException(record.exc_info)
        event = str(fields.pop("event", "log"))
        return json_line(
            event,
            record.getMessage(),
            level=record.levelname.lower(),
            created=record.created,
            **fields,
        )


class TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


class _Stderr:
    """Whatever ``sys.stderr`` is at the time of writing (the live display redirects it)."""

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()


def setup_logging(verbose: int = 0, fmt: str = "text") -> None:
    """Configure the ``cio_replicate`` logger tree; idempotent."""
    level = logging.WARNING
    if verbose == 1:
        level = logging.INFO
    elif verbose >= 2:
        level = logging.DEBUG
    set_log_format(fmt)
    logger = logging.getLogger("cio_replicate")
    for handler in list(logger.handlers):
        logger.removeHandler(handler)
    handler = logging.StreamHandler(_Stderr())
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(TextFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(_RedactingFilter())
    logger.addHandler(handler)
    logger.setLevel(level)
    logger.propagate = False
