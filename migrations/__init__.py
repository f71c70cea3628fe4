"""Alembic migrations for the tool's own tables (installed as cio_replicate.migrations).

Only the system tables of :mod:`cio_replicate.systables` live here; replicated
data tables evolve at runtime and are invisible to autogenerate.
"""
