"""Cells that a spreadsheet program will show as text, never run as a formula (CSV and xlsx writers use it)."""

from __future__ import annotations

from typing import Any

# A cell starting with one of these is a formula (or becomes one) in Excel, WPS and LibreOffice.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    """A text cell that would start a formula gets a leading apostrophe; other values pass unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value
