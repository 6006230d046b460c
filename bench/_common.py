"""Shared benchmark plumbing: where benchmark databases live and how they are (re)created."""

from __future__ import annotations

import os
import platform
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import Engine, make_url

from custinfo.core.db import make_engine
from custinfo.core.schema import upgrade

OUT = Path(__file__).resolve().parent / "out"
DEFAULT_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def server_url(explicit: str | None) -> str:
    """The PostgreSQL server to create benchmark databases on."""
    return (
        explicit
        or os.environ.get("CUSTINFO_BENCH_DATABASE_URL")
        or os.environ.get("CUSTINFO_TEST_DATABASE_URL")
        or DEFAULT_SERVER
    )


def database_url(db: str, name: str, pg_server: str | None = None) -> str:
    """URL of the benchmark database `name` on SQLite (a file in bench/out) or PostgreSQL."""
    if db == "sqlite":
        OUT.mkdir(parents=True, exist_ok=True)
        return f"sqlite:///{OUT / name}.db"
    return make_url(server_url(pg_server)).set(database=f"custinfo_bench_{name}").render_as_string(False)


def exists(db: str, name: str, pg_server: str | None = None) -> bool:
    """True when the benchmark database is there already."""
    if db == "sqlite":
        return (OUT / f"{name}.db").exists()
    server = make_engine(server_url(pg_server), isolation_level="AUTOCOMMIT")
    try:
        with server.connect() as conn:
            found = conn.execute(
                text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": f"custinfo_bench_{name}"}
            ).first()
    finally:
        server.dispose()
    return found is not None


def fresh(db: str, name: str, pg_server: str | None = None) -> Engine:
    """Drop and recreate the benchmark database `name`, migrated to the newest schema."""
    if db == "sqlite":
        for suffix in ("", "-wal", "-shm"):
            (OUT / f"{name}.db{suffix}").unlink(missing_ok=True)
    else:
        server = make_engine(server_url(pg_server), isolation_level="AUTOCOMMIT")
        with server.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "custinfo_bench_{name}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "custinfo_bench_{name}"'))
        server.dispose()
    engine = make_engine(database_url(db, name, pg_server))
    upgrade(engine)
    return engine


def machine() -> str:
    """One line describing the machine the figures come from."""
    cpus = os.cpu_count()
    memory = ""
    try:
        with open("/proc/meminfo") as meminfo:
            kib = int(meminfo.readline().split()[1])
        memory = f", {kib / 1024 / 1024:.0f} GiB RAM"
    except OSError:
        pass
    return (
        f"{platform.machine()}, {cpus} CPUs{memory}, Python {platform.python_version()}, {platform.system()}"
    )
