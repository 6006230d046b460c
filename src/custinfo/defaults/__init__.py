"""The shipped defaults (taxonomy, rules, vocabularies, field levels, governance settings), read one way.

They seed the database; from then on the database copy is the configuration and
is edited (and versioned) there.
"""

from __future__ import annotations

import json
from importlib import resources
from typing import Any


def load(name: str) -> dict[str, Any]:
    """One shipped defaults file (e.g. "rules.json") as data."""
    text = resources.files(__name__).joinpath(name).read_text(encoding="utf-8")
    data: dict[str, Any] = json.loads(text)
    return data
