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
from custinfo.activity import models as activity_models
from custinfo.core.db import Base
from custinfo.core.errors import FieldError
from custinfo.customers import models as customer_models
from custinfo.protection.models import FieldCatalogueVersion
from custinfo.security.encrypted import encrypted_columns

LEVELS = ("L1", "L2", "L3")
STATES = ("clear", "masked", "hidden")
ENTITIES = ("customer", "contact", "need", "order", "contract", "interaction", "engagement")
# Types whose values cannot carry a mask string (the API gives them as numbers, dates, booleans):
# a "masked" value of these is dropped instead.
UNMASKABLE_TYPES = frozenset({"money", "number", "flag", "date"})
MAX_GRANT_DAYS = 90

# Where each entity's fields are stored: L3 means "encrypted at rest", so only a column whose ORM
# type encrypts it may be L3 (docs/decisions/0016-levels-and-encryption.md).
# The models of every catalogued entity, so their tables (and encrypted columns) are on Base.metadata.
CATALOGUED_MODELS = (customer_models, activity_models)
ENTITY_TABLES = {
    "customer": "customers",
    "contact": "contacts",
    "need": "need_entries",
    "order": "orders",
    "contract": "contracts",
    "interaction": "interactions",
    "engagement": "engagement_events",
}
# Why a field is kept in clear, and so cannot be raised to L3 (the reason shown with the refusal).
SEARCHED = frozenset(
    {
        "customer.name",
        "customer.nickname",
        "customer.mobile",
        "customer.email",
        "customer.credit_code",
        "customer.owner",
        "customer.department",
        "contact.name",
        "contact.mobile",
        "contact.email",
    }
)
CLASSIFYING_ENTITIES = frozenset({"need", "order", "contract", "interaction", "engagement"})
CLASSIFYING_CUSTOMER_FIELDS = frozenset(
    {
        "kind",
        "region",
        "industry",
        "employee_count",
        "revenue_band",
        "customer_type",
        "occupation",
        "gender",
        "source_channel",
        "purpose",
        "founded_on",
        "legal_representative",
    }
)


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


def encrypted_fields() -> frozenset[str]:
    """ "entity.field" of every catalogued field whose column is encrypted at rest."""
    by_table = {table: entity for entity, table in ENTITY_TABLES.items()}
    return frozenset(
        f"{by_table[table.name]}.{column.name}"
        for table, column in encrypted_columns(list(Base.metadata.sorted_tables))
        if table.name in by_table
    )


def l3_refusal(entity: str, name: str) -> str | None:
    """Why this field cannot be L3 (a rule key naming the reason), or None when it is encrypted at rest."""
    if f"{entity}.{name}" in encrypted_fields():
        return None
    if f"{entity}.{name}" in SEARCHED:
        return "catalogue.l3_refused.search"
    if entity in CLASSIFYING_ENTITIES or (entity == "customer" and name in CLASSIFYING_CUSTOMER_FIELDS):
        return "catalogue.l3_refused.classification"
    return "catalogue.l3_refused.clear_column"


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


ROLE_KEYS = frozenset({"levels", "entities", "fields", "reveal"})
DOCUMENT_KEYS = frozenset({"fields", "roles", "masks", "grant_days", "l3_lookups", "_comment"})
MASK_INTS = {"keep_first": (0, 64), "keep_last": (0, 64), "fill_width": (1, 32)}
MASK_TEXTS = {"fill": 4, "suffix": 16}


def problems(document: Any) -> list[FieldError]:
    """Everything wrong with a catalogue document (empty when it is valid).

    Beyond the shape, a document keeps what the screens rely on: every shipped field stays
    catalogued with its shipped type (a dropped field would pass in clear, a changed type would be
    formatted as what it is not), every shipped role keeps a setting, only shipped roles and
    known fields are named, and every masking rule has numbers and texts in bounds.
    """
    if not isinstance(document, dict):
        return [FieldError("document", "catalogue.not_object")]
    errors = [
        FieldError(str(key)[:40], "catalogue.unknown_key") for key in document if key not in DOCUMENT_KEYS
    ]
    errors += _field_problems(document.get("fields"))
    errors += _role_problems(document.get("roles"))
    errors += _mask_problems(document.get("masks", {}))
    days = document.get("grant_days", 7)
    if not isinstance(days, int) or isinstance(days, bool) or not 1 <= days <= MAX_GRANT_DAYS:
        errors.append(FieldError("grant_days", "integer.range", {"min": 1, "max": MAX_GRANT_DAYS}))
    errors += _lookup_limit_problems(document)
    return errors


def _lookup_limit_problems(document: Any) -> list[FieldError]:
    """The optional `l3_lookups` must be {"limit": 1–1000, "window_minutes": 1–1440} (whole numbers)."""
    if not isinstance(document, dict) or "l3_lookups" not in document:
        return []
    settings = document["l3_lookups"]
    bounds = {"limit": 1000, "window_minutes": 1440}
    if not isinstance(settings, dict) or set(settings) - set(bounds):
        return [FieldError("l3_lookups", "catalogue.not_object")]
    return [
        FieldError(f"l3_lookups.{key}", "integer.range", {"min": 1, "max": top})
        for key, top in bounds.items()
        if key in settings
        and not (
            isinstance(settings[key], int)
            and not isinstance(settings[key], bool)
            and 1 <= settings[key] <= top
        )
    ]


