"""Use-cases of the product category vocabulary: list, create, rename and map raw values, retire, seed.

The steward (and admin) edit it; everyone who reads classification may look at it. Each change is one
version of the vocabulary and one audit entry. Classification reads the vocabulary through
`with_preference_rules`: one preference rule per active category, evaluated in SQL like any other.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from custinfo.auth.policy import Permission, Principal, can, require
from custinfo.classification.categories import repository
from custinfo.classification.categories.events import ProductCategoryChanged
from custinfo.classification.categories.repository import NAME_MAX, CategoryRow
from custinfo.core.errors import Conflict, FieldError, Invalid, NotFound
from custinfo.core.uow import record
from custinfo.core.versioning import check_version

MAX_VALUES = 200


@dataclass(frozen=True)
class Vocabulary:
    """The vocabulary as a page shows it: categories, raw values nobody claims yet, its version."""

    categories: list[CategoryRow]
    unmapped: list[tuple[str, int]]
    version: int
    can_manage: bool


def can_manage(principal: Principal) -> bool:
    """Whether the principal may change the vocabulary."""
    return can(principal, Permission.PRODUCT_CATEGORY_MANAGE)


def vocabulary(session: Session, principal: Principal) -> Vocabulary:
    """Every category with its raw values and order counts, and the unmapped raw values."""
    require(principal, Permission.CLASSIFICATION_READ)
    return Vocabulary(
        repository.rows(session, with_orders=True),
        repository.unmapped_values(session),
        repository.current_version(session),
        can_manage(principal),
    )


def get(session: Session, principal: Principal, category_id: int) -> CategoryRow:
    """One category, or 404."""
    require(principal, Permission.CLASSIFICATION_READ)
    for row in repository.rows(session, with_orders=True):
        if row.id == category_id:
            return row
    raise NotFound("error.product_category_not_found")


def _name(field: str, raw: Any, errors: list[FieldError]) -> str:
    text = raw.strip() if isinstance(raw, str) else ""
    if not text:
        errors.append(FieldError(field, "field.required"))
    elif len(text) > NAME_MAX:
        errors.append(FieldError(field, "product_category.text_length", {"max": NAME_MAX}))
    return text


def _values(raw: Any, errors: list[FieldError]) -> list[str]:
    if raw is None:
        return []
    if not isinstance(raw, list) or not all(isinstance(v, str) for v in raw):
        errors.append(FieldError("values", "product_category.values"))
        return []
    cleaned = list(dict.fromkeys(v.strip() for v in raw if v.strip()))
    if len(cleaned) > MAX_VALUES or any(len(v) > NAME_MAX for v in cleaned):
        errors.append(FieldError("values", "product_category.values_length", {"max": MAX_VALUES}))
    return cleaned


def _unique_name(session: Session, name_zh: str, category_id: int | None) -> None:
    same = repository.category_named(session, name_zh)
    if same is not None and same.id != category_id:
        raise Conflict(
            "error.duplicate",
            errors=[FieldError("name_zh", "product_category.duplicate", {"value": name_zh})],
        )


def create(session: Session, principal: Principal, data: dict[str, Any]) -> CategoryRow:
    """Add a category (with its preference tag) and map the given raw values to it."""
    require(principal, Permission.PRODUCT_CATEGORY_MANAGE)
    errors: list[FieldError] = []
    name_zh = _name("name_zh", data.get("name_zh"), errors)
    name_en = _name("name_en", data.get("name_en") or name_zh, errors) if name_zh else ""
    values = _values(data.get("values"), errors)
    if errors:
        raise Invalid(errors)
    _unique_name(session, name_zh, None)
    category_id = repository.insert_category(session, name_zh, name_en, principal.username)
    for value in values:
        repository.map_value(session, value, category_id)
    number = repository.add_version(session, "created", principal.username)
    record(
        session,
        ProductCategoryChanged(
            "created",
            name_zh,
            number,
            {"name_zh": [None, name_zh], "name_en": [None, name_en], "values": [None, values]},
        ),
    )
    session.expire_all()
    return get(session, principal, category_id)


def update(
    session: Session, principal: Principal, category_id: int, version: int | None, data: dict[str, Any]
) -> CategoryRow:
    """Rename a category and/or set the raw values it counts (taking them from other categories)."""
    require(principal, Permission.PRODUCT_CATEGORY_MANAGE)
    found = get(session, principal, category_id)
    check_version(found.version, version)
    errors: list[FieldError] = []
    name_zh = _name("name_zh", data["name_zh"], errors) if "name_zh" in data else found.name_zh
    name_en = _name("name_en", data["name_en"], errors) if "name_en" in data else found.name_en
    values = _values(data["values"], errors) if "values" in data else found.values
    if errors:
        raise Invalid(errors)
    _unique_name(session, name_zh, category_id)
    changes: dict[str, list[Any]] = {}
    if name_zh != found.name_zh:
        changes["name_zh"] = [found.name_zh, name_zh]
    if name_en != found.name_en:
        changes["name_en"] = [found.name_en, name_en]
    if sorted(values) != sorted(found.values):
        changes["values"] = [found.values, sorted(values)]
    if not changes:
        return found
    for value in set(found.values) - set(values):
        repository.unmap_value(session, value)
    for value in values:
        repository.map_value(session, value, category_id)
    repository.set_category(session, category_id, name_zh=name_zh, name_en=name_en)
    label_zh, label_en = repository.tag_names(name_zh, name_en)
    repository.set_tag(session, found.tag_code, name_zh=label_zh, name_en=label_en)
    number = repository.add_version(session, "updated", principal.username)
    record(session, ProductCategoryChanged("updated", name_zh, number, changes))
    session.expire_all()
    return get(session, principal, category_id)


def map_value(
    session: Session,
    principal: Principal,
    category_id: int | None,
    value: str,
    vocabulary_version: int | None,
) -> CategoryRow:
    """Count one raw order category as this category (from wherever it was); `vocabulary_version` as read."""
    require(principal, Permission.PRODUCT_CATEGORY_MANAGE)
    check_version(repository.current_version(session), vocabulary_version)
    text = value.strip() if isinstance(value, str) else ""
    if category_id is None:
        raise Invalid([FieldError("category", "field.required")])
    found = get(session, principal, category_id)
    if not text:
        raise Invalid([FieldError("value", "field.required")])
    if not found.active:
        raise Invalid([FieldError("category", "product_category.retired")])
    return update(session, principal, category_id, found.version, {"values": [*found.values, text]})


def retire(session: Session, principal: Principal, category_id: int, version: int | None) -> CategoryRow:
    """Retire a category: its preference tag is no longer given (the next run ends it, with its reason)."""
    require(principal, Permission.PRODUCT_CATEGORY_MANAGE)
    found = get(session, principal, category_id)
    check_version(found.version, version)
    if not found.active:
        raise Conflict("error.product_category_retired")
    repository.set_category(session, category_id, active=False)
    repository.set_tag(session, found.tag_code, active=False)
    number = repository.add_version(session, "retired", principal.username)
    record(session, ProductCategoryChanged("retired", found.name_zh, number, {"active": [True, False]}))
    session.expire_all()
    return get(session, principal, category_id)


def seed(session: Session, principal: Principal | None) -> list[str]:
    """Add a category for every raw order category no category claims; the names created (None: the system)."""
    if principal is not None:
        require(principal, Permission.PRODUCT_CATEGORY_MANAGE)
    author = principal.username if principal else "system"
    if not repository.unmapped_values(session):
        return []
    created = repository.seed_from_orders(session, author)
    number = repository.current_version(session)
    record(session, ProductCategoryChanged("seeded", "", number, {"created": [None, created]}))
    session.expire_all()
    return created


def with_preference_rules(session: Session, definition: dict[str, Any]) -> dict[str, Any]:
    """The definition with one preference rule per active category, in place of rules for category tags.

    A category's tag is given from the vocabulary alone: a hand-written rule for it (the six demo rules of
    installs before 0016) is superseded, so a merge or a retirement takes effect in the next run.
    """
    number, generated, owned = repository.preference_rules(session)
    if not owned:
        return definition
    filled = copy.copy(definition)
    filled["rules"] = [r for r in definition.get("rules", []) if r.get("tag") not in owned] + generated
    filled["parameters"] = {**definition.get("parameters", {}), "product_categories_version": number}
    return filled


def explainable_rules(session: Session, rules: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Stored rules plus today's preference rules, so a tag a category gave is explained in words."""
    _number, generated, owned = repository.preference_rules(session)
    if not generated:
        return rules
    ids = {r.get("id") for r in rules}
    kept = [r for r in rules if r.get("tag") not in owned]
    return kept + [g for g in generated if g["id"] not in ids] + [r for r in rules if r.get("tag") in owned]
