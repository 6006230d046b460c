"""Tag quality review: size, coverage, churn, usage and error rate per tag; anomalies; review reminder.

Figures are computed set-based (one grouped query per measure over the
assignment history), so the page costs the same few queries for ten tags or a
hundred. Windows and limits come from the governance settings (configuration
as data): `churn_window_days` (default one quarter), `anomaly_swallow_share`,
`anomaly_flip_share`, `quality_review_cadence_days`, `quality_review_due_soon_days`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy.orm import Session

from custinfo.auth.policies import corrections as correction_policy
from custinfo.auth.policy import Permission, Principal, can, require
from custinfo.classification import service as classification
from custinfo.classification.governance import service as governance
from custinfo.classification.governance.models import (
    CORRECTION_OUTCOMES,
    CORRECTION_STATUSES,
    USAGE_KINDS,
    QualityReview,
    TagCorrection,
)
from custinfo.classification.tag_quality import repository
from custinfo.classification.tag_quality.schemas import TagQualityOut
from custinfo.core import clock
from custinfo.core.db import utcnow
from custinfo.core.errors import Conflict, FieldError, Invalid, NotFound, NotPermitted
from custinfo.customers import service as customers


@dataclass
class ReviewReminder:
    """When the periodic quality review was last done and when the next is due."""

    last_reviewed_on: date | None
    next_due_on: date
    cadence_days: int
    state: str  # ok | due_soon | due | overdue
    days_left: int


@dataclass
class QualityReport:
    """The quality page: one row per tag, the anomaly list, the review reminder."""

    as_of: date
    window_start: date
    tags: list[TagQualityOut]
    anomalies: list[tuple[TagQualityOut, str]]
    reminder: ReviewReminder


# --- usage ------------------------------------------------------------------------------------------


# --- corrections ------------------------------------------------------------------------------------


def report_correction(
    session: Session, principal: Principal, customer_id: int, tag_code: str, reason: str
) -> TagCorrection:
    """A user marks a tag on a customer as wrong, with a reason; a steward resolves it later."""
    require(principal, Permission.TAG_CORRECT)
    customers.ensure_visible(session, principal, customer_id)  # out of scope → 404
    reason = governance._text(reason, "reason")
    if not repository.is_active_tag(session, tag_code):
        raise NotFound("error.tag_not_found", code=tag_code)
    duplicate = repository.open_correction_id(session, customer_id, tag_code)
    if duplicate is not None:
        raise Conflict("correction.already_open", id=duplicate)
    correction = TagCorrection(
        customer_id=customer_id,
        tag_code=tag_code,
        reason=reason,
        status="open",
        reported_by=principal.username,
        reported_at=utcnow(),
    )
    session.add(correction)
    session.flush()
    return correction


def list_corrections(
    session: Session,
    principal: Principal,
    status: str | None = None,
    customer_id: int | None = None,
    limit: int = 200,
) -> list[TagCorrection]:
    """Corrections newest first; stewards and quality readers see all, others only their own reports."""
    if status and status not in CORRECTION_STATUSES:
        raise Invalid(
            [FieldError("status", "vocabulary.unknown", {"allowed": ", ".join(CORRECTION_STATUSES)})]
        )
    if not correction_policy.sees_every_correction(principal):
        require(principal, Permission.TAG_CORRECT)
    visible = correction_policy.visible_corrections(principal)
    return repository.corrections(session, visible, status, customer_id, limit)


def may_list_corrections(principal: Principal) -> bool:
    """Whether the principal may see the correction list (its own reports at least)."""
    return correction_policy.sees_every_correction(principal) or can(principal, Permission.TAG_CORRECT)


def correction_counts(session: Session, principal: Principal) -> dict[str, int]:
    """Corrections of the whole base per status: counts only, for a role that sees no customer (marketing)."""
    require(principal, Permission.CLASSIFICATION_COUNTS_ALL)
    return repository.correction_counts(session)


def may_resolve(principal: Principal) -> bool:
    """Whether the principal decides tag corrections (the buttons and the decision use this rule)."""
    return correction_policy.may_decide(principal)


def resolve_correction(
    session: Session,
    principal: Principal,
    correction_id: int,
    decision: str,
    note: str | None = None,
    outcome: str | None = None,
) -> TagCorrection:
    """Accept or reject a correction (steward).

    Accepted with outcome `manual_removal` (manual tags only) opens a proposal to
    remove the tag from the customer, reviewed like any other; outcome `rule_fix`
    keeps the note for the next rule change.
    """
    if not may_resolve(principal):
        raise NotPermitted("error.permission", permission=Permission.CORRECTION_RESOLVE)
    correction = repository.get_correction(session, correction_id)
    if correction is None:
        raise NotFound("error.correction_not_found", id=correction_id)
    if correction.status != "open":
        raise Conflict("correction.closed", status=correction.status)
    if decision not in ("accepted", "rejected"):
        raise Invalid([FieldError("decision", "vocabulary.unknown", {"allowed": "accepted, rejected"})])
    note = governance._text(note, "note", required=decision == "rejected" or outcome == "rule_fix")
    if decision == "accepted":
        if outcome not in CORRECTION_OUTCOMES:
            raise Invalid(
                [FieldError("outcome", "vocabulary.unknown", {"allowed": ", ".join(CORRECTION_OUTCOMES)})]
            )
        if outcome == "manual_removal":
            if correction.tag_code not in governance.manual_tag_codes(session):
                raise Invalid([FieldError("outcome", "correction.manual_only")])
            proposal = governance.propose(
                session,
                principal,
                "manual_tag",
                {"customer_id": correction.customer_id, "tag_code": correction.tag_code, "add": False},
                reason=note or correction.reason,
            )
            correction.proposal_id = proposal.id
        correction.outcome = outcome
    correction.status = decision
    correction.resolution_note = note or None
    correction.resolved_by = principal.username
    correction.resolved_at = utcnow()
    session.flush()
    return correction


# --- review reminder --------------------------------------------------------------------------------


def reminder(session: Session, today: date | None = None) -> ReviewReminder:
    """The next quality review date from the last review and the configured cadence."""
    today = today or clock.today()
    cadence = int(governance.setting(session, "quality_review_cadence_days"))
    soon = int(governance.setting(session, "quality_review_due_soon_days"))
    last = repository.last_review_day(session)
    if last is None:
        # Never reviewed: the first review is due one cadence after the first tag was assigned.
        first = repository.first_assignment_day(session)
        next_due = (first or today) + timedelta(days=cadence)
    else:
        next_due = last + timedelta(days=cadence)
    days_left = (next_due - today).days
    if days_left < 0:
        state = "overdue"
    elif days_left == 0:
        state = "due"
    elif days_left <= soon:
        state = "due_soon"
    else:
        state = "ok"
    return ReviewReminder(last, next_due, cadence, state, days_left)


def complete_review(
    session: Session, principal: Principal, notes: str | None = None, today: date | None = None
) -> QualityReview:
    """Record that the periodic quality review was done today (steward)."""
    require(principal, Permission.TAG_QUALITY_REVIEW)
    review = QualityReview(
        reviewed_on=today or clock.today(),
        reviewer=principal.username,
        notes=governance._text(notes, "notes", required=False) or None,
    )
    session.add(review)
    session.flush()
    return review


def reviews(session: Session, limit: int = 10) -> list[QualityReview]:
    """The latest completed quality reviews."""
    return repository.reviews(session, limit)


# --- figures ----------------------------------------------------------------------------------------


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def quality_report(session: Session, principal: Principal, as_of: date | None = None) -> QualityReport:
    """Per-tag figures over the configured window ending `as_of`, anomalies and the review reminder."""
    require(principal, Permission.TAG_QUALITY_READ)
    as_of = as_of or clock.today()
    window = int(governance.setting(session, "churn_window_days"))
    swallow = float(governance.setting(session, "anomaly_swallow_share"))
    flip = float(governance.setting(session, "anomaly_flip_share"))
    start, end = _start_of(as_of - timedelta(days=window)), _start_of(as_of + timedelta(days=1))
    # Every figure counts the customers in the caller's scope only (a department head: their department).
    sizes = repository.sizes(session, principal, end)
    entered = repository.entered(session, principal, start, end)
    left = repository.left(session, principal, start, end)
    usage = repository.usage(session, start, end)
    visible = correction_policy.visible_corrections(principal)
    corrections = repository.corrections_by_status(session, visible, start, end)
    tags = classification.list_tags(session)
    everyone = repository.customer_count(session, principal)
    # A dimension's population is the customers classified in it at all (e.g. individuals for the
    # individual lifecycle); a flag's population is every customer.
    populations = repository.dimension_populations(session, principal, end)
    rows: list[TagQualityOut] = []
    anomalies: list[tuple[TagQualityOut, str]] = []
    for tag in tags:
        population = int(populations.get(tag.dimension, 0)) if tag.dimension else everyone
        size = int(sizes.get(tag.code, 0))
        came, went = int(entered.get(tag.code, 0)), int(left.get(tag.code, 0))
        base = max(size - came + went, size, 1)
        c = corrections.get(tag.code, {})
        accepted = c.get("accepted", 0)
        row = TagQualityOut(
            code=tag.code,
            name=tag.name_zh,
            name_en=tag.name_en,
            category=tag.category_code,
            size=size,
            population=population,
            coverage=size / population if population else 0.0,
            entered=came,
            left=went,
            churn=(came + went) / base,
            usage={k: usage.get(tag.code, {}).get(k, 0) for k in USAGE_KINDS},
            corrections=sum(c.values()),
            accepted=accepted,
            open_corrections=c.get("open", 0),
            error_rate=accepted / max(size + went, 1),
            anomalies=[],
        )
        if size == 0:
            row.anomalies.append("empty")
        elif population and row.coverage >= swallow:
            row.anomalies.append("swallows")
        if size and row.churn >= flip:
            row.anomalies.append("flips")
        rows.append(row)
        anomalies.extend((row, kind) for kind in row.anomalies)
    return QualityReport(as_of, as_of - timedelta(days=window), rows, anomalies, reminder(session, as_of))
