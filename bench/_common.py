"""Shared benchmark plumbing: where benchmark databases live and how they are (re)created."""

from __future__ import annotations

import argparse
import os
import platform
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import uvicorn
from fastapi import FastAPI
from sqlalchemy import func, select, text
from sqlalchemy.engine import Engine, make_url

from custinfo.app import create_app
from custinfo.config import Settings
from custinfo.core.db import make_engine
from custinfo.core.schema import upgrade
from custinfo.customers.models import Customer
from custinfo.demo.generator import DEFAULT_DEMO_PASSWORD, demo_data_present, generate
from custinfo.security import crypto

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


def bench_key_ring(file_name: str = "keys.json") -> Path:
    """Use (creating it once) the benchmarks' own key ring beside their databases; L3 columns need one."""
    os.environ.setdefault("CUSTINFO_KEY_FILE", str(OUT / file_name))
    path = Path(os.environ["CUSTINFO_KEY_FILE"])
    OUT.mkdir(parents=True, exist_ok=True)
    crypto.ensure_key_file(path)
    crypto.install_from(path)
    return path


def demo_database(args: argparse.Namespace, prefix: str, **shape: Any) -> tuple[Engine, str]:
    """The benchmark database `<prefix>_<N>` with N demo customers (seed 42), built unless it is there."""
    name = f"{prefix}_{args.customers}"
    if not args.rebuild and exists(args.db, name, args.pg_server):
        engine = make_engine(database_url(args.db, name, args.pg_server))
        with engine.connect() as conn:
            ready = demo_data_present(conn) and conn.scalar(select(func.count()).select_from(Customer))
        if ready == args.customers:
            print(f"reusing {engine.url.render_as_string(hide_password=True)}")
            return engine, name
        engine.dispose()
    engine = fresh(args.db, name, args.pg_server)
    summary = generate(engine, args.customers, 42, DEFAULT_DEMO_PASSWORD, **shape)
    print(f"built {args.customers:,} customers in {summary.elapsed_seconds:.0f} s")
    return engine, name


@contextmanager
def serving(
    engine: Engine, db: str, name: str, extend: Callable[[FastAPI], None] | None = None
) -> Iterator[str]:
    """The real app (plus any routes `extend` adds) served by uvicorn in a thread; yields its base URL."""
    settings = Settings(environment="test", data_dir=OUT, database_url=database_url(db, name))
    app = create_app(settings, engine=engine)
    if extend is not None:
        extend(app)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join()


def percentile(samples: list[float], fraction: float) -> float:
    """The `fraction` quantile (nearest rank) in milliseconds."""
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] * 1000
