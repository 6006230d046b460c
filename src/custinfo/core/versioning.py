"""Optimistic locking: a `version` column checked on every UPDATE."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Mapped, declared_attr, mapped_column

from custinfo.core.errors import Conflict, FieldError, Invalid


class Versioned:
    """Adds `version`; SQLAlchemy refuses an UPDATE whose row changed meanwhile."""

    version: Mapped[int] = mapped_column(default=1)

    @declared_attr.directive
    def __mapper_args__(cls) -> dict[str, Any]:
        return {"version_id_col": cls.__table__.c.version}  # type: ignore[attr-defined]


def check_version(current: int, expected: int | None) -> None:
    """Refuse (422) a change that does not say which version it edits, and (409) one of an older version."""
    if expected is None:
        raise Invalid([FieldError("version", "field.required")])
    if expected != current:
        raise Conflict("error.stale_version", current=current, expected=expected)