def _field_problems(fields: Any) -> list[FieldError]:
    if not isinstance(fields, dict):
        return [FieldError("fields", "catalogue.not_object")]
    shipped = default_document()["fields"]
    errors: list[FieldError] = []
    for entity, specs in fields.items():
        if entity not in shipped or not isinstance(specs, dict):
            errors.append(FieldError(f"fields.{str(entity)[:40]}", "catalogue.unknown_entity"))
            continue
        for name, spec in specs.items():
            where = f"fields.{entity}.{str(name)[:40]}"
            if name not in shipped[entity]:
                errors.append(FieldError(where, "catalogue.unknown_field"))
            elif (
                not isinstance(spec, dict) or set(spec) - {"level", "type"} or spec.get("level") not in LEVELS
            ):
                errors.append(FieldError(where, "catalogue.level", {"allowed": ", ".join(LEVELS)}))
            elif spec.get("type", shipped[entity][name]["type"]) != shipped[entity][name]["type"]:
                errors.append(
                    FieldError(where, "catalogue.type_fixed", {"type": shipped[entity][name]["type"]})
                )
            elif spec["level"] == "L3" and (refusal := l3_refusal(entity, name)) is not None:
                # L3 promises encryption at rest; a column stored in clear would only be masked.
                errors.append(FieldError(where, refusal))
    for entity, specs in shipped.items():
        given = fields.get(entity)
        present: dict[str, Any] = given if isinstance(given, dict) else {}
        errors += [
            FieldError(f"fields.{entity}.{name}", "catalogue.field_missing")
            for name in specs
            if name not in present
        ]
    return errors


def _role_problems(roles: Any) -> list[FieldError]:
    if not isinstance(roles, dict):
        return [FieldError("roles", "catalogue.not_object")]
    shipped = default_document()
    known_fields = {f"{e}.{n}" for e, specs in shipped["fields"].items() for n in specs}
    errors: list[FieldError] = []
    for role, settings in roles.items():
        where = f"roles.{str(role)[:40]}"
        if role not in shipped["roles"]:
            errors.append(FieldError(where, "catalogue.unknown_role"))
            continue
        if not isinstance(settings, dict) or set(settings) - ROLE_KEYS:
            errors.append(FieldError(where, "catalogue.not_object"))
            continue
        levels = settings.get("levels")
        if not isinstance(levels, dict) or set(levels) != set(LEVELS):
            errors.append(FieldError(f"{where}.levels", "catalogue.levels_required"))
            continue
        entities, named = settings.get("entities", {}), settings.get("fields", {})
        reveal = settings.get("reveal", [])
        if not isinstance(entities, dict) or not isinstance(named, dict) or not isinstance(reveal, list):
            errors.append(FieldError(where, "catalogue.not_object"))
            continue
        errors += [
            FieldError(f"{where}.entities.{str(e)[:40]}", "catalogue.unknown_entity")
            for e in entities
            if e not in ENTITIES
        ]
        errors += [
            FieldError(f"{where}.fields.{str(f)[:60]}", "catalogue.unknown_field")
            for f in named
            if f not in known_fields
        ]
        if any(state not in STATES for state in [*levels.values(), *entities.values(), *named.values()]):
            errors.append(FieldError(where, "catalogue.state", {"allowed": ", ".join(STATES)}))
        if any(level not in LEVELS for level in reveal):
            errors.append(FieldError(f"{where}.reveal", "catalogue.level", {"allowed": ", ".join(LEVELS)}))
    errors += [
        FieldError(f"roles.{role}", "catalogue.role_missing")
        for role in shipped["roles"]
        if role not in roles
    ]
    return errors


def _mask_problems(masks: Any) -> list[FieldError]:
    if not isinstance(masks, dict):
        return [FieldError("masks", "catalogue.not_object")]
    types = {spec["type"] for specs in default_document()["fields"].values() for spec in specs.values()} | {
        "text"
    }
    errors: list[FieldError] = []
    for kind, rule in masks.items():
        where = f"masks.{str(kind)[:40]}"
        if kind not in types or not isinstance(rule, dict):
            errors.append(FieldError(where, "catalogue.unknown_mask"))
            continue
        for key, value in rule.items():
            if key in MASK_INTS:
                low, high = MASK_INTS[key]
                if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
                    errors.append(FieldError(f"{where}.{key}", "integer.range", {"min": low, "max": high}))
            elif key in MASK_TEXTS:
                if not isinstance(value, str) or not 1 <= len(value) <= MASK_TEXTS[key]:
                    errors.append(
                        FieldError(f"{where}.{key}", "catalogue.mask_text", {"max": MASK_TEXTS[key]})
                    )
            elif key == "until":
                if (
                    not isinstance(value, list)
                    or not value
                    or not all(isinstance(v, str) and v for v in value)
                ):
                    errors.append(FieldError(f"{where}.until", "catalogue.mask_text", {"max": 4}))
            else:
                errors.append(FieldError(f"{where}.{str(key)[:40]}", "catalogue.unknown_key"))
    return errors
