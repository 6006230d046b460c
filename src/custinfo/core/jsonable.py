"""Plain JSON values from Python ones: the one conversion used for history, audit details and results."""

from __future__ import annotations

import dataclasses
from datetime import date
from decimal import Decimal
from typing import Any


def jsonable(value: Any, *, decimals_as_numbers: bool = False) -> Any:
    """A JSON-ready copy: dataclasses and models as objects, dates ISO, decimals exact strings.

    `decimals_as_numbers` gives whole decimals as ints and others as floats instead (feature
    snapshots, which rules compare as numbers).
    """
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {
            f.name: jsonable(getattr(value, f.name), decimals_as_numbers=decimals_as_numbers)
            for f in dataclasses.fields(value)
        }
    if hasattr(value, "model_dump"):
        return jsonable(value.model_dump(mode="json"), decimals_as_numbers=decimals_as_numbers)
    if isinstance(value, dict):
        return {str(k): jsonable(v, decimals_as_numbers=decimals_as_numbers) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [jsonable(v, decimals_as_numbers=decimals_as_numbers) for v in value]
    if isinstance(value, Decimal):
        if decimals_as_numbers:
            return int(value) if value == value.to_integral_value() else float(value)
        return f"{value:.2f}"
    if isinstance(value, date):  # datetime too
        return value.isoformat()
    return value
