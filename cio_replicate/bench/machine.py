"""What the figures were measured on: CPU, memory, Python, drivers, servers."""

from __future__ import annotations

import os
import platform
import sqlite3
import sys
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import sqlalchemy as sa


@dataclass(frozen=True)
class Machine:
    cpu: str
    cores: int
    ram_gib: float
    os: str
    python: str
    packages: tuple[tuple[str, str], ...]
    servers: tuple[tuple[str, str], ...]

    def lines(self) -> list[str]:
        pkgs = ", ".join(f"{name} {version}" for name, version in self.packages)
        out = [
            f"- CPU: {self.cpu}, {self.cores} cores; RAM {self.ram_gib:.1f} GiB; {self.os}",
            f"- Python {self.python}; {pkgs}",
        ]
        out.extend(f"- {name}: {detail}" for name, detail in self.servers)
        return out


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _ram_gib() -> float:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) / 1024 / 1024
    except OSError:
        pass
    return 0.0


def _version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "not installed"


def _server(url: str, query: str) -> str:
    engine = sa.create_engine(url, connect_args={"connect_timeout": 3})
    try:
        with engine.connect() as conn:
            return ", ".join(str(value) for value in conn.execute(sa.text(query)).one())
    except Exception as exc:  # the benchmark reports an absent server, it does not fail on it
        return f"unreachable ({type(exc).__name__})"
    finally:
        engine.dispose()


POSTGRES_SETTINGS = (
    "SELECT version(), 'fsync=' || current_setting('fsync'),"
    " 'synchronous_commit=' || current_setting('synchronous_commit'),"
    " 'shared_buffers=' || current_setting('shared_buffers')"
)
MYSQL_SETTINGS = (
    "SELECT CONCAT('MariaDB/MySQL ', VERSION()),"
    " CONCAT('innodb_flush_log_at_trx_commit=', @@innodb_flush_log_at_trx_commit),"
    " CONCAT('innodb_buffer_pool_size=', @@innodb_buffer_pool_size DIV 1048576, 'M')"
)


def describe(postgres_url: str | None, mysql_url: str | None) -> Machine:
    servers = [
        ("SQLite", f"{sqlite3.sqlite_version} (file on local disk, WAL as set by the loader)")
    ]
    if postgres_url:
        servers.append(("PostgreSQL", _server(postgres_url, POSTGRES_SETTINGS) + ", loopback"))
    if mysql_url:
        servers.append(("MySQL", _server(mysql_url, MYSQL_SETTINGS) + ", loopback"))
    uname = platform.uname()
    return Machine(
        cpu=_cpu_model(),
        cores=os.cpu_count() or 1,
        ram_gib=_ram_gib(),
        os=f"{uname.system} {uname.release}",
        python=sys.version.split()[0],
        packages=tuple(
            (name, _version(name)) for name in ("SQLAlchemy", "psycopg", "PyMySQL", "httpx")
        ),
        servers=tuple(servers),
    )
