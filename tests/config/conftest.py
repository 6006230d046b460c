"""The vocabularies are cached per process: each test here leaves the shipped ones installed."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from custinfo.customers.vocabulary import forget_installed_vocabularies


@pytest.fixture(autouse=True)
def shipped_vocabularies() -> Iterator[None]:
    """Forget what a test installed (its edits were rolled back with its transaction)."""
    yield
    forget_installed_vocabularies()
