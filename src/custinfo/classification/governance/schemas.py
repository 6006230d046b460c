"""API shapes of proposals, corrections and the tag quality report."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from custinfo.classification.tag_quality.schemas import TagQualityOut


class ProposalIn(BaseModel):
    """A new proposal: what kind, the change itself (`payload`) and why."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["new_tag", "rule_change", "manual_tag", "reactivate"]
    reason: str = Field(min_length=1, max_length=2000)
    title: str | None = Field(default=None, max_length=200)
    payload: dict[str, Any] = Field(
        description=(
            "new_tag: {code, category, name_zh, name_en, dimension?}; rule_change: {definition, as_of?}; "
            "manual_tag: {customer_id, tag_code, add}; reactivate: {version}"
        )
    )


class ReviseIn(BaseModel):
    """A revised proposal sent back for review; omitted fields keep their value."""

    model_config = ConfigDict(extra="forbid")

    payload: dict[str, Any] | None = None
    reason: str | None = Field(default=None, max_length=2000)
    comment: str | None = Field(default=None, max_length=2000)


class DecisionIn(BaseModel):
    """A reviewer's comment on a decision (required to reject or to ask for changes)."""

    model_config = ConfigDict(extra="forbid")

    comment: str | None = Field(default=None, max_length=2000)


class StepOut(BaseModel):
    """One recorded step of a proposal."""

    model_config = ConfigDict(from_attributes=True)

    action: str
    actor: str
    actor_role: str | None
    comment: str | None
    revision: int
    occurred_at: datetime


class ProposalOut(BaseModel):
    """A proposal with its stored impact preview and every step."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    kind: str
    status: str
    title: str
    reason: str
    payload: dict[str, Any]
    impact: dict[str, Any] | None
    customer_id: int | None
    revision: int
    proposed_by: str
    created_at: datetime
    decided_by: str | None
    decided_at: datetime | None
    result: dict[str, Any] | None
    steps: list[StepOut]


class ProposalPage(BaseModel):
    """A page of proposals."""

    items: list[ProposalOut]
    page: int
    size: int
    total: int


class CorrectionIn(BaseModel):
    """Why the tag on this customer is wrong."""

    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=1, max_length=2000)


class ResolveIn(BaseModel):
    """A steward's resolution: accepted (with outcome) or rejected (with a note)."""

    model_config = ConfigDict(extra="forbid")

    decision: Literal["accepted", "rejected"]
    outcome: Literal["manual_removal", "rule_fix"] | None = None
    note: str | None = Field(default=None, max_length=2000)


class CorrectionOut(BaseModel):
    """A reported wrong tag and its resolution."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    customer_id: int
    tag_code: str
    reason: str
    status: str
    reported_by: str
    reported_at: datetime
    resolved_by: str | None
    resolved_at: datetime | None
    outcome: str | None
    resolution_note: str | None
    proposal_id: int | None


class ReminderOut(BaseModel):
    """The periodic review reminder."""

    model_config = ConfigDict(from_attributes=True)

    last_reviewed_on: date | None
    next_due_on: date
    cadence_days: int
    state: str
    days_left: int


class QualityOut(BaseModel):
    """The tag quality report."""

    as_of: date
    window_start: date
    tags: list[TagQualityOut]
    anomalies: list[dict[str, str]]
    reminder: ReminderOut


class GovernanceSettingsOut(BaseModel):
    """The governance settings in force (configuration as data; admins change them)."""

    reviewer_roles: list[str] = Field(description="Roles besides dept_head that review proposals")
    quality_review_cadence_days: int = Field(description="Days between two tag quality reviews")
    quality_review_due_soon_days: int = Field(description="Days before the due date the reminder shows")
    churn_window_days: int = Field(description="Window over which tag churn is measured, in days")
    anomaly_swallow_share: float = Field(description="Share of customers in one tag that is an anomaly")
    anomaly_flip_share: float = Field(
        description="Share of a tag's members changing in a window that is an anomaly"
    )


class DimensionOut(BaseModel):
    """A dimension of the taxonomy by code and name."""

    code: str
    name_zh: str
    name_en: str


class ClassificationCodeOut(BaseModel):
    """The dimensions forming the classification code in the active rule set."""

    level1: list[DimensionOut]
    level2: list[DimensionOut]
    separator: str
    rule_set_version: int
    dimensions: list[DimensionOut] = Field(description="Every dimension that may be chosen")


class ClassificationCodeIn(BaseModel):
    """New code dimensions (codes of dimensions, in order) and why; applied after approval."""

    model_config = ConfigDict(extra="forbid")

    level1: list[str] = Field(max_length=10)
    level2: list[str] = Field(max_length=10)
    separator: str = Field("-", max_length=3)
    reason: str = Field(max_length=2000)
