"""Database driver errors as one line: which target (host, database), which table,
what went wrong and what to do, never the SQL statement or its parameters.

SQLAlchemy's message for a failed statement carries the statement and its
parameter values (people's data); :func:`describe` keeps only the driver's
first line, and for errors about data (class 22 and 23 on PostgreSQL, their
MySQL counterparts) drops the quoted values from that line too. The target's
URL (password masked) is attached to every error raised through an engine
configured by :func:`watch`, so the CLI can name it without holding the URL.
"""

from __future__ import annotations

import re
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event

from ..logs import redact
from .types import clean_text

URL_NOTE = "cio_target"
"""Attribute holding the masked target URL on errors raised through a watched engine."""

FIX_URL = "fix {} in target_url (CIO_TARGET_URL / --target-url)"
GRANTS = (
    "grant this user SELECT, INSERT, UPDATE, DELETE, CREATE, ALTER and DROP on the target "
    "(data tables are created, widened and swapped), or use a user that has them"
)

# cause -> (what happened, what to do)
CAUSES: dict[str, tuple[str, str]] = {
    "auth": ("wrong user or password", FIX_URL.format("user and password")),
    "unreachable": (
        "cannot reach the database server",
        "is it running and reachable? Else " + FIX_URL.format("host and port"),
    ),
    "no_database": (
        "the database does not exist",
        "create it, or " + FIX_URL.format("the database name"),
    ),
    "dropped": (
        "the connection to the database was lost",
        "rerun: committed batches are kept and the run resumes after them",
    ),
    "permission": ("permission denied", GRANTS),
    "read_only": (
        "the database is read-only",
        "point target_url (CIO_TARGET_URL / --target-url) at a writable server, not a "
        "replica (SQLite: make the file and its folder writable by this user)",
    ),
    "too_many_columns": (
        "more columns than the database allows in one table (MySQL/MariaDB InnoDB: 1017, "
        "PostgreSQL: 1600, SQLite: 2000)",
        "the records of this object have more distinct fields than that; replicate it "
        "to PostgreSQL or leave it out of this run",
    ),
    "charset": (
        "a table is not in utf8mb4",
        "run `cio-replicate db upgrade`, and ALTER DATABASE ... CHARACTER SET utf8mb4",
    ),
    "too_long": (
        "a value is longer than its column allows",
        "id columns (id, cio_id, *_id) hold up to 255 characters on MySQL/MariaDB and "
        "Customer.io ids are far shorter: check the record in the workspace, or replicate "
        "this object to PostgreSQL",
    ),
    "busy": ("the database was busy (lock timeout or deadlock)", "rerun"),
    "full": ("the database is out of space", "free space on the database server, then rerun"),
}

_MYSQL = {
    1045: "auth", 1044: "permission", 1142: "permission", 1143: "permission",
    1227: "permission", 1049: "no_database", 2003: "unreachable", 2005: "unreachable",
    2006: "dropped", 2013: "dropped", 2014: "dropped", 1290: "read_only", 1792: "read_only",
    1117: "too_many_columns", 1118: "too_many_columns", 1271: "charset", 1267: "charset",
    1406: "too_long", 1205: "busy", 1213: "busy", 1114: "full", 1021: "full",
}  # fmt: skip
_MYSQL_DATA = {1062, 1264, 1265, 1292, 1366, 1406, 3140, 4025}
_PG = {
    "28P01": "auth", "28000": "auth", "3D000": "no_database", "42501": "permission",
    "25006": "read_only", "54011": "too_many_columns", "57P01": "dropped",
    "57P02": "dropped", "57P03": "dropped", "40P01": "busy", "55P03": "busy",
    "53100": "full",
}  # fmt: skip
_TEXT = (  # driver messages without a code (connection failures, SQLite)
    ("password authentication failed", "auth"),
    ("no pg_hba.conf entry", "auth"),
    ("fatal: role", "auth"),  # role "x" does not exist
    ("fatal: database", "no_database"),  # database "x" does not exist
    ("connection refused", "unreachable"),
    ("could not translate host name", "unreachable"),
    ("name or service not known", "unreachable"),
    ("timeout expired", "unreachable"),
    ("server closed the connection", "dropped"),
    ("consuming input failed", "dropped"),
    ("the connection is lost", "dropped"),
    ("attempt to write a readonly database", "read_only"),
    ("too many columns", "too_many_columns"),
    ("database is locked", "busy"),
    ("database or disk is full", "full"),
)
_QUOTED = re.compile(r"""'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*"|\((?:[^()])*\)=\((?:[^()])*\)""")
_TABLE = re.compile(
    r"\b(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM|ALTER\s+TABLE|CREATE\s+TABLE(?:\s+IF\s+NOT\s+EXISTS)?"
    r"|DROP\s+TABLE(?:\s+IF\s+EXISTS)?|RENAME\s+TABLE|FROM)\s+([`\"]?)([^\s`\"(,]+)\1",
    re.IGNORECASE,
)


