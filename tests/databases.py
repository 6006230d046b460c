"""Private databases for tests that commit (snapshots, restores, byte scans): SQLite files or PostgreSQL databases."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import make_url, text
from sqlalchemy.engine import Engine

from custinfo.core.db import make_engine
from custinfo.core.schema import alembic_config


@contextmanager
def private_database(backend: str, tmp_path: Path, revision: str = "head") -> Iterator[Engine]:
    """A database of its own at `revision`: a SQLite file, or a new PostgreSQL database dropped afterwards."""
    if backend == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path / f'own-{uuid.uuid4().hex[:6]}.db'}")
        _upgrade(engine, revision)
        try:
            yield engine
        finally:
            engine.dispose()
        return
    url = os.environ.get("CUSTINFO_TEST_DATABASE_URL")
    if not url:
        if os.environ.get("CI") == "true":
            pytest.fail("PostgreSQL is required in CI")
        pytest.skip("PostgreSQL tests skipped: CUSTINFO_TEST_DATABASE_URL is not set")
    server = make_engine(url, isolation_level="AUTOCOMMIT")
    name = f"{make_url(url).database or 'custinfo'}_own_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    with server.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine = make_engine(make_url(url).set(database=name).render_as_string(hide_password=False))
    try:
        _upgrade(engine, revision)
        yield engine
    finally:
        engine.dispose()
        with server.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        server.dispose()


def _upgrade(engine: Engine, revision: str) -> None:
    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)
