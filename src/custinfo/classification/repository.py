"""All SQL of the classification domain outside the engine: versions, assignments, runs, members, report."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Exists, delete, exists, func, or_, select, true, update
from sqlalchemy.orm import Session

from custinfo.auth.policy import ALL_RECORDS_ROLES, Principal, customer_scope
from custinfo.classification.governance.models import TagUsage
from custinfo.classification.models import (
    ClassificationEvaluation,
    ClassificationRun,
    ClassificationState,
    RuleSetVersion,
    Tag,
    TagAssignment,
)
from custinfo.config import DEFAULT_TIMEZONE
from custinfo.core.db import utcnow
from custinfo.core.errors import Conflict, NotFound
from custinfo.core.pagination import PageParams, fetch_page, fetch_rows
from custinfo.customers.models import Customer


@dataclass
class AssignmentView:
    """A tag on a customer with its provenance (and, once explained, the reason in words)."""

    id: int
    tag: str
    name_zh: str
    name_en: str
    category: str
    dimension: str | None
    source: str
    rule_id: str | None
    rule_set_version_id: int | None
    rule_set_version: int | None
    features: dict[str, Any] | None
    as_of: date | None
    valid_from: datetime
    valid_to: datetime | None
    assigned_by: str
    reason: str | None
    explanation: str = ""
    conditions: list[str] = field(default_factory=list)
    evaluated_as_of: date | None = None  # the date of the figures told (the latest run that confirmed it)
    history: list[EvaluationView] = field(default_factory=list)  # earlier figures, newest first


@dataclass
class EvaluationView:
    """The figures one evaluation saw (as of a date) and, once explained, the reason they gave."""

    as_of: date | None
    features: dict[str, Any]
    explanation: str = ""


@dataclass(frozen=True)
class ReportCell:
    """Customers in one level-1 × level-2 cell."""

    level1: str
    level2: str
    customers: int


# --- versions ----------------------------------------------------------------------------------------


def active_version(session: Session) -> RuleSetVersion:
    """The active rule-set version (there is always one after the migration seeds version 1)."""
    version = session.scalar(select(RuleSetVersion).where(RuleSetVersion.is_active.is_(True)).limit(1))
    if version is None:
        raise NotFound("error.rule_set_missing")
    return version


def versions(session: Session) -> list[RuleSetVersion]:
    """All versions, newest first."""
    return list(session.scalars(select(RuleSetVersion).order_by(RuleSetVersion.number.desc())))


def get_version(session: Session, version_id: int) -> RuleSetVersion:
    """One version, or 404."""
    version = session.get(RuleSetVersion, version_id)
    if version is None:
        raise NotFound("error.rule_version_not_found", id=version_id)
    return version


def add_version(
    session: Session,
    definition: dict[str, Any],
    reason: str,
    author: str,
    approved_by: str | None,
    based_on_id: int | None = None,
) -> RuleSetVersion:
    """Append a version numbered after the newest."""
    number = (session.scalar(select(func.max(RuleSetVersion.number))) or 0) + 1
    version = RuleSetVersion(
        number=number,
        definition=definition,
        reason=reason.strip(),
        author=author,
        approved_by=approved_by,
        created_at=utcnow(),
        is_active=False,
        based_on_id=based_on_id,
    )
    session.add(version)
    session.flush()
    return version


def activate(session: Session, version: RuleSetVersion) -> None:
    """Make this version the only active one."""
    session.execute(
        update(RuleSetVersion).where(RuleSetVersion.id != version.id).values(is_active=False),
        execution_options={"synchronize_session": "fetch"},
    )
    version.is_active = True
    version.activated_at = utcnow()
    session.flush()


# --- assignments -------------------------------------------------------------------------------------


def holds(customer_id: ColumnElement[Any], tag: ColumnElement[Any]) -> Exists:
    """EXISTS: the customer holds the tag now (an open assignment, from any source)."""
    return (
        select(TagAssignment.id)
        .where(
            TagAssignment.customer_id == customer_id,
            TagAssignment.tag_code == tag,
            TagAssignment.valid_to.is_(None),
        )
        .exists()
    )


def open_counts(
    session: Session, source: str | None = None, principal: Principal | None = None
) -> dict[str, int]:
    """Open assignments per tag, among the customers the principal may see when one is given."""
    stmt = select(TagAssignment.tag_code, func.count()).where(TagAssignment.valid_to.is_(None))
    if source:
        stmt = stmt.where(TagAssignment.source == source)
    if principal is not None and principal.role not in ALL_RECORDS_ROLES:  # join only when scope narrows
        stmt = stmt.join(Customer, Customer.id == TagAssignment.customer_id).where(customer_scope(principal))
    return {tag: int(n) for tag, n in session.execute(stmt.group_by(TagAssignment.tag_code))}


def closed_counts(session: Session, run_id: int) -> dict[str, int]:
    """Assignments a run closed, per tag (read through the partial index of closed rows)."""
    rows = session.execute(
        select(TagAssignment.tag_code, func.count())
        .where(TagAssignment.closed_run_id == run_id)
        .group_by(TagAssignment.tag_code)
    )
    return {tag: int(n) for tag, n in rows}


def opened_counts(session: Session, customers: Any, run_id: int) -> dict[str, int]:
    """Assignments a run opened, per tag, among `customers` (a table of the customer ids it touched)."""
    rows = session.execute(
        select(TagAssignment.tag_code, func.count())
        .where(
            TagAssignment.customer_id.in_(select(customers.c.customer_id)),
            TagAssignment.valid_to.is_(None),
            TagAssignment.run_id == run_id,
        )
        .group_by(TagAssignment.tag_code)
    )
    return {tag: int(n) for tag, n in rows}


def moves(session: Session, customers: Any, run_id: int, limit: int) -> tuple[int, list[dict[str, Any]]]:
    """How many customers a run changed (`customers`: a table of their ids), and a sample with tags added and removed."""
    total = int(session.scalar(select(func.count()).select_from(customers)) or 0)
    if not total:
        return 0, []
    sample_ids = list(
        session.scalars(select(customers.c.customer_id).order_by(customers.c.customer_id).limit(limit))
    )
    ta = TagAssignment
    rows = session.execute(
        select(ta.customer_id, ta.tag_code, ta.run_id, ta.closed_run_id).where(
            ta.customer_id.in_(sample_ids), or_(ta.run_id == run_id, ta.closed_run_id == run_id)
        )
    )
    by_customer: dict[int, dict[str, list[str]]] = {cid: {"added": [], "removed": []} for cid in sample_ids}
    for cid, tag, opened, closed in rows:
        if opened == run_id:
            by_customer[cid]["added"].append(tag)
        if closed == run_id:
            by_customer[cid]["removed"].append(tag)
    return total, [
        {"customer_id": cid, "added": sorted(v["added"]), "removed": sorted(v["removed"])}
        for cid, v in by_customer.items()
    ]


def forget_customer(session: Session, customer_id: int) -> None:
    """Delete every assignment and the state of a customer (the customer has been deleted)."""
    session.execute(delete(TagAssignment).where(TagAssignment.customer_id == customer_id))
    session.execute(delete(ClassificationState).where(ClassificationState.customer_id == customer_id))
    session.execute(
        delete(ClassificationEvaluation).where(ClassificationEvaluation.customer_id == customer_id)
    )


def latest_evaluation(session: Session, customer_id: int) -> EvaluationView | None:
    """The figures the latest run that re-evaluated the customer saw (None before any run kept them)."""
    row = session.execute(
        select(ClassificationState.as_of, ClassificationState.features).where(
            ClassificationState.customer_id == customer_id, ClassificationState.features.is_not(None)
        )
    ).first()
    return EvaluationView(row.as_of, dict(row.features)) if row is not None else None


def earlier_evaluations(session: Session, customer_id: int, limit: int = 50) -> list[EvaluationView]:
    """The customer's earlier evaluations (figures later runs replaced), newest first."""
    rows = session.execute(
        select(ClassificationEvaluation.as_of, ClassificationEvaluation.features)
        .where(ClassificationEvaluation.customer_id == customer_id)
        .order_by(ClassificationEvaluation.as_of.desc(), ClassificationEvaluation.id.desc())
        .limit(limit)
    )
    return [EvaluationView(as_of, dict(features or {})) for as_of, features in rows]


