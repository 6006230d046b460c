"""Declarative field specs and one validator that collects every field error at once.

Each domain lists its fields (`FieldSpec`) with a parser; the validator trims
and NFKC-normalises text, applies parsers, checks required fields and kinds,
and raises `Invalid` with all problems, so nothing is ever half-saved.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from custinfo.core.errors import FieldError, Invalid

Parser = Callable[[Any], Any]


class RuleViolation(Exception):
    """Raised by a parser: which rule failed, and the parameters for its message."""

    def __init__(self, rule: str, **params: Any) -> None:
        super().__init__(rule)
        self.rule = rule
        self.params = params


@dataclass(frozen=True)
class FieldSpec:
    """A field: its parser, which kinds have it, and for which kinds it is required."""

    name: str
    parse: Parser
    kinds: frozenset[str] | None = None  # None: every kind
    required_for: frozenset[str] = frozenset()
    level: str = "L1"  # sensitivity level (一般 L1 / 重要 L2 / 敏感 L3); the field catalogue can override
    # False: set by other systems through the API (external_id), shown read-only, never a form input
    # (a form's blank would erase it)
    in_forms: bool = True


# C0 and C1 controls and DEL; tab, newline and carriage return only where a text may span lines.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_CONTROL_SINGLE_LINE = re.compile("[\x00-\x1f\x7f-\x9f]")
_SURROGATE = re.compile("[\ud800-\udfff]")
SIGNED_64 = (-(2**63), 2**63 - 1)


def text_problem(value: str, multiline: bool = False) -> str | None:
    """The edge rule `value` breaks (a lone surrogate or a control character), or None when it is clean."""
    if _SURROGATE.search(value):
        return "text.encoding"
    if (_CONTROL if multiline else _CONTROL_SINGLE_LINE).search(value):
        return "text.control"
    return None


def _invisible(char: str) -> bool:
    # Format characters (zero-width spaces and joiners, bidi overrides, BOM) render as nothing.
    return unicodedata.category(char) == "Cf"


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not normalise_input(value))


def normalise_input(value: Any) -> Any:
    """NFKC (full-width → half-width), drop invisible format characters, trim and collapse blanks."""
    if isinstance(value, str):
        visible = "".join(c for c in unicodedata.normalize("NFKC", value) if not _invisible(c))
        return " ".join(visible.split())
    return value


def validate(
    specs: Iterable[FieldSpec],
    values: Mapping[str, Any],
    kind: str = "*",
    partial: bool = False,
    ignore: Iterable[str] = (),
) -> dict[str, Any]:
    """Parse `values` against `specs`; return the cleaned dict or raise Invalid with every error."""
    by_name = {spec.name: spec for spec in specs}
    ignored = set(ignore)
    errors: list[FieldError] = []
    cleaned: dict[str, Any] = {}
    for name, raw in values.items():
        if name in ignored:
            continue
        spec = by_name.get(name)
        if spec is None:
            errors.append(FieldError(name, "field.unknown"))
            continue
        if spec.kinds is not None and kind not in spec.kinds:
            if not _blank(raw):
                errors.append(FieldError(name, "field.not_for_kind", {"kind": kind}))
            continue
        if _blank(raw):
            if kind in spec.required_for:
                errors.append(FieldError(name, "field.required"))
            else:
                cleaned[name] = None
            continue
        try:
            cleaned[name] = spec.parse(normalise_input(raw))
        except RuleViolation as violation:
            errors.append(FieldError(name, violation.rule, violation.params))
    if not partial:
        for spec in by_name.values():
            if kind in spec.required_for and spec.name not in values:
                errors.append(FieldError(spec.name, "field.required"))
    if errors:
        raise Invalid(errors)
    return cleaned


def text(max_length: int) -> Parser:
    """A free-text parser with a maximum length."""

    def parse(value: Any) -> str:
        value = str(value)
        if len(value) > max_length:
            raise RuleViolation("text.too_long", max=max_length)
        return value

    return parse


def integer(minimum: int, maximum: int) -> Parser:
    """A whole-number parser with an inclusive range."""

    def parse(value: Any) -> int:
        if isinstance(value, bool):
            raise RuleViolation("integer.format")
        try:
            number = int(str(value).replace(",", ""))
        except ValueError:
            raise RuleViolation("integer.format") from None
        if not minimum <= number <= maximum:
            raise RuleViolation("integer.range", min=minimum, max=maximum)
        return number

    return parse


_EXTERNAL_ID = re.compile(r"[!-~]{1,100}")


def external_id(value: Any) -> str:
    """Another system's id of a record: 1–100 visible ASCII characters, no spaces (unique per kind)."""
    text_value = str(value)
    if not _EXTERNAL_ID.fullmatch(text_value):
        raise RuleViolation("external_id.format", max=100)
    return text_value


def boolean(value: Any) -> bool:
    """A yes/no parser accepting JSON booleans and form values."""
    if isinstance(value, bool):
        return value
    lowered = str(value).strip().lower()
    if lowered in {"true", "1", "yes", "on", "是"}:
        return True
    if lowered in {"false", "0", "no", "off", "否"}:
        return False
    raise RuleViolation("boolean.format")
