"""The running system for backup tests: a private database (they commit, snapshot and restore), settings in tmp."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from tests.databases import private_database

from custinfo.audit import anchor as audit_anchor
from custinfo.backup import service
from custinfo.config import Settings


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