def require_customer(session: Session, customer_id: int) -> None:
    """404 unless the customer exists (scope is the caller's business: governance checks it)."""
    if session.scalar(select(Customer.id).where(Customer.id == customer_id)) is None:
        raise NotFound("error.customer_not_found", id=customer_id)


def open_manual(session: Session, customer_id: int, tag_code: str, by: str, reason: str) -> TagAssignment:
    """Open a manual assignment (409 if the customer already carries the tag)."""
    existing = session.scalar(
        select(TagAssignment.id).where(
            TagAssignment.customer_id == customer_id,
            TagAssignment.tag_code == tag_code,
            TagAssignment.valid_to.is_(None),
        )
    )
    if existing is not None:
        raise Conflict("error.tag_already_assigned", tag=tag_code)
    row = TagAssignment(
        customer_id=customer_id,
        tag_code=tag_code,
        source="manual",
        valid_from=utcnow(),
        assigned_by=by,
        reason=reason,
    )
    session.add(row)
    session.flush()
    return row


def close_manual(session: Session, customer_id: int, tag_code: str, by: str) -> None:
    """Close an open manual assignment (404 if there is none)."""
    row = session.scalar(
        select(TagAssignment).where(
            TagAssignment.customer_id == customer_id,
            TagAssignment.tag_code == tag_code,
            TagAssignment.valid_to.is_(None),
            TagAssignment.source == "manual",
        )
    )
    if row is None:
        raise NotFound("error.tag_not_assigned", tag=tag_code)
    row.valid_to = utcnow()
    row.closed_by = by
    session.flush()


