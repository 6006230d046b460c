"""Domain errors; one handler (app.py) renders them as problem details or HTML."""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field as dataclass_field
from typing import Any, ClassVar


@dataclass(frozen=True)
class FieldError:
    """One rejected field: which field, which rule, parameters for the message."""

    field: str
    rule: str
    params: dict[str, Any] = dataclass_field(default_factory=dict)


class DomainError(Exception):
    """Base of every error a service raises on purpose."""

    status: ClassVar[int] = 400
    title_key: ClassVar[str] = "error.bad_request"

    def __init__(self, detail_key: str = "", **params: Any) -> None:
        super().__init__(detail_key)
        self.detail_key = detail_key
        self.params = params
        self.keeps_writes = False

    def keeping_writes(self) -> DomainError:
        """This error, marked so the unit of work commits what was written before it (a failed sign-in)."""
        self.keeps_writes = True
        return self


class NotFound(DomainError):
    """Absent, or outside the caller's record scope (deliberately indistinguishable)."""

    status = 404
    title_key = "error.not_found"


class MethodNotAllowed(DomainError):
    """The path exists but not for this HTTP method."""

    status = 405
    title_key = "error.method_not_allowed"


class Conflict(DomainError):
    """Duplicate identifier or stale version."""

    status = 409
    title_key = "error.conflict"

    def __init__(self, detail_key: str = "", errors: list[FieldError] | None = None, **params: Any) -> None:
        super().__init__(detail_key, **params)
        self.errors = errors or []


class UniqueTaken(Conflict):
    """A unique value that a concurrent transaction saved first (the database's unique index refused it)."""

    def __init__(self) -> None:
        super().__init__("error.unique_concurrent")


class NotPermitted(DomainError):
    """The caller is known but may not do this."""

    status = 403
    title_key = "error.forbidden"


class RateLimited(DomainError):
    """The caller did this too often within the window; they may try again later."""

    status = 429
    title_key = "error.rate_limited"


class Unauthenticated(DomainError):
    """No valid session or token."""

    status = 401
    title_key = "error.unauthenticated"


class Invalid(DomainError):
    """Input failed validation; carries every field error at once."""

    status = 422
    title_key = "error.invalid"

    def __init__(self, errors: list[FieldError], detail_key: str = "error.invalid_detail") -> None:
        super().__init__(detail_key)
        self.errors = errors
