"""The tag taxonomy as data: categories, dimensions (mutually exclusive tags) and flags; seeded from defaults."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from custinfo import defaults as shipped
from custinfo.classification.models import RuleSetVersion, Tag, TagCategory
from custinfo.classification.rules import TagInfo
from custinfo.core.db import utcnow
from custinfo.core.errors import Conflict, FieldError, Invalid, NotFound

CODE_PATTERN = re.compile(r"^[a-z][a-z0-9_]{1,59}$")


@cache
def defaults(name: str) -> dict[str, Any]:
    """A shipped defaults file (taxonomy.json, rules.json) as data, read once."""
    return shipped.load(name)


def seed(connection: Connection) -> None:
    """Insert the default taxonomy and rule set version 1 where absent (idempotent)."""
    data = defaults("taxonomy.json")
    have = set(connection.scalars(select(TagCategory.code)))
    rows = [
        {"code": c["code"], "name_zh": c["name_zh"], "name_en": c["name_en"], "sort": n}
        for n, c in enumerate(data["categories"])
        if c["code"] not in have
    ]
    if rows:
        connection.execute(insert(TagCategory), rows)
    have = set(connection.scalars(select(Tag.code)))
    now = utcnow()
    rows = [
        {
            "code": t["code"],
            "category_code": t["category"],
            "dimension": t["dimension"],
            "source": t["source"],
            "name_zh": t["name_zh"],
            "name_en": t["name_en"],
            "description": t.get("description"),
            "sort": n,
            "active": True,
            "created_at": now,
            "created_by": "defaults",
        }
        for n, t in enumerate(data["tags"])
        if t["code"] not in have
    ]
    if rows:
        connection.execute(insert(Tag), rows)
    if connection.scalar(select(RuleSetVersion.id).limit(1)) is None:
        connection.execute(
            insert(RuleSetVersion),
            [
                {
                    "number": 1,
                    "definition": defaults("rules.json"),
                    "reason": "默认规则 / shipped defaults (REQUIREMENTS §2.1a)",
                    "author": "defaults",
                    "approved_by": "defaults",
                    "created_at": now,
                    "is_active": True,
                    "activated_at": now,
                }
            ],
        )


def categories(session: Session) -> list[TagCategory]:
    """Categories in display order."""
    return list(session.scalars(select(TagCategory).order_by(TagCategory.sort, TagCategory.id)))


@dataclass(frozen=True)
class Dimension:
    """A dimension (a set of mutually exclusive tags) and its names."""

    code: str
    category: str
    name_zh: str
    name_en: str


def dimensions(session: Session) -> list[Dimension]:
    """Every dimension that has tags, named as the shipped taxonomy names it, in its order."""
    named = {d["code"]: d for d in defaults("taxonomy.json")["dimensions"]}
    used: dict[str, str] = {}
    for code, category in session.execute(
        select(Tag.dimension, Tag.category_code).where(Tag.dimension.is_not(None))
    ):
        if code:
            used.setdefault(code, category)
    order = [*named, *sorted(c for c in used if c not in named)]
    return [
        Dimension(
            code,
            used[code],
            named.get(code, {}).get("name_zh", code),
            named.get(code, {}).get("name_en", code),
        )
        for code in order
        if code in used
    ]


def tags(session: Session, include_inactive: bool = False) -> list[Tag]:
    """Tags by category order, then tag order."""
    stmt = (
        select(Tag)
        .join(TagCategory, TagCategory.code == Tag.category_code)
        .order_by(TagCategory.sort, Tag.sort, Tag.id)
    )
    if not include_inactive:
        stmt = stmt.where(Tag.active.is_(True))
    return list(session.scalars(stmt))


def get_tag(session: Session, code: str) -> Tag:
    """One tag by code, or 404."""
    tag = session.scalar(select(Tag).where(Tag.code == code))
    if tag is None:
        raise NotFound("error.tag_not_found", code=code)
    return tag


def tag_index(session: Session) -> dict[str, TagInfo]:
    """Every tag as the rules see it."""
    rows = session.execute(select(Tag.code, Tag.dimension, Tag.source, Tag.name_zh, Tag.name_en))
    return {r.code: TagInfo(r.code, r.dimension, r.source, r.name_zh, r.name_en) for r in rows}


def create_tag(
    session: Session,
    category_code: str,
    code: str,
    name_zh: str,
    name_en: str,
    kind: str = "flag",
    description: str | None = None,
    source: str = "rule",
    author: str | None = None,
) -> Tag:
    """Add a tag; `kind` is "flag" or the code of the dimension it joins."""
    errors: list[FieldError] = []
    if not CODE_PATTERN.match(code or ""):
        errors.append(FieldError("code", "classification.code_pattern"))
    for field, value in (("name_zh", name_zh), ("name_en", name_en)):
        if not value or not value.strip() or len(value) > 100:
            errors.append(FieldError(field, "classification.text_length", {"min": 1, "max": 100}))
    if session.scalar(select(TagCategory.id).where(TagCategory.code == category_code)) is None:
        errors.append(FieldError("category", "classification.unknown_category", {"value": category_code}))
    if source not in ("rule", "manual"):
        errors.append(FieldError("source", "classification.choice", {"allowed": "rule, manual"}))
    dimension = None if kind == "flag" else kind
    if dimension is not None and not CODE_PATTERN.match(dimension):
        errors.append(FieldError("kind", "classification.code_pattern"))
    if errors:
        raise Invalid(errors)
    if session.scalar(select(Tag.id).where(Tag.code == code)) is not None:
        raise Conflict("error.duplicate", errors=[FieldError("code", "field.duplicate", {"value": code})])
    sort = (session.scalar(select(Tag.sort).order_by(Tag.sort.desc()).limit(1)) or 0) + 1
    tag = Tag(
        code=code,
        category_code=category_code,
        dimension=dimension,
        source=source,
        name_zh=name_zh.strip(),
        name_en=name_en.strip(),
        description=description,
        sort=sort,
        active=True,
        created_by=author,
    )
    session.add(tag)
    session.flush()
    return tag
