"""One small exception tree, grouped by what the caller should do.

Every error carries the exit code the CLI turns it into; the CLI is the only
place that turns errors into messages and exit codes. Messages never contain
secrets: they are built from names, paths and statuses only.
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_UNEXPECTED = 1
EXIT_USAGE = 2
EXIT_AUTH = 3
EXIT_PARTIAL = 4
EXIT_INTERRUPTED = 130
"""128 + SIGINT; a run stopped by SIGTERM exits 143 (128 + SIGTERM)."""


class CioReplicateError(Exception):
    """Base of every error the tool raises on purpose."""

    exit_code: int = EXIT_UNEXPECTED


class ConfigError(CioReplicateError):
    """A configuration value is missing or invalid: fix the config and rerun."""

    exit_code = EXIT_USAGE

    def __init__(self, message: str, *, key: str | None = None, source: str | None = None) -> None:
        self.key = key
        self.source = source
        where = ""
        if key and source:
            where = f"{key} (from {source}): "
        elif key:
            where = f"{key}: "
        super().__init__(f"{where}{message}")


class UsageError(CioReplicateError):
    """The command line asks for something that cannot be done: fix the command."""

    exit_code = EXIT_USAGE


class ApiError(CioReplicateError):
    """Customer.io answered with an error that retrying will not fix."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        method: str | None = None,
        path: str | None = None,
    ) -> None:
        self.status = status
        self.method = method
        self.path = path
        super().__init__(message)


class AuthError(ApiError):
    """401/403: credentials, region or key scope are wrong. Do not retry."""

    exit_code = EXIT_AUTH


class NotFoundError(ApiError):
    """404: the record (or its parent) does not exist (any more)."""


class RetryExhaustedError(ApiError):
    """Retries ran out (429, 5xx, timeouts, bad bodies) within the total wait budget."""


class ConnectionFailedError(ApiError):
    """The host could not be reached at all (DNS, refused, TLS)."""


class PartialFailure(CioReplicateError):
    """Some work failed, the rest was committed."""

    exit_code = EXIT_PARTIAL


class Interrupted(CioReplicateError):
    """The run was asked to stop (Ctrl-C, SIGTERM): what was committed is kept.

    Raised by the client for a request asked for after the stop (never sent, or
    sent but not retried), and by the CLI once an interrupted run is recorded.
    """

    exit_code = EXIT_INTERRUPTED

    def __init__(self, message: str = "interrupted", *, signal_number: int | None = None) -> None:
        if signal_number is not None:
            self.exit_code = 128 + signal_number
        super().__init__(message)
