"""Pydantic in/out shapes of `/product-categories`."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class CategoryIn(BaseModel):
    """A new category: its names and the raw order categories it counts (optional)."""

    model_config = ConfigDict(extra="forbid")

    name_zh: str = Field(max_length=200, examples=["传感器"])
    name_en: str | None = Field(None, max_length=200, examples=["Sensors"], description="Default: name_zh")
    values: list[str] = Field(
        default_factory=list,
        max_length=500,
        description="Raw `category` values of the orders",
        examples=[["传感器"]],
    )


class CategoryChange(BaseModel):
    """Rename a category or set the raw values it counts (taken from other categories); only keys sent change."""

    model_config = ConfigDict(extra="forbid")

    version: int | None = None
    name_zh: str | None = Field(None, max_length=200)
    name_en: str | None = Field(None, max_length=200)
    values: list[str] | None = Field(None, max_length=500)


class VersionIn(BaseModel):
    """The version of the category you read."""

    model_config = ConfigDict(extra="forbid")

    version: int | None = None


class CategoryOut(BaseModel):
    """A category: names, state, the raw values mapped to it, orders counted, its preference tag."""

    id: int
    name_zh: str
    name_en: str
    active: bool
    values: list[str]
    orders: int = Field(description="Orders whose category is one of `values`")
    tag: str = Field(description="Code of the preference tag (use it with /customers?tag=)")
    version: int


class UnmappedOut(BaseModel):
    """A raw order category that no category counts yet."""

    value: str
    orders: int


class VocabularyOut(BaseModel):
    """Every category, the raw values not mapped yet, and the vocabulary's version."""

    items: list[CategoryOut]
    unmapped: list[UnmappedOut]
    version: int


class SeedOut(BaseModel):
    """The categories a seed created (Chinese names) and the vocabulary's version after it."""

    created: list[str]
    version: int
