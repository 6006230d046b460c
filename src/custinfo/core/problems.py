"""Rendering errors as RFC 9457 problem details, in the caller's language."""

from __future__ import annotations

from http import HTTPStatus
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
    "date_type": "date.format",
    "date_parsing": "date.format",
    "date_from_datetime_parsing": "date.format",
    "date_from_datetime_inexact": "date.format",
    "datetime_type": "datetime.format",
    "datetime_parsing": "datetime.format",
    "datetime_from_date_parsing": "datetime.format",
    "date_range": "date.range",
    "string_too_long": "text.too_long",
    "string_too_short": "field.required",
    "string_pattern_mismatch": "field.invalid",
    "finite_number": "number.finite",
    "float_parsing": "number.format",
    "float_type": "number.format",
    "decimal_parsing": "number.format",
    "decimal_type": "number.format",
}
# Pydantic's range errors carry one bound; the message names the whole range where it is known.
RANGE_ERRORS = frozenset({"greater_than_equal", "less_than_equal", "greater_than", "less_than"})

# The body of every error response, as the OpenAPI document describes it.
PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "type": "object",
    "description": "RFC 9457 problem details, in the caller's language",
    "required": ["type", "title", "status"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["field", "rule", "message"],
                "properties": {
                    "field": {"type": "string"},
                    "rule": {"type": "string"},
                    "message": {"type": "string"},
                },
            },
        },
    },
}


class ServerFault(DomainError):
    """An unexpected failure: the client learns only that it happened, never what it held."""

    status = 500
    title_key = "error.server"

    def __init__(self) -> None:
        super().__init__("error.server_detail")


class Unparsable(DomainError):
    """A body that cannot be read as the content type it claims (400, like DomainError itself)."""

    def __init__(self) -> None:
        super().__init__("error.unparsable_detail")


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


def status_problem(status: int, language: str) -> dict[str, Any]:
    """Problem details for an HTTP status the framework raised (not a domain error)."""
    if status == 400:
        return problem(Unparsable(), language)
    phrase = HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else "Error"
    return {"type": "about:blank", "title": phrase, "status": status, "detail": ""}


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
        kind = err.get("type", "")
        field = "body" if kind == "json_invalid" else ".".join(loc) or "body"
        context = err.get("ctx") or {}
        if kind in RANGE_ERRORS:
            bound = next(iter(context.values()), "")
            low = kind.startswith("greater")
            params = {"min": bound if low else "…", "max": "…" if low else bound}
            field_errors.append(FieldError(field, "integer.range", params))
        elif kind == "date_range":
            field_errors.append(
                FieldError(field, "date.range", {k: context.get(k, "") for k in ("min", "max")})
            )
        elif kind == "string_too_long":
            field_errors.append(FieldError(field, "text.too_long", {"max": context.get("max_length", "")}))
        else:
            field_errors.append(FieldError(field, PYDANTIC_RULES.get(kind, "field.invalid")))
    return Invalid(field_errors)
