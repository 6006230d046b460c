"""Private databases for tests that commit (rotation, byte-level scans, the audit CLI)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from tests.databases import private_database


@pytest.fixture(params=["sqlite", "postgresql"])
def own_engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """A freshly migrated database of its own: a SQLite file, or a new PostgreSQL database (dropped after)."""
    with private_database(request.param, tmp_path) as engine:
        yield engine
