"""Taxonomy, versioned rule sets, tag assignments (with their validity span) and classification runs."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from custinfo.core.db import Base, BigId, utcnow
from custinfo.core.types import UTCDateTime


class TagCategory(Base):
    """A category of the taxonomy (基础信息, 行为特征, 需求偏好, 客户价值, 合作阶段, 风险)."""

    __tablename__ = "tag_categories"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name_zh: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str] = mapped_column(String(100))
    sort: Mapped[int] = mapped_column(Integer, default=0)


class Tag(Base):
    """A tag; tags sharing a `dimension` are mutually exclusive, a tag without one is a flag."""

    __tablename__ = "tags"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    code: Mapped[str] = mapped_column(String(60), unique=True)
    category_code: Mapped[str] = mapped_column(ForeignKey("tag_categories.code"))
    dimension: Mapped[str | None] = mapped_column(String(40), index=True)
    source: Mapped[str] = mapped_column(String(10), default="rule")  # rule | manual
    name_zh: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str] = mapped_column(String(100))
    description: Mapped[str | None] = mapped_column(Text)
    sort: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[str | None] = mapped_column(String(64))


class RuleSetVersion(Base):
    """One version of the rule set: the whole definition, who wrote and approved it, and why."""

    __tablename__ = "rule_set_versions"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    number: Mapped[int] = mapped_column(Integer, unique=True)
    definition: Mapped[dict[str, Any]] = mapped_column(JSON)
    reason: Mapped[str] = mapped_column(Text)
    author: Mapped[str] = mapped_column(String(64))
    approved_by: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    is_active: Mapped[bool] = mapped_column(Boolean, default=False)
    activated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    based_on_id: Mapped[int | None] = mapped_column(BigId)


class TagAssignment(Base):
    """A tag on a customer for a span of time; closed (valid_to set), never overwritten."""

    __tablename__ = "tag_assignments"
    __table_args__ = (
        Index("ix_tag_assignments_customer_id_valid_to", "customer_id", "valid_to"),
        Index("ix_tag_assignments_tag_code_valid_from", "tag_code", "valid_from"),
        Index(
            "ix_tag_assignments_open",
            "customer_id",
            "tag_code",
            unique=True,
            sqlite_where=text("valid_to IS NULL"),
            postgresql_where=text("valid_to IS NULL"),
        ),
        Index(
            "ix_tag_assignments_closed_run_id",
            "closed_run_id",
            sqlite_where=text("closed_run_id IS NOT NULL"),
            postgresql_where=text("closed_run_id IS NOT NULL"),
        ),
        # valid_to (always NULL here) makes it covering: SQLite counts and lists a tag's open rows from
        # the index alone only if every column the query names is in it
        Index(
            "ix_tag_assignments_open_tag",
            "tag_code",
            "customer_id",
            "valid_to",
            sqlite_where=text("valid_to IS NULL"),
            postgresql_where=text("valid_to IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    # no foreign key: classification deletes a deleted customer's rows itself (decision 0011)
    customer_id: Mapped[int] = mapped_column(BigId)
    tag_code: Mapped[str] = mapped_column(String(60))
    source: Mapped[str] = mapped_column(String(10))  # rule | manual
    rule_id: Mapped[str | None] = mapped_column(String(80))
    rule_set_version_id: Mapped[int | None] = mapped_column(BigId)
    features: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    as_of: Mapped[date | None] = mapped_column(Date)
    valid_from: Mapped[datetime] = mapped_column(UTCDateTime)
    valid_to: Mapped[datetime | None] = mapped_column(UTCDateTime)
    assigned_by: Mapped[str] = mapped_column(String(64))
    run_id: Mapped[int | None] = mapped_column(BigId)  # no index: a run counts what it wrote as it writes
    closed_by: Mapped[str | None] = mapped_column(String(64))
    closed_run_id: Mapped[int | None] = mapped_column(BigId)
    reason: Mapped[str | None] = mapped_column(Text)


class ClassificationState(Base):
    """Per customer, what the last run derived: the signature of its rule tags and its classification code.

    A full run compares the signature (version + matched rule per slot) with the new evaluation and
    diffs assignments only for customers whose signature changed, so a re-run over unchanged data
    writes (and scans) almost nothing. The code (level-1 × level-2 label) lives here, beside its two
    halves, rather than in the wide customers row: classification owns what it derives.
    """

    __tablename__ = "classification_states"

    customer_id: Mapped[int] = mapped_column(BigId, primary_key=True)  # no foreign key: see TagAssignment
    signature: Mapped[str] = mapped_column(String(400))
    run_id: Mapped[int | None] = mapped_column(BigId)
    code: Mapped[str | None] = mapped_column(String(300), index=True)  # the customer list filters on it
    level1: Mapped[str | None] = mapped_column(String(300))
    level2: Mapped[str | None] = mapped_column(String(300))
    # The latest evaluation's figures (every feature column any rule keeps, as of `as_of`), so a tag a
    # later run confirmed is explained with what that run saw; `figures` is their fingerprint without
    # the day counts (those advance daily by themselves: a new day alone is not a new evaluation).
    features: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    figures: Mapped[str | None] = mapped_column(Text)
    as_of: Mapped[date | None] = mapped_column(Date)


class ClassificationEvaluation(Base):
    """An earlier evaluation of a customer: the figures a run saw before a later run replaced them.

    Written set-based by the runs when they replace a customer's latest figures in
    `classification_states`; the tag explanation lists them as its history.
    """

    __tablename__ = "classification_evaluations"
    __table_args__ = (Index("ix_classification_evaluations_customer_id_as_of", "customer_id", "as_of"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    customer_id: Mapped[int] = mapped_column(BigId)  # no foreign key: see TagAssignment
    run_id: Mapped[int | None] = mapped_column(BigId)
    as_of: Mapped[date | None] = mapped_column(Date)
    features: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class ClassificationRun(Base):
    """A full or incremental run: when, why, how long, counts per tag before/after, who moved."""

    __tablename__ = "classification_runs"
    __table_args__ = (Index("ix_classification_runs_mode_id", "mode", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    mode: Mapped[str] = mapped_column(String(12))  # full | incremental
    trigger: Mapped[str] = mapped_column(String(20))  # manual | schedule | cli | event | rules | demo
    as_of: Mapped[date] = mapped_column(Date)
    rule_set_version_id: Mapped[int] = mapped_column(BigId)
    customer_id: Mapped[int | None] = mapped_column(BigId)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    duration_ms: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(10), default="running")  # running | done
    customers: Mapped[int] = mapped_column(Integer, default=0)
    added: Mapped[int] = mapped_column(Integer, default=0)
    removed: Mapped[int] = mapped_column(Integer, default=0)
    moved: Mapped[int] = mapped_column(Integer, default=0)
    counts_before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    counts_after: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    moves_sample: Mapped[list[Any] | None] = mapped_column(JSON)
    actor: Mapped[str] = mapped_column(String(64))
