"""Private databases for backup tests (they commit, snapshot and restore), and settings pointing into tmp."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import make_url, text
from sqlalchemy.engine import Engine

from custinfo.audit import anchor as audit_anchor
from custinfo.backup import service
from custinfo.config import Settings
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
    name = f"{make_url(url).database or 'custinfo'}_bak_{os.getpid()}_{uuid.uuid4().hex[:6]}"
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


@dataclass
class Live:
    """A running system's database and settings: backups, keys and the anchor file all under tmp."""

    engine: Engine
    settings: Settings


@pytest.fixture(params=["sqlite", "postgresql"])
def live(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Live]:
    """A migrated private database with its backup directory, backup key and anchor file in tmp."""
    with private_database(request.param, tmp_path) as engine:
        yield running(engine, tmp_path)


def running(engine: Engine, tmp_path: Path) -> Live:
    """The system over `engine`, with its backup directory, backup key and anchor file in tmp."""
    settings = Settings(
        environment="test",
        data_dir=tmp_path / "data",
        database_url=engine.url.render_as_string(hide_password=False),
        backup_dir=tmp_path / "backups",
        backup_key_file=tmp_path / "backup-key.json",
        audit_anchor_file=tmp_path / "anchor.jsonl",
    )
    service.configure(settings)
    audit_anchor.configure(settings)
    return Live(engine, settings)
