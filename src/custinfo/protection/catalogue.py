"""The field catalogue: each customer-related field's level and type, role × level visibility, masks.

The catalogue is configuration as data: version 1 is seeded from
`defaults/field_levels.json` by migration 0004, every admin change adds a new
version (author, time, reason), and the highest version is in force.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from custinfo import defaults as shipped
from custinfo.core.errors import FieldError
from custinfo.protection.models import FieldCatalogueVersion

LEVELS = ("L1", "L2", "L3")
STATES = ("clear", "masked", "hidden")
ENTITIES = ("customer", "contact", "need", "order", "contract", "interaction", "engagement")
# Types whose values cannot carry a mask string: a "masked" value of these is dropped instead.
UNMASKABLE_TYPES = frozenset({"money", "number", "flag"})
MAX_GRANT_DAYS = 90


@cache
def default_document() -> dict[str, Any]:
    """The shipped defaults (REQUIREMENTS §3.1)."""
    document = shipped.load("field_levels.json")
    document.pop("_comment", None)
    return document


@dataclass(frozen=True)
class Catalogue:
    """One version of the catalogue, with lookups the field view needs."""

    version: int
    document: dict[str, Any]

    def fields(self, entity: str) -> dict[str, dict[str, Any]]:
        """Catalogued fields of an entity: name → {level, type}."""
        fields: dict[str, dict[str, Any]] = self.document.get("fields", {}).get(entity, {})
        return fields

    def level(self, entity: str, name: str) -> str | None:
        """The level of a field, or None when it is not catalogued."""
        spec = self.fields(entity).get(name)
        return spec["level"] if spec else None

    def role(self, role: str) -> dict[str, Any]:
        """Visibility settings of a role; an unknown role sees nothing."""
        settings: dict[str, Any] = self.document.get("roles", {}).get(role) or {
            "levels": dict.fromkeys(LEVELS, "hidden")
        }
        return settings

    def state(self, role: str, entity: str, name: str, level: str) -> str:
        """clear / masked / hidden for a role: a per-field, then per-entity override, else by level."""
        settings = self.role(role)
        state = (
            settings.get("fields", {}).get(f"{entity}.{name}")
            or settings.get("entities", {}).get(entity)
            or settings.get("levels", {}).get(level, "hidden")
        )
        return str(state)

    def reveal_levels(self, role: str) -> frozenset[str]:
        """Levels whose masked values the role may reveal one at a time (each reveal is logged)."""
        return frozenset(self.role(role).get("reveal", ()))

    @property
    def masks(self) -> dict[str, dict[str, Any]]:
        """Masking rule per field type."""
        masks: dict[str, dict[str, Any]] = self.document.get("masks", {})
        return masks

    @property
    def grant_days(self) -> int:
        """Default lifetime of a grant, in days."""
        return int(self.document.get("grant_days", 7))


def current(session: Session) -> Catalogue:
    """The catalogue in force (the shipped defaults if none was stored)."""
    row = session.execute(
        select(FieldCatalogueVersion.version, FieldCatalogueVersion.document)
        .order_by(FieldCatalogueVersion.version.desc())
        .limit(1)
    ).first()
    if row is None:
        return Catalogue(0, default_document())
    return Catalogue(row.version, row.document)


def history(session: Session) -> list[FieldCatalogueVersion]:
    """Every stored version, newest first."""
    stmt = select(FieldCatalogueVersion).order_by(FieldCatalogueVersion.version.desc())
    return list(session.scalars(stmt))


def problems(document: Any) -> list[FieldError]:
    """Everything wrong with a catalogue document (empty when it is valid)."""
    if not isinstance(document, dict):
        return [FieldError("document", "catalogue.not_object")]
    errors: list[FieldError] = []
    fields = document.get("fields")
    if not isinstance(fields, dict):
        errors.append(FieldError("fields", "catalogue.not_object"))
    else:
        for entity, specs in fields.items():
            if entity not in ENTITIES or not isinstance(specs, dict):
                errors.append(FieldError(f"fields.{entity}", "catalogue.unknown_entity"))
                continue
            for name, spec in specs.items():
                if not isinstance(spec, dict) or spec.get("level") not in LEVELS:
                    errors.append(
                        FieldError(
                            f"fields.{entity}.{name}", "catalogue.level", {"allowed": ", ".join(LEVELS)}
                        )
                    )
    roles = document.get("roles")
    if not isinstance(roles, dict):
        errors.append(FieldError("roles", "catalogue.not_object"))
    else:
        for role, settings in roles.items():
            levels = settings.get("levels") if isinstance(settings, dict) else None
            if not isinstance(levels, dict) or set(levels) != set(LEVELS):
                errors.append(FieldError(f"roles.{role}.levels", "catalogue.levels_required"))
                continue
            overrides = [
                *levels.values(),
                *settings.get("entities", {}).values(),
                *settings.get("fields", {}).values(),
            ]
            if any(state not in STATES for state in overrides):
                errors.append(FieldError(f"roles.{role}", "catalogue.state", {"allowed": ", ".join(STATES)}))
            if any(level not in LEVELS for level in settings.get("reveal", ())):
                errors.append(
                    FieldError(f"roles.{role}.reveal", "catalogue.level", {"allowed": ", ".join(LEVELS)})
                )
    if not isinstance(document.get("masks", {}), dict):
        errors.append(FieldError("masks", "catalogue.not_object"))
    days = document.get("grant_days", 7)
    if not isinstance(days, int) or not 1 <= days <= MAX_GRANT_DAYS:
        errors.append(FieldError("grant_days", "integer.range", {"min": 1, "max": MAX_GRANT_DAYS}))
    return errors
