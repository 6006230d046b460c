"""Masking rules per field type: pure functions, configured by the catalogue's `masks` section.

A rule keeps `keep_first` and `keep_last` characters and fills the middle with
`fill` (`fill_width` characters, or as many as were hidden); `suffix` replaces
everything after `keep_first` (dates: 1990-**-**); `until` keeps an address up
to its district (区/县/旗, else 市); the email rule keeps the first characters
of the local part and the domain. A masked value never shows more than the
rule keeps, and at least one character is always hidden.
"""

from __future__ import annotations

from typing import Any

DEFAULT_RULE: dict[str, Any] = {"keep_first": 0, "keep_last": 0, "fill": "*", "fill_width": 3}


def _keep(value: str, first: int, last: int, fill: str, width: int | None) -> str:
    hideable = len(value) - 1  # always hide at least one character
    first = max(0, min(first, hideable))
    last = max(0, min(last, hideable - first))
    while True:
        hidden = len(value) - first - last
        middle = fill * (width if width is not None else hidden)
        masked = value[:first] + middle + (value[len(value) - last :] if last else "")
        # Where the hidden characters were the fill itself the mask would read as the value: keep less.
        if masked != value or first + last == 0:
            return masked
        if last:
            last -= 1
        else:
            first -= 1


def _address(value: str, markers: list[str], fill: str, width: int) -> str:
    for group in (markers[:-1], markers[-1:]):
        positions = [value.find(m) for m in group if m and value.find(m) >= 0]
        if positions:
            end = min(positions) + 1
            if end < len(value) and value[:end] + fill * width != value:
                return value[:end] + fill * width
    return fill * width


def _email(value: str, first: int, fill: str, width: int) -> str:
    local, at, domain = value.partition("@")
    if not at:
        return _keep(value, first, 0, fill, width)
    return _keep(local, first, 0, fill, width) + "@" + domain


def mask(value: Any, rule: dict[str, Any] | None) -> str | None:
    """The masked text of a value under a rule (None stays None)."""
    if value is None:
        return None
    text = value.isoformat() if hasattr(value, "isoformat") else str(value)
    if text == "":
        return ""
    rule = rule or DEFAULT_RULE
    fill = str(rule.get("fill", "*")) or "*"
    width = rule.get("fill_width")
    first = int(rule.get("keep_first", 0))
    if "until" in rule:
        return _address(text, list(rule["until"]), fill, int(width or 4))
    if rule.get("email"):
        return _email(text, first, fill, int(width or 3))
    if "suffix" in rule:
        masked = text[:first] + str(rule["suffix"])
        if len(text) <= first or masked == text:
            return fill * max(1, len(text))
        return masked
    return _keep(text, first, int(rule.get("keep_last", 0)), fill, None if width is None else int(width))


def mask_field(value: Any, field_type: str, masks: dict[str, dict[str, Any]]) -> str | None:
    """Mask a value by its field type's rule (email addresses keep their domain)."""
    rule = masks.get(field_type) or masks.get("text") or DEFAULT_RULE
    if field_type == "email":
        rule = {**rule, "email": True}
    return mask(value, rule)
