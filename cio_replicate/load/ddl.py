"""Create, extend, widen and swap data tables, per dialect.

PostgreSQL and SQLite run all of this inside the caller's transaction (their
DDL is transactional). MySQL/MariaDB commit the open transaction implicitly
before and after every DDL statement: a crash between a DDL statement and the
caller's commit can leave a column without its ``_cio_columns`` record, which
the next :meth:`TableWriter.evolve` repairs (it adds only columns the table
does not have).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import sqlalchemy as sa

from .dialects import Dialect, column_type, id_field, table_of
from .names import SYNCED_AT, fold, identifier
from .schema import Column
from .types import FLOAT_EXACT
from .writer import SqlWriter

Widening = tuple[Column, Column]  # (as stored, as wanted)


class Ddl:
    """Schema changes of data tables for one dialect."""

    def __init__(self, dialect: Dialect, sa_dialect: sa.Dialect, sql: SqlWriter) -> None:
        self.dialect = dialect
        self.sa_dialect = sa_dialect
        self.sql = sql

    def pk_name(self, table: str) -> str:
        return identifier(table + "_pkey", self.dialect)

    def sa_table(
        self,
        table: str,
        columns: Iterable[Column],
        keys: Sequence[str],
        *,
        open_key: bool = False,
    ) -> sa.Table:
        """The SQLAlchemy definition of a data table (also good for reading it back).

        ``open_key``: the key is a nullable UNIQUE constraint (same name as the
        primary key would have) and ``_cio_synced_at`` is nullable: users insert
        rows without either (``sync``); upserts by key work the same."""
        cols = sorted(columns, key=lambda c: c.position)
        string_keys = sum(1 for c in cols if c.name in keys and c.type == "text")
        sa_cols = [
            sa.Column(
                c.name,
                self._type(c, keys, string_keys),
                nullable=open_key or c.name not in keys,
                autoincrement=False,  # keys come from the API: no SERIAL/AUTO_INCREMENT
                quote=True,
            )
            for c in cols
        ]
        synced = column_type(self.dialect, "timestamp")
        sa_cols.append(sa.Column(SYNCED_AT, synced, nullable=open_key, quote=True))
        key: sa.Constraint = (
            sa.UniqueConstraint(*keys, name=self.pk_name(table))
            if open_key
            else sa.PrimaryKeyConstraint(*keys, name=self.pk_name(table))
        )
        return sa.Table(
            table,
            sa.MetaData(),
            *sa_cols,
            key,
            quote=True,
            mysql_engine="InnoDB",
            mysql_charset="utf8mb4",
        )

    def _type(
        self, column: Column, keys: Sequence[str], string_keys: int
    ) -> sa.types.TypeEngine[Any]:
        """The SQL type of one column (a text id column is bounded: :func:`id_field`)."""
        return column_type(
            self.dialect,
            column.type,
            key=column.name in keys,
            string_keys=string_keys,
            bounded=column.type == "text" and id_field(column.api_name),
        )

    def type_sql(self, column: Column, keys: Sequence[str], string_keys: int) -> str:
        return str(self._type(column, keys, string_keys).compile(dialect=self.sa_dialect))

    # --- inspection -----------------------------------------------------------

    def existing_columns(self, conn: sa.Connection, table: str) -> set[str] | None:
        """Column names of ``table`` as the database has them, None if no such table."""
        inspector = sa.inspect(conn)
        if not inspector.has_table(table):
            return None
        return {str(c["name"]) for c in inspector.get_columns(table)}

    def mismatch(
        self, conn: sa.Connection, table: str, columns: Iterable[Column], keys: Sequence[str]
    ) -> str | None:
        """What about ``table`` differs from ``columns`` (as recorded), None if nothing.

        Catches what was altered by hand: the table dropped, a column dropped,
        or a column's type changed to another kind (text for a number, a
        number for text, ...). Extra columns are no concern.
        """
        inspector = sa.inspect(conn)
        if not inspector.has_table(table):
            return "the table is missing"
        live = {
            fold(self._reflected(str(c["name"]))): c["type"] for c in inspector.get_columns(table)
        }
        wanted = sorted(columns, key=lambda c: c.position)
        string_keys = sum(1 for c in wanted if c.name in keys and c.type == "text")
        synced = Column(SYNCED_AT, SYNCED_AT, "timestamp", len(wanted))
        for col in [*wanted, synced]:
            found = live.get(fold(col.name))
            if found is None:
                return f"column {col.name} is missing"
            if not isinstance(found, self._kinds(col.type)):
                try:
                    shown = str(found.compile(dialect=self.sa_dialect))
                except Exception:  # a type SQLAlchemy cannot render back
                    shown = type(found).__name__
                expected = self.type_sql(col, keys, string_keys)
                return f"column {col.name} is {shown}, expected {expected}"
        return None

    def _reflected(self, name: str) -> str:
        """A column name as reflected, unquoted (SQLAlchemy's MySQL reflection doubles `)."""
        return name.replace("``", "`") if self.dialect.reflected_backticks else name

    def _kinds(self, logical: str) -> tuple[type[sa.types.TypeEngine[Any]], ...]:
        """The reflected SQLAlchemy types that hold a logical type's values."""
        loose = self.dialect.reflects_json_as_text
        kinds: dict[str, tuple[type[sa.types.TypeEngine[Any]], ...]] = {
            "int": (sa.Integer,),
            "float": (sa.Float, sa.Numeric),
            "bool": (sa.Boolean, sa.Integer)
            if self.dialect.reflects_bool_as_int
            else (sa.Boolean,),
            "timestamp": (sa.DateTime,),
            "json": (sa.JSON, sa.String) if loose else (sa.JSON,),
        }
        return kinds.get(logical, (sa.String,))

    def has_big_ints(self, conn: sa.Connection, table: str, column: str) -> bool:
        """Would this int column lose precision as a double?"""
        t = table_of(table, [column])
        col = t.c[column]
        big = sa.or_(col > FLOAT_EXACT, col < -FLOAT_EXACT)
        query: sa.Select[Any] = sa.select(sa.literal_column("1")).select_from(t).where(big).limit(1)
        return conn.execute(query).first() is not None

    # --- changes --------------------------------------------------------------

    def create(
        self,
        conn: sa.Connection,
        table: str,
        columns: Iterable[Column],
        keys: Sequence[str],
        *,
        open_key: bool = False,
    ) -> None:
        self.sa_table(table, columns, keys, open_key=open_key).create(conn)

    def drop(self, conn: sa.Connection, table: str) -> None:
        self.sql.execute(conn, f"DROP TABLE IF EXISTS {self.sql.quote(table)}")

    def add(
        self,
        conn: sa.Connection,
        table: str,
        columns: Sequence[Column],
        keys: Sequence[str],
        string_keys: int,
    ) -> None:
        """New nullable columns (older rows get NULL)."""
        if not columns:
            return
        clauses = [
            f"ADD COLUMN {self.sql.quote(c.name)} {self.type_sql(c, keys, string_keys)}"
            for c in columns
        ]
        name = self.sql.quote(table)
        if not self.dialect.add_columns_at_once:  # one column per ALTER TABLE
            for clause in clauses:
                self.sql.execute(conn, f"ALTER TABLE {name} {clause}")
        else:
            self.sql.execute(conn, f"ALTER TABLE {name} " + ", ".join(clauses))

    def widen(
        self,
        conn: sa.Connection,
        table: str,
        widenings: Sequence[Widening],
        wanted: Sequence[Column],
        keys: Sequence[str],
        *,
        open_key: bool = False,
    ) -> None:
        """Change column types so every old value survives, as the new type."""
        if not widenings:
            return
        if self.dialect.widen == "rebuild":
            self._rebuild(conn, table, widenings, wanted, keys, open_key)
            return
        string_keys = sum(1 for c in wanted if c.name in keys and c.type == "text")
        name, q = self.sql.quote(table), self.sql.quote
        if self.dialect.widen == "alter_using":
            clauses = [
                f"ALTER COLUMN {q(new.name)} TYPE {self.type_sql(new, keys, string_keys)} "
                f"USING CAST({q(new.name)} AS {self.type_sql(new, keys, string_keys)})"
                for _, new in widenings
            ]
            self.sql.execute(conn, f"ALTER TABLE {name} " + ", ".join(clauses))
            return
        clauses = [
            f"MODIFY COLUMN {q(new.name)} {self.type_sql(new, keys, string_keys)}"
            + (" NOT NULL" if new.name in keys and not open_key else " NULL")
            for _, new in widenings
        ]
        self.sql.execute(conn, f"ALTER TABLE {name} " + ", ".join(clauses))
        for old, new in widenings:
            if old.type == "bool":  # TINYINT(1) became '1'/'0'
                t = table_of(table, [new.name])
                col = t.c[new.name]
                text = sa.case({"1": "true", "0": "false"}, value=col, else_=col)
                conn.execute(sa.update(t).where(col.is_not(None)).values({col: text}))

    def _rebuild(
        self,
        conn: sa.Connection,
        table: str,
        widenings: Sequence[Widening],
        wanted: Sequence[Column],
        keys: Sequence[str],
        open_key: bool,
    ) -> None:
        """SQLite cannot change a column's type: copy into a new table, swap."""
        q = self.sql.quote
        stored = self.existing_columns(conn, table) or set()
        changed = {new.name: (old, new) for old, new in widenings}
        tmp = identifier(table + "__cio_tmp", self.dialect)
        self.drop(conn, tmp)
        self.create(conn, tmp, wanted, keys, open_key=open_key)
        names = [c.name for c in wanted if c.name in stored] + [SYNCED_AT]
        source = table_of(table, names)
        exprs = [
            _sqlite_cast(source.c[n], *changed[n]) if n in changed else source.c[n] for n in names
        ]
        conn.execute(sa.insert(table_of(tmp, names)).from_select(names, sa.select(*exprs)))
        self.sql.execute(conn, f"DROP TABLE {q(table)}")
        self.sql.execute(conn, f"ALTER TABLE {q(tmp)} RENAME TO {q(table)}")

    def swap(self, conn: sa.Connection, stage: str, table: str, exists: bool) -> None:
        """Make ``stage`` the table ``table`` (atomically for readers)."""
        q = self.sql.quote
        if self.dialect.swap == "rename_table":
            if exists:
                old = identifier(table + "__cio_old", self.dialect)
                self.drop(conn, old)
                # One RENAME TABLE statement swaps both names atomically.
                self.sql.execute(
                    conn, f"RENAME TABLE {q(table)} TO {q(old)}, {q(stage)} TO {q(table)}"
                )
                self.drop(conn, old)
            else:
                self.sql.execute(conn, f"RENAME TABLE {q(stage)} TO {q(table)}")
            return
        if exists:
            self.sql.execute(conn, f"DROP TABLE {q(table)}")
        self.sql.execute(conn, f"ALTER TABLE {q(stage)} RENAME TO {q(table)}")
        if self.dialect.rename_pk:
            self.sql.execute(
                conn,
                f"ALTER TABLE {q(table)} RENAME CONSTRAINT {q(self.pk_name(stage))} "
                f"TO {q(self.pk_name(table))}",
            )


def _sqlite_cast(col: sa.ColumnClause[Any], old: Column, new: Column) -> sa.ColumnElement[Any]:
    as_text = sa.cast(col, sa.Text)
    if new.type == "float":
        return sa.cast(col, sa.REAL)
    if old.type == "bool":
        return sa.case({1: "true", 0: "false"}, value=col, else_=as_text)
    if old.type == "float":
        # CAST keeps 15 digits; fall back to 17 where 15 do not round-trip. NULL stays
        # NULL (printf would make it '0.0').
        return sa.case(
            (col.is_(None), None),
            (sa.cast(as_text, sa.REAL) == col, as_text),
            else_=sa.func.printf("%!.17g", col),
        )
    return as_text
