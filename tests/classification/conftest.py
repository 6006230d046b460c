"""Classification tests: no product lists cached from another test's rolled-back orders."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from custinfo.classification.engine import products


@pytest.fixture(autouse=True)
def _fresh_product_lists() -> Iterator[None]:
    products.forget()
    yield
    products.forget()