def _code(orig: BaseException | None) -> tuple[int | None, str | None]:
    """(MySQL error number, PostgreSQL SQLSTATE) of a driver exception."""
    if orig is None:
        return None, None
    sqlstate = getattr(orig, "sqlstate", None)
    args = getattr(orig, "args", ())
    number = args[0] if args and isinstance(args[0], int) else None
    return number, sqlstate if isinstance(sqlstate, str) else None


def _driver_line(orig: BaseException | None, exc: BaseException) -> str:
    if orig is not None:
        args: tuple[Any, ...] = tuple(getattr(orig, "args", ()))
        if len(args) >= 2 and isinstance(args[0], int):  # PyMySQL: (number, message)
            text = str(args[1])
        else:
            text = str(orig)
    else:
        text = str(exc)
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    line = lines[0] if lines else type(orig or exc).__name__
    return line.split("[SQL:", 1)[0].strip()


def cause_of(exc: BaseException) -> str | None:
    """The known cause of a database error (a key of CAUSES), or None."""
    orig = exc.orig if isinstance(exc, sa.exc.DBAPIError) else exc
    number, sqlstate = _code(orig)
    if number in _MYSQL:
        return _MYSQL[number]
    if sqlstate in _PG:
        return _PG[sqlstate]
    if sqlstate and sqlstate.startswith("08"):
        return "unreachable" if sqlstate in ("08001", "08004") else "dropped"
    text = " ".join(str(orig or exc).split()).lower()
    for needle, cause in _TEXT:
        if needle in text:
            return cause
    return None


def _is_data_error(exc: BaseException) -> bool:
    orig = exc.orig if isinstance(exc, sa.exc.DBAPIError) else exc
    number, sqlstate = _code(orig)
    return (
        isinstance(exc, sa.exc.DataError | sa.exc.IntegrityError)
        or number in _MYSQL_DATA
        or (sqlstate or "")[:2] in ("22", "23")
    )


def table_of(exc: BaseException) -> str | None:
    """The table a failed statement was about (from its text; no values)."""
    statement = getattr(exc, "statement", None)
    if not isinstance(statement, str):
        return None
    match = _TABLE.search(statement)
    return match.group(2) if match else None


def describe(exc: BaseException, url: sa.URL | str | None = None, table: str | None = None) -> str:
    """One line about a database error: target, table, cause, fix; no SQL, no values."""
    orig = exc.orig if isinstance(exc, sa.exc.DBAPIError) else None
    if url is None:
        url = getattr(exc, URL_NOTE, None)
    where = "cannot use target"
    if url is not None:
        shown = url.render_as_string() if isinstance(url, sa.URL) else str(url)
        where += f" {shown}"
    table = table_of(exc) or table
    if table:
        where += f", table {table}"
    detail = _driver_line(orig, exc)
    if _is_data_error(exc):
        detail = _QUOTED.sub("…", detail)  # the values are people's data
    cause = cause_of(exc)
    if cause is None:
        return one_line(f"{where}: {detail}")
    what, fix = CAUSES[cause]
    return one_line(f"{where}: {what} ({detail}). {fix[0].upper()}{fix[1:]}.")


def error_message(exc: BaseException, table: str | None = None) -> str:
    """What to record and show about an object's failure: :func:`describe` for a
    database error, else the exception's type and text (secrets masked)."""
    if isinstance(exc, sa.exc.DBAPIError):
        return describe(exc, table=table)
    return clean_text(redact(f"{type(exc).__name__}: {exc}"), nul=False)


def one_line(text: str) -> str:
    """Secrets masked, a single line, storable in any database (no NUL, no surrogates)."""
    return clean_text(redact(" ".join(text.split())), nul=False)


def _note_url(context: Any) -> None:
    error = context.sqlalchemy_exception
    engine = context.engine
    if error is not None and engine is not None:
        setattr(error, URL_NOTE, engine.url.render_as_string(hide_password=True))


def watch(engine: sa.Engine) -> None:
    """Attach the engine's masked URL to every error raised through it (idempotent)."""
    if not event.contains(engine, "handle_error", _note_url):
        event.listen(engine, "handle_error", _note_url)
