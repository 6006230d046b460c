"""Rendering errors as RFC 9457 problem details, in the caller's language."""

from __future__ import annotations

from typing import Any

from custinfo.core.errors import Conflict, DomainError, FieldError, Invalid
from custinfo.core.i18n import translate

# Pydantic error types → our rule keys, so request-shape errors read like every other rule.
PYDANTIC_RULES = {
    "missing": "field.required",
    "extra_forbidden": "field.unknown",
    "int_parsing": "integer.format",
    "int_type": "integer.format",
    "bool_parsing": "boolean.format",
    "bool_type": "boolean.format",
    "literal_error": "vocabulary.unknown",
    "string_type": "text.format",
    "json_invalid": "request.json",
    "model_attributes_type": "request.json",
    "dict_type": "request.json",
}


def field_errors_of(error: DomainError) -> list[FieldError]:
    """The field errors an error carries (Invalid and Conflict do)."""
    if isinstance(error, Invalid | Conflict):
        return error.errors
    return []


def render_field_error(error: FieldError, language: str) -> dict[str, Any]:
    """One field error as {field, rule, message}, the message naming field and rule."""
    label = translate(f"field.{error.field}", language)
    message = translate(f"rule.{error.rule}", language, **error.params)
    return {"field": error.field, "rule": error.rule, "message": f"{label}: {message}"}


def problem(error: DomainError, language: str) -> dict[str, Any]:
    """Problem-details body for a domain error."""
    body: dict[str, Any] = {
        "type": f"about:blank#{error.title_key.removeprefix('error.')}",
        "title": translate(error.title_key, language),
        "status": error.status,
        "detail": translate(error.detail_key, language, **error.params) if error.detail_key else "",
    }
    errors = field_errors_of(error)
    if errors:
        body["errors"] = [render_field_error(e, language) for e in errors]
    return body


# Where a value failed, Pydantic also names the branch of a union it tried ("quantity.int");
# those tags are not fields and would only confuse the person reading the error.
_UNION_TAGS = frozenset(
    {"int", "str", "float", "bool", "list", "dict", "none", "decimal", "date", "datetime"}
)


def _is_location_noise(part: object) -> bool:
    text = str(part)
    return text in ("body", "query", "path", "form") or text in _UNION_TAGS or "[" in text or "-" in text


def from_pydantic(errors: list[Any]) -> Invalid:
    """Turn FastAPI/Pydantic request-validation errors into an Invalid with rule keys."""
    field_errors = []
    for err in errors:
        loc = [str(part) for part in err.get("loc", ()) if not _is_location_noise(part)]
        field = ".".join(loc) or "body"
        field_errors.append(FieldError(field, PYDANTIC_RULES.get(err.get("type", ""), "field.invalid")))
    return Invalid(field_errors)
