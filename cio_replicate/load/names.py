"""API names -> SQL identifiers: legal, within the dialect's limit, never colliding.

Two namings (the ``column_names`` setting, :mod:`cio_replicate.load.naming`):

* ``snake``: the name an analyst types without quotes, the way dlt's
  SnakeCaseNamingConvention makes it (:func:`snake`): lowercase snake_case,
  ASCII letters, digits and ``_`` only, never a reserved word of SQLite,
  PostgreSQL, MySQL or MariaDB (those get a trailing ``_``: ``from_``).
* ``api``: a column keeps its API name wherever the databases allow it
  (identifiers are always quoted, so spaces, dots, quotes, keywords and mixed
  case are fine).

Otherwise only three things change a name (in both namings):

* characters no target accepts (control characters, characters outside
  Unicode's Basic Multilingual Plane, which MySQL rejects, trailing spaces)
  become ``_`` (``api``; ``snake`` names have none);
* a name longer than the limit (PostgreSQL 63 bytes, MySQL 64 characters)
  is cut and ends in ``_`` + 8 hex digits of a SHA-256 of the full API name;
* a name equal to one already taken, ignoring case and accents (MySQL column
  names are case-insensitive), gets that hash suffix too.

The chosen names are recorded (``_cio_columns``), so they never change
between runs; the new fields of one batch are named in sorted order of their
API names (the mapper), so a collision is settled the same whatever order
fields arrive in.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterable
from typing import Literal

from sqlalchemy.dialects.mysql.reserved_words import RESERVED_WORDS_MARIADB, RESERVED_WORDS_MYSQL
from sqlalchemy.dialects.postgresql.base import RESERVED_WORDS as RESERVED_POSTGRESQL
from sqlalchemy.dialects.sqlite.base import SQLiteIdentifierPreparer

from .dialects import Dialect

Naming = Literal["snake", "api"]
NAMINGS: tuple[Naming, ...] = ("snake", "api")

HASH_LEN = 8
SYNCED_AT = "_cio_synced_at"
"""The column every data table carries: when the row was last written (UTC)."""
DELETED_AT = "_cio_deleted_at"
"""The column of tables that record deletes softly: when the key left the source (UTC)."""


RESERVED: frozenset[str] = frozenset(
    w.lower()
    for w in (
        *RESERVED_POSTGRESQL,
        *RESERVED_WORDS_MYSQL,
        *RESERVED_WORDS_MARIADB,
        *SQLiteIdentifierPreparer.reserved_words,
    )
)
"""Words no column may be named unquoted on one of the three databases."""

_REDUCE = str.maketrans("+-*@|", "x_xal")
_NON_ALNUM = re.compile(r"[^a-zA-Z0-9_]+")
_ALNUM = re.compile(r"[a-zA-Z0-9]")
_CAMEL_WORD = re.compile(r"([^_])([A-Z][a-z]+)")
_CAMEL_LOWER_UPPER = re.compile(r"([a-z0-9])([A-Z])")
_UNDERSCORES = re.compile(r"__+")


def snake(name: str) -> str:
    """``name`` in lowercase snake_case, typed without quotes on every target.

    dlt's SnakeCaseNamingConvention: ``+-*@|`` become ``x_xal``, other runs of
    characters outside ``[a-zA-Z0-9_]`` (non-ASCII letters too) one ``_`` (a
    name left with no letter or digit is ``_`` + its digest), camelCase is
    broken up, a leading digit gets a ``_`` before it, each trailing ``_`` becomes
    ``x`` and ``__`` collapses to ``_``. A reserved word then gets a trailing ``_``.
    """
    text = _NON_ALNUM.sub("_", name.strip().translate(_REDUCE))
    if not _ALNUM.search(text):
        text = "_" + digest(name)
    text = _CAMEL_WORD.sub(r"\1_\2", text)
    text = _CAMEL_LOWER_UPPER.sub(r"\1_\2", text).lower()
    if text[0].isdigit():
        text = "_" + text
    stripped = text.rstrip("_")
    text = stripped + "x" * (len(text) - len(stripped))
    text = _UNDERSCORES.sub("_", text)
    return text + "_" if text in RESERVED else text


def fold(name: str) -> str:
    """The form under which two names collide: no case, no accents."""
    decomposed = unicodedata.normalize("NFKD", name)
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return unicodedata.normalize("NFKC", bare.casefold())


def digest(name: str) -> str:
    return hashlib.sha256(name.encode("utf-8", "surrogatepass")).hexdigest()[:HASH_LEN]


def sanitize(name: str) -> str:
    """Replace what no target accepts in a quoted identifier."""
    chars = ["_" if ord(c) > 0xFFFF or unicodedata.category(c) in ("Cc", "Cs") else c for c in name]
    text = "".join(chars)
    stripped = text.rstrip()
    if stripped != text:
        text = stripped + "_"  # MySQL: names cannot end with a space
    return text or "_"


def size(name: str, dialect: Dialect) -> int:
    return len(name.encode("utf-8")) if dialect.identifier_unit == "bytes" else len(name)


def cut(name: str, limit: int, dialect: Dialect) -> str:
    """The longest prefix of ``name`` within ``limit`` units."""
    while size(name, dialect) > limit:
        name = name[:-1]
    return name


def with_suffix(name: str, suffix: str, dialect: Dialect) -> str:
    return cut(name, dialect.max_identifier - size(suffix, dialect), dialect) + suffix


def identifier(name: str, dialect: Dialect) -> str:
    """A legal identifier for ``name`` (a table name, say), shortened if needed."""
    legal = sanitize(name)
    if size(legal, dialect) <= dialect.max_identifier:
        return legal
    return with_suffix(legal, "_" + digest(name), dialect)


def assign(
    api_name: str,
    taken: Iterable[str],
    dialect: Dialect,
    *,
    tag: str = "",
    naming: Naming = "api",
) -> str:
    """A column name for ``api_name`` that collides with none of ``taken``.

    ``tag`` names a sibling column of the same API field (e.g. ``__raw``);
    ``naming``: ``snake`` (:func:`snake`) or ``api`` (the API name, sanitized).
    A collision gets ``_`` + 8 hex digits of the API name (and tag).
    """
    folded = {fold(t) for t in taken} | {fold(SYNCED_AT)}
    wanted = (snake(api_name) if naming == "snake" else sanitize(api_name)) + tag
    candidate = identifier(wanted, dialect)
    if fold(candidate) not in folded:
        return candidate
    suffix = "_" + digest(api_name + tag)
    candidate = with_suffix(wanted, suffix, dialect)
    n = 2
    while fold(candidate) in folded:
        candidate = with_suffix(wanted, f"{suffix}_{n}", dialect)
        n += 1
    return candidate
