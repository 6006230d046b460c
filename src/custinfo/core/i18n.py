"""Message catalogues (zh_CN, en): flat keys, one JSON file per namespace."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

LANGUAGES = ("zh_CN", "en")
CATALOGUE_DIR = Path(__file__).resolve().parent.parent / "web" / "i18n"


@cache
def catalogue(language: str) -> dict[str, str]:
    """All messages of one language, merged from every namespace file."""
    messages: dict[str, str] = {}
    for path in sorted((CATALOGUE_DIR / language).glob("*.json")):
        messages.update(json.loads(path.read_text(encoding="utf-8")))
    return messages


def pick_language(requested: str | None, default: str = "zh_CN") -> str:
    """Map a cookie/query/Accept-Language value to a supported language."""
    if requested:
        for part in requested.split(","):
            tag = part.split(";")[0].strip().replace("-", "_").lower()
            if tag.startswith("zh"):
                return "zh_CN"
            if tag.startswith("en"):
                return "en"
    return default


def translate(key: str, language: str, **params: Any) -> str:
    """The message for `key`, falling back to zh_CN, then to the key itself."""
    text = catalogue(language).get(key) or catalogue("zh_CN").get(key) or key
    if params:
        try:
            return text.format(**params)
        except (KeyError, IndexError, ValueError):
            return text
    return text
