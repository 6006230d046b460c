"""All SQL of the tag quality review: corrections, reviews, and the per-tag figures over a window.

Each figure is one grouped query over the assignment history, so the report costs
the same few queries for ten tags or a hundred.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, func, or_, select, true
from sqlalchemy.orm import Session

from custinfo.auth.policy import ALL_RECORDS_ROLES, Principal, customer_scope
from custinfo.classification.governance.models import QualityReview, TagCorrection, TagUsage
from custinfo.classification.models import ClassificationRun, Tag, TagAssignment
from custinfo.customers.models import Customer

# --- corrections ------------------------------------------------------------------------------------


def is_active_tag(session: Session, code: str) -> bool:
    """Whether an active tag of the taxonomy has this code."""
    return session.scalar(select(Tag.id).where(Tag.code == code, Tag.active.is_(True)).limit(1)) is not None


def open_correction_id(session: Session, customer_id: int, tag_code: str) -> int | None:
    """Id of the open correction of this tag on this customer, if there is one."""
    return session.scalar(
        select(TagCorrection.id).where(
            TagCorrection.customer_id == customer_id,
            TagCorrection.tag_code == tag_code,
            TagCorrection.status == "open",
        )
    )


def corrections(
    session: Session, visible: ColumnElement[bool], status: str | None, customer_id: int | None, limit: int
) -> list[TagCorrection]:
    """Corrections newest first among the visible ones, narrowed by status and customer when given."""
    stmt = select(TagCorrection).where(visible)
    if status:
        stmt = stmt.where(TagCorrection.status == status)
    if customer_id is not None:
        stmt = stmt.where(TagCorrection.customer_id == customer_id)
    return list(session.scalars(stmt.order_by(TagCorrection.id.desc()).limit(limit)))


def get_correction(session: Session, correction_id: int) -> TagCorrection | None:
    """One correction by id, or None."""
    return session.get(TagCorrection, correction_id)


# --- reviews ----------------------------------------------------------------------------------------


def last_review_day(session: Session) -> date | None:
    """The day of the latest completed quality review."""
    return session.scalar(select(func.max(QualityReview.reviewed_on)))


def first_assignment_day(session: Session) -> date | None:
    """The day the first tag was ever assigned."""
    first = session.scalar(select(func.min(TagAssignment.valid_from)))
    return first.date() if isinstance(first, datetime) else first


def reviews(session: Session, limit: int) -> list[QualityReview]:
    """The latest completed quality reviews."""
    return list(session.scalars(select(QualityReview).order_by(QualityReview.id.desc()).limit(limit)))


# --- figures ----------------------------------------------------------------------------------------


def _of_scope(column: Any, principal: Principal) -> ColumnElement[bool]:
    """SQL: `column` (a customer id) is of a customer in the principal's scope (no filter for all records)."""
    if principal.role in ALL_RECORDS_ROLES:
        return true()
    return column.in_(select(Customer.id).where(customer_scope(principal)))


def _held_at(end: datetime) -> ColumnElement[bool]:
    """Assignments still open at `end`."""
    return TagAssignment.valid_to.is_(None) | (TagAssignment.valid_to > end)


def sizes(session: Session, principal: Principal, end: datetime) -> dict[str, int]:
    """Customers in scope carrying each tag at `end`."""
    a = TagAssignment
    stmt = (
        select(a.tag_code, func.count())
        .where(a.valid_from < end, _held_at(end), _of_scope(a.customer_id, principal))
        .group_by(a.tag_code)
    )
    return {code: int(n) for code, n in session.execute(stmt)}


def entered(session: Session, principal: Principal, start: datetime, end: datetime) -> dict[str, int]:
    """Assignments of customers in scope opened per tag in [start, end), leaving out the first full run's baseline."""
    a = TagAssignment
    # The first full run tags everybody at once; that is the baseline, not churn.
    baseline_run = (
        select(func.min(ClassificationRun.id)).where(ClassificationRun.mode == "full").scalar_subquery()
    )
    not_baseline = a.run_id.is_(None) | (a.run_id != func.coalesce(baseline_run, -1))
    stmt = (
        select(a.tag_code, func.count())
        .where(a.valid_from >= start, a.valid_from < end, not_baseline, _of_scope(a.customer_id, principal))
        .group_by(a.tag_code)
    )
    return {code: int(n) for code, n in session.execute(stmt)}


def left(session: Session, principal: Principal, start: datetime, end: datetime) -> dict[str, int]:
    """Assignments of customers in scope closed per tag in [start, end)."""
    a = TagAssignment
    stmt = (
        select(a.tag_code, func.count())
        .where(
            a.valid_to.is_not(None),
            a.valid_to >= start,
            a.valid_to < end,
            _of_scope(a.customer_id, principal),
        )
        .group_by(a.tag_code)
    )
    return {code: int(n) for code, n in session.execute(stmt)}


def usage(session: Session, start: datetime, end: datetime) -> dict[str, dict[str, int]]:
    """Uses per tag and kind (filter, segment, export) in [start, end)."""
    counts: dict[str, dict[str, int]] = {}
    for code, kind, n in session.execute(
        select(TagUsage.tag_code, TagUsage.kind, func.count())
        .where(TagUsage.occurred_at >= start, TagUsage.occurred_at < end)
        .group_by(TagUsage.tag_code, TagUsage.kind)
    ):
        counts.setdefault(code, {})[kind] = int(n)
    return counts


def corrections_by_status(
    session: Session, visible: ColumnElement[bool], start: datetime, end: datetime
) -> dict[str, dict[str, int]]:
    """Visible corrections per tag and status: every open one, and those reported in [start, end)."""
    counts: dict[str, dict[str, int]] = {}
    for code, status, n in session.execute(
        select(TagCorrection.tag_code, TagCorrection.status, func.count())
        .where(
            visible,
            or_(
                TagCorrection.status == "open",
                and_(TagCorrection.reported_at >= start, TagCorrection.reported_at < end),
            ),
        )
        .group_by(TagCorrection.tag_code, TagCorrection.status)
    ):
        counts.setdefault(code, {})[status] = int(n)
    return counts


def correction_counts(session: Session) -> dict[str, int]:
    """Every correction per status (no customer, no reporter: counts only)."""
    rows = session.execute(select(TagCorrection.status, func.count()).group_by(TagCorrection.status))
    return {status: int(n) for status, n in rows}


def customer_count(session: Session, principal: Principal) -> int:
    """Every customer in scope (the population of a flag tag)."""
    return int(session.scalar(select(func.count(Customer.id)).where(customer_scope(principal))) or 0)


def dimension_populations(session: Session, principal: Principal, end: datetime) -> dict[Any, int]:
    """Customers in scope classified at `end` in each dimension at all (e.g. individuals for the individual lifecycle)."""
    a = TagAssignment
    stmt = (
        select(Tag.dimension, func.count(func.distinct(a.customer_id)))
        .join(Tag, Tag.code == a.tag_code)
        .where(
            Tag.dimension.is_not(None), a.valid_from < end, _held_at(end), _of_scope(a.customer_id, principal)
        )
        .group_by(Tag.dimension)
    )
    return {dimension: int(n) for dimension, n in session.execute(stmt)}