def end_of_day(day: date, zone: str = DEFAULT_TIMEZONE) -> datetime:
    """The instant a local day ends (membership "on" a day is membership at its end)."""
    return datetime.combine(day + timedelta(days=1), time(), tzinfo=ZoneInfo(zone)).astimezone(UTC)


def _valid_at(instant: datetime | None) -> Any:
    if instant is None:
        return TagAssignment.valid_to.is_(None)
    return (TagAssignment.valid_from < instant) & (
        TagAssignment.valid_to.is_(None) | (TagAssignment.valid_to >= instant)
    )


def assignments_of(session: Session, customer_id: int, as_of: date | None) -> list[AssignmentView]:
    """A customer's assignments open now (or open at the end of `as_of`), by category and tag order."""
    instant = end_of_day(as_of) if as_of else None
    stmt = (
        select(TagAssignment, Tag, RuleSetVersion.number)
        .join(Tag, Tag.code == TagAssignment.tag_code)
        .outerjoin(RuleSetVersion, RuleSetVersion.id == TagAssignment.rule_set_version_id)
        .where(TagAssignment.customer_id == customer_id, _valid_at(instant))
        .order_by(Tag.sort, Tag.id)
    )
    return [
        AssignmentView(
            id=a.id,
            tag=a.tag_code,
            name_zh=t.name_zh,
            name_en=t.name_en,
            category=t.category_code,
            dimension=t.dimension,
            source=a.source,
            rule_id=a.rule_id,
            rule_set_version_id=a.rule_set_version_id,
            rule_set_version=number,
            features=a.features,
            as_of=a.as_of,
            valid_from=a.valid_from,
            valid_to=a.valid_to,
            assigned_by=a.assigned_by,
            reason=a.reason,
        )
        for a, t, number in session.execute(stmt)
    ]


def open_tag_codes(session: Session, customer_ids: list[int]) -> dict[int, list[str]]:
    """Current tag codes per customer."""
    out: dict[int, list[str]] = {cid: [] for cid in customer_ids}
    if not customer_ids:
        return out
    stmt = (
        select(TagAssignment.customer_id, TagAssignment.tag_code)
        .join(Tag, Tag.code == TagAssignment.tag_code)
        .where(TagAssignment.customer_id.in_(customer_ids), TagAssignment.valid_to.is_(None))
        .order_by(TagAssignment.customer_id, Tag.sort, Tag.id)
    )
    for cid, tag in session.execute(stmt):
        out[cid].append(tag)
    return out


def members(
    session: Session, principal: Principal, tag_code: str, as_of: date | None, params: PageParams
) -> tuple[list[tuple[int, str]], int]:
    """Customers in scope carrying a tag (now or at the end of `as_of`), by id, and their exact number."""
    instant = end_of_day(as_of) if as_of else None
    stmt = (
        select(Customer.id, Customer.name)
        .join(TagAssignment, TagAssignment.customer_id == Customer.id)
        .where(TagAssignment.tag_code == tag_code, _valid_at(instant), customer_scope(principal))
    )
    rows, total, _ = fetch_rows(session, stmt, params, order_by=(Customer.id,), cap=None)
    return [(cid, name) for cid, name in rows], total


def member_count(session: Session, tag_code: str, as_of: date | None) -> int:
    """How many customers of the whole base carry a tag (now or at the end of `as_of`): a count, no names."""
    instant = end_of_day(as_of) if as_of else None
    stmt = select(func.count()).where(TagAssignment.tag_code == tag_code, _valid_at(instant))
    return int(session.scalar(stmt) or 0)


def report(session: Session, principal: Principal | None, definition: dict[str, Any]) -> list[ReportCell]:
    """Counts per level-1 × level-2 cell of the stored classification codes of customers in scope.

    Each run stores both halves beside the code, so `definition` (the version in force) is not
    needed to split them; it stays in the signature for the callers. No principal: the whole base.
    """
    state = ClassificationState
    stmt = select(state.level1, state.level2, func.count()).where(state.code.is_not(None))
    if principal is not None and principal.role not in ALL_RECORDS_ROLES:  # join only when scope narrows
        stmt = stmt.join(Customer, Customer.id == state.customer_id).where(customer_scope(principal))
    rows = session.execute(stmt.group_by(state.level1, state.level2))
    cells = [ReportCell(level1 or "—", level2 or "—", int(n)) for level1, level2, n in rows]
    return sorted(cells, key=lambda cell: (cell.level1, cell.level2))


