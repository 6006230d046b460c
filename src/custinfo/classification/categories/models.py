"""The product category vocabulary: categories, the raw order values mapped to them, and its versions."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from custinfo.core.db import Base, BigId, utcnow
from custinfo.core.types import UTCDateTime


class ProductCategory(Base):
    """A category of the company's products; its preference tag is `tag_code` (「偏好{name_zh}」)."""

    __tablename__ = "product_categories"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)  # generated, stable, never shown
    name_zh: Mapped[str] = mapped_column(String(100), unique=True)
    name_en: Mapped[str] = mapped_column(String(100))
    tag_code: Mapped[str] = mapped_column(ForeignKey("tags.code"), unique=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    version: Mapped[int] = mapped_column(default=1, server_default="1")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[str | None] = mapped_column(String(64))


class ProductCategoryValue(Base):
    """A raw `category` value of the orders and the category it counts as."""

    __tablename__ = "product_category_values"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    value: Mapped[str] = mapped_column(String(100), unique=True)
    category_id: Mapped[int] = mapped_column(ForeignKey("product_categories.id"), index=True)


class ProductCategoryVersion(Base):
    """One version of the vocabulary: the whole of it after a change, what changed and who changed it."""

    __tablename__ = "product_category_versions"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    number: Mapped[int] = mapped_column(Integer, unique=True)
    change: Mapped[str] = mapped_column(String(40))  # created | updated | retired | reactivated | seeded
    snapshot: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    author: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
