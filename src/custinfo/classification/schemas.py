"""Pydantic shapes of the classification API (input and output classes are separate)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from custinfo.core.types import AsOfDate


class TagOut(BaseModel):
    """A tag of the taxonomy."""

    model_config = ConfigDict(from_attributes=True)

    code: str
    category_code: str
    dimension: str | None = Field(description="Tags sharing a dimension are mutually exclusive; null = flag")
    source: str = Field(description="rule (computed) or manual (reviewed decision)")
    name_zh: str
    name_en: str
    description: str | None


class MembersOut(BaseModel):
    """Customers carrying a tag."""

    tag: str
    as_of: date | None
    total: int
    items: list[dict[str, Any]]
    counts_only: bool = False  # the caller sees the whole base's number, not the customers (marketing)


class VersionOut(BaseModel):
    """A rule-set version."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    number: int
    definition: dict[str, Any]
    reason: str
    author: str
    approved_by: str | None
    created_at: datetime
    is_active: bool
    activated_at: datetime | None
    based_on_id: int | None


class VersionSummaryOut(BaseModel):
    """A rule-set version without its definition."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    number: int
    reason: str
    author: str
    approved_by: str | None
    created_at: datetime
    is_active: bool


class ChangeOut(BaseModel):
    """One difference between two versions."""

    model_config = ConfigDict(from_attributes=True)

    kind: str
    key: str
    before: Any
    after: Any


class PreviewIn(BaseModel):
    """A candidate definition to preview (nothing is written)."""

    model_config = ConfigDict(extra="forbid")

    definition: dict[str, Any]
    as_of: AsOfDate | None = None


class TagImpactOut(BaseModel):
    """How one tag's membership would change."""

    model_config = ConfigDict(from_attributes=True)

    tag: str
    name_zh: str
    name_en: str
    current: int
    new: int
    entering: int
    leaving: int
    entering_sample: list[dict[str, Any]]
    leaving_sample: list[dict[str, Any]]


class ImpactOut(BaseModel):
    """The impact preview."""

    as_of: date
    customers: int
    tags: list[TagImpactOut]


class RunIn(BaseModel):
    """Start a full run."""

    model_config = ConfigDict(extra="forbid")

    as_of: AsOfDate | None = None


class RunOut(BaseModel):
    """A classification run, its figures of the caller's scope (`scoped`: counted among those customers only).

    For a caller who does not see every customer a full run has no counts before/after; its detail
    gives the tags opened and closed among the customers in scope (`added_by_tag`, `removed_by_tag`).
    """

    model_config = ConfigDict(from_attributes=True)

    id: int
    mode: str
    trigger: str
    as_of: date
    rule_set_version_id: int
    customer_id: int | None
    started_at: datetime
    finished_at: datetime | None
    duration_ms: int | None
    status: str
    customers: int | None
    added: int | None
    removed: int | None
    moved: int | None
    counts_before: dict[str, Any] | None
    counts_after: dict[str, Any] | None
    moves_sample: list[Any] | None
    actor: str
    scoped: bool = False
    added_by_tag: dict[str, int] | None = None
    removed_by_tag: dict[str, int] | None = None


class RunPage(BaseModel):
    """A page of runs."""

    items: list[RunOut]
    total: int


class EvaluationOut(BaseModel):
    """An earlier evaluation of a tag: the figures it saw, as of when, and the reason they gave."""

    model_config = ConfigDict(from_attributes=True)

    as_of: date | None
    features: dict[str, Any]
    explanation: str


class AssignmentOut(BaseModel):
    """A tag on a customer, with why."""

    model_config = ConfigDict(from_attributes=True)

    tag: str
    name_zh: str
    name_en: str
    category: str
    dimension: str | None
    source: str
    rule_id: str | None
    rule_set_version: int | None
    features: dict[str, Any] | None
    as_of: date | None
    valid_from: datetime
    valid_to: datetime | None
    assigned_by: str
    reason: str | None
    explanation: str
    evaluated_as_of: date | None = None
    history: list[EvaluationOut] = []


class ReportCellOut(BaseModel):
    """Customers in one level-1 × level-2 cell."""

    model_config = ConfigDict(from_attributes=True)

    level1: str
    level2: str
    customers: int