def scope_is_whole(principal: Principal) -> bool:
    """Whether the principal's customer scope is every record (figures need no narrowing)."""
    return principal.role in ALL_RECORDS_ROLES


def _in_scope(principal: Principal) -> Any:
    return select(Customer.id).where(customer_scope(principal))


def visible_runs(principal: Principal) -> ColumnElement[bool]:
    """SQL on runs: full runs (they name no customer) and incremental runs of customers in scope."""
    if scope_is_whole(principal):
        return true()
    return or_(
        ClassificationRun.customer_id.is_(None), ClassificationRun.customer_id.in_(_in_scope(principal))
    )


def get_run(session: Session, principal: Principal, run_id: int) -> ClassificationRun:
    """One run the principal may see, or 404 (an incremental run of a customer out of scope looks absent)."""
    run = session.scalar(
        select(ClassificationRun).where(ClassificationRun.id == run_id, visible_runs(principal))
    )
    if run is None:
        raise NotFound("error.not_found")
    return run


def customers_in_scope(session: Session, principal: Principal) -> int:
    """How many customers the principal may see now."""
    return int(
        session.scalar(select(func.count()).select_from(Customer).where(customer_scope(principal))) or 0
    )


def run_changes_in_scope(
    session: Session, principal: Principal, run_id: int, limit: int
) -> tuple[dict[str, int], dict[str, int], int, list[dict[str, Any]]]:
    """What a run changed among the customers in scope: opened and closed per tag, movers and a sample."""
    ta = TagAssignment
    rows = session.execute(
        select(ta.customer_id, ta.tag_code, ta.run_id, ta.closed_run_id).where(
            ta.customer_id.in_(_in_scope(principal)), or_(ta.run_id == run_id, ta.closed_run_id == run_id)
        )
    ).all()
    added: dict[str, int] = {}
    removed: dict[str, int] = {}
    by_customer: dict[int, dict[str, list[str]]] = {}
    for cid, tag, opened, closed in rows:
        moved = by_customer.setdefault(cid, {"added": [], "removed": []})
        if opened == run_id:
            added[tag] = added.get(tag, 0) + 1
            moved["added"].append(tag)
        if closed == run_id:
            removed[tag] = removed.get(tag, 0) + 1
            moved["removed"].append(tag)
    sample = [
        {"customer_id": cid, "added": sorted(v["added"]), "removed": sorted(v["removed"])}
        for cid, v in sorted(by_customer.items())[:limit]
    ]
    return added, removed, len(by_customer), sample


def list_runs(
    session: Session, principal: Principal, mode: str | None, params: PageParams
) -> tuple[list[ClassificationRun], int]:
    """Runs the principal may see, newest first, with the total."""
    stmt = select(ClassificationRun).where(visible_runs(principal))
    if mode:
        stmt = stmt.where(ClassificationRun.mode == mode)
    rows, total, _ = fetch_page(session, stmt, params, order_by=(ClassificationRun.id.desc(),), cap=None)
    return rows, total


def carries_tag(tag_code: str) -> ColumnElement[bool]:
    """SQL predicate on customers: the customer carries this tag now."""
    return exists().where(
        TagAssignment.customer_id == Customer.id,
        TagAssignment.tag_code == tag_code,
        TagAssignment.valid_to.is_(None),
    )


def has_code(code: str) -> ColumnElement[bool]:
    """SQL predicate on customers: the current classification code is exactly `code`."""
    return Customer.id.in_(select(ClassificationState.customer_id).where(ClassificationState.code == code))


def codes_of(session: Session, customer_ids: list[int]) -> dict[int, str | None]:
    """Current classification code per customer id (None when not classified yet)."""
    if not customer_ids:
        return {}
    rows = session.execute(
        select(ClassificationState.customer_id, ClassificationState.code).where(
            ClassificationState.customer_id.in_(customer_ids)
        )
    )
    found: dict[int, str | None] = dict.fromkeys(customer_ids)
    found.update({customer_id: code for customer_id, code in rows})
    return found


def add_usage(session: Session, tag_code: str, kind: str, actor: str) -> None:
    """Store one use of a tag (filter, segment, export)."""
    session.add(TagUsage(tag_code=tag_code, kind=kind, actor=actor, occurred_at=utcnow()))
    session.flush()
