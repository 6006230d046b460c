"""All SQL of product categories, in Core so that migration 0016 seeds with the very same code."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any, cast

from sqlalchemy import Table, func, insert, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from custinfo.classification.categories.models import (
    ProductCategory,
    ProductCategoryValue,
    ProductCategoryVersion,
)
from custinfo.classification.features import orders_table
from custinfo.classification.models import Tag
from custinfo.core.db import utcnow

DIMENSION = "product_preference"
TAG_CATEGORY = "preference"
NAME_MAX = 100

categories_t = cast(Table, ProductCategory.__table__)
values_t = cast(Table, ProductCategoryValue.__table__)
versions_t = cast(Table, ProductCategoryVersion.__table__)
tags_t = cast(Table, Tag.__table__)

Db = Session | Connection


@dataclass
class CategoryRow:
    """A category as lists and the engine see it: names, state, mapped raw values, orders counted."""

    id: int
    code: str
    name_zh: str
    name_en: str
    tag_code: str
    active: bool
    version: int
    values: list[str] = field(default_factory=list)
    orders: int = 0


def new_code() -> str:
    """A fresh category code (generated, never shown)."""
    return f"pc_{uuid.uuid4().hex[:12]}"


def tag_names(name_zh: str, name_en: str) -> tuple[str, str]:
    """The preference tag's labels for a category: 「偏好{类别}」 / "Prefers {category}"."""
    return f"偏好{name_zh}"[:NAME_MAX], f"Prefers {name_en}"[:NAME_MAX]


def rows(db: Db, with_orders: bool = False) -> list[CategoryRow]:
    """Every category (active first, then by name) with its raw values and, if asked, its order count."""
    found = {
        r.id: CategoryRow(r.id, r.code, r.name_zh, r.name_en, r.tag_code, r.active, r.version)
        for r in db.execute(select(categories_t))
    }
    for value, category_id in db.execute(
        select(values_t.c.value, values_t.c.category_id).order_by(values_t.c.value)
    ):
        found[category_id].values.append(value)
    if with_orders and found:
        counted = db.execute(
            select(values_t.c.category_id, func.count())
            .select_from(orders_table.join(values_t, values_t.c.value == orders_table.c.category))
            .group_by(values_t.c.category_id)
        )
        for category_id, n in counted:
            found[category_id].orders = int(n)
    return sorted(found.values(), key=lambda c: (not c.active, c.name_zh))


def unmapped_values(db: Db) -> list[tuple[str, int]]:
    """Raw order categories no category claims yet, with their order counts, most orders first."""
    n = func.count().label("n")
    stmt = (
        select(orders_table.c.category, n)
        .where(
            orders_table.c.category.is_not(None),
            orders_table.c.category != "",
            orders_table.c.category.not_in(select(values_t.c.value)),
        )
        .group_by(orders_table.c.category)
        .order_by(n.desc(), orders_table.c.category)
    )
    return [(value, int(count)) for value, count in db.execute(stmt)]


def current_version(db: Db) -> int:
    """The number of the vocabulary's newest version (0 before the first)."""
    return int(db.scalar(select(func.max(versions_t.c.number))) or 0)


def snapshot(db: Db) -> list[dict[str, Any]]:
    """The whole vocabulary as data (what a version keeps)."""
    return [
        {"code": c.code, "name_zh": c.name_zh, "name_en": c.name_en, "active": c.active, "values": c.values}
        for c in sorted(rows(db), key=lambda c: c.id)
    ]


def add_version(db: Db, change: str, author: str) -> int:
    """Keep the vocabulary as it now is as a new version; its number."""
    number = current_version(db) + 1
    db.execute(
        insert(versions_t),
        [
            {
                "number": number,
                "change": change,
                "snapshot": snapshot(db),
                "author": author,
                "created_at": utcnow(),
            }
        ],
    )
    return number


def versions(db: Db, limit: int = 20) -> list[Any]:
    """The newest versions, newest first."""
    return list(
        db.execute(
            select(versions_t.c.number, versions_t.c.change, versions_t.c.author, versions_t.c.created_at)
            .order_by(versions_t.c.number.desc())
            .limit(limit)
        )
    )


