"""Tables of tag governance and tag quality: proposals and their steps, corrections, usage, reviews."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Date, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from custinfo.core.db import Base, BigId, utcnow
from custinfo.core.types import UTCDateTime

PROPOSAL_KINDS = ("new_tag", "rule_change", "manual_tag", "reactivate")
PROPOSAL_STATUSES = ("pending", "changes_requested", "approved", "rejected")
STEP_ACTIONS = ("proposed", "revised", "commented", "approved", "rejected", "changes_requested")
CORRECTION_STATUSES = ("open", "accepted", "rejected")
CORRECTION_OUTCOMES = ("manual_removal", "rule_fix")
USAGE_KINDS = ("filter", "segment", "export")


class GovernanceSetting(Base):
    """One governance/quality setting (reviewer roles, review cadence, anomaly limits) as data."""

    __tablename__ = "governance_settings"

    key: Mapped[str] = mapped_column(String(60), primary_key=True)
    value: Mapped[Any] = mapped_column(JSON, nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    updated_by: Mapped[str | None] = mapped_column(String(64))


class Proposal(Base):
    """A proposed change (new tag, rule set, manual tag, re-activation) waiting for or past review."""

    __tablename__ = "tag_proposals"
    __table_args__ = (Index("ix_tag_proposals_status_id", "status", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20), default="pending")
    title: Mapped[str] = mapped_column(String(200))
    reason: Mapped[str] = mapped_column(Text)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    impact: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    customer_id: Mapped[int | None] = mapped_column(BigInteger, index=True)
    revision: Mapped[int] = mapped_column(Integer, default=1)
    proposed_by: Mapped[str] = mapped_column(String(64))
    proposed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    decided_by: Mapped[str | None] = mapped_column(String(64))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)

    steps: Mapped[list[ProposalStep]] = relationship(
        back_populates="proposal", order_by="ProposalStep.id", lazy="selectin"
    )


class ProposalStep(Base):
    """One step of a proposal's life: proposed, revised, commented, approved, rejected, changes requested."""

    __tablename__ = "tag_proposal_steps"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("tag_proposals.id", ondelete="CASCADE"), index=True)
    action: Mapped[str] = mapped_column(String(20))
    actor: Mapped[str] = mapped_column(String(64))
    actor_role: Mapped[str | None] = mapped_column(String(20))
    comment: Mapped[str | None] = mapped_column(Text)
    revision: Mapped[int] = mapped_column(Integer, default=1)
    snapshot: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    proposal: Mapped[Proposal] = relationship(back_populates="steps")


class TagCorrection(Base):
    """A user's report that a tag on a customer is wrong, and the steward's resolution."""

    __tablename__ = "tag_corrections"
    __table_args__ = (Index("ix_tag_corrections_tag_code_status", "tag_code", "status"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    customer_id: Mapped[int] = mapped_column(BigInteger, index=True)
    tag_code: Mapped[str] = mapped_column(String(60))
    reason: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20), default="open")
    reported_by: Mapped[str] = mapped_column(String(64))
    reported_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    resolved_by: Mapped[str | None] = mapped_column(String(64))
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    outcome: Mapped[str | None] = mapped_column(String(20))
    resolution_note: Mapped[str | None] = mapped_column(Text)
    proposal_id: Mapped[int | None] = mapped_column(ForeignKey("tag_proposals.id"))


class TagUsage(Base):
    """A use of a tag (a list filtered by it, a segment or an export built on it)."""

    __tablename__ = "tag_usage_events"
    __table_args__ = (Index("ix_tag_usage_events_tag_code_occurred_at", "tag_code", "occurred_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tag_code: Mapped[str] = mapped_column(String(60))
    kind: Mapped[str] = mapped_column(String(20))
    actor: Mapped[str] = mapped_column(String(64))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class QualityReview(Base):
    """A completed periodic tag quality review; the next one is due a configured cadence later."""

    __tablename__ = "tag_quality_reviews"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    reviewed_on: Mapped[date] = mapped_column(Date)
    reviewer: Mapped[str] = mapped_column(String(64))
    notes: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