def category_named(db: Db, name_zh: str) -> Any:
    """The category with this Chinese name, if any."""
    return db.execute(select(categories_t).where(categories_t.c.name_zh == name_zh)).first()


def category_of_value(db: Db, value: str) -> int | None:
    """The id of the category a raw value is mapped to, if any."""
    return db.scalar(select(values_t.c.category_id).where(values_t.c.value == value))


def insert_category(db: Db, name_zh: str, name_en: str, author: str, tag_code: str | None = None) -> int:
    """A new category and (unless an existing tag is given) its preference tag; the new id."""
    code = new_code()
    now = utcnow()
    if tag_code is None:
        tag_code = f"prefers_{code}"
        label_zh, label_en = tag_names(name_zh, name_en)
        sort = (db.scalar(select(func.max(tags_t.c.sort))) or 0) + 1
        db.execute(
            insert(tags_t),
            [
                {
                    "code": tag_code,
                    "category_code": TAG_CATEGORY,
                    "dimension": DIMENSION,
                    "source": "rule",
                    "name_zh": label_zh,
                    "name_en": label_en,
                    "description": None,
                    "sort": sort,
                    "active": True,
                    "created_at": now,
                    "created_by": author,
                }
            ],
        )
    result = db.execute(
        insert(categories_t).returning(categories_t.c.id),
        [
            {
                "code": code,
                "name_zh": name_zh,
                "name_en": name_en,
                "tag_code": tag_code,
                "active": True,
                "version": 1,
                "created_at": now,
                "created_by": author,
            }
        ],
    )
    return int(result.scalar_one())


def map_value(db: Db, value: str, category_id: int) -> None:
    """Count a raw value as this category (moving it from another one if it was mapped)."""
    if category_of_value(db, value) is None:
        db.execute(insert(values_t), [{"value": value, "category_id": category_id}])
    else:
        db.execute(update(values_t).where(values_t.c.value == value).values(category_id=category_id))


def unmap_value(db: Db, value: str) -> None:
    """Leave a raw value unmapped."""
    db.execute(values_t.delete().where(values_t.c.value == value))


def legacy_tag(db: Db, name_zh: str) -> str | None:
    """An existing preference tag for this category's name that no category owns yet (installs before 0016)."""
    label, _ = tag_names(name_zh, name_zh)
    owned = select(categories_t.c.tag_code)
    return db.scalar(
        select(tags_t.c.code).where(
            tags_t.c.dimension == DIMENSION, tags_t.c.name_zh == label, tags_t.c.code.not_in(owned)
        )
    )


def seed_from_orders(db: Db, author: str) -> list[str]:
    """Give every unmapped raw order category a category (its own, or one of the same name); names created.

    A preference tag that already carries the name (「偏好传感器」 of installs before 0016) becomes the new
    category's tag, so its customers keep it. Writes one version when anything changed.
    """
    created: list[str] = []
    pending = unmapped_values(db)
    for value, _count in pending:
        name = value.strip()[:NAME_MAX]
        if not name:
            continue
        same = category_named(db, name)
        if same is not None:
            map_value(db, value, same.id)
            continue
        category_id = insert_category(db, name, name, author, legacy_tag(db, name))
        map_value(db, value, category_id)
        created.append(name)
    if pending:
        add_version(db, "seeded", author)
    return created


def set_category(db: Db, category_id: int, **values: Any) -> None:
    """Write a category's columns and bump its version."""
    db.execute(
        update(categories_t)
        .where(categories_t.c.id == category_id)
        .values(**values, version=categories_t.c.version + 1)
    )


def set_tag(db: Db, tag_code: str, **values: Any) -> None:
    """Write the preference tag's labels or state."""
    db.execute(update(tags_t).where(tags_t.c.code == tag_code).values(**values))


def preference_rules(db: Db) -> tuple[int, list[dict[str, Any]], frozenset[str]]:
    """(vocabulary version, one rule per active category with mapped values, every category's tag)."""
    found = rows(db)
    rules = [
        {
            "id": f"preference.{c.code}",
            "tag": c.tag_code,
            "when": {"feature": "dominant_category", "op": "in", "value": list(c.values)},
        }
        for c in sorted(found, key=lambda c: c.id)
        if c.active and c.values
    ]
    return current_version(db), rules, frozenset(c.tag_code for c in found)
