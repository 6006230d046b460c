"""All SQL of tag governance: settings, proposals, and the taxonomy and version look-ups it validates against."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from custinfo.auth.policy import ALL_RECORDS_ROLES, Principal, customer_scope
from custinfo.classification.governance.models import GovernanceSetting, Proposal
from custinfo.classification.models import RuleSetVersion, Tag, TagCategory
from custinfo.core.errors import NotFound
from custinfo.core.pagination import PageParams, fetch_page
from custinfo.customers.models import Customer


def setting_row(session: Session, key: str) -> GovernanceSetting | None:
    """The stored value of one setting, or None while it keeps the shipped default."""
    return session.get(GovernanceSetting, key)


def proposals(
    session: Session,
    statuses: Sequence[str],
    kind: str | None,
    params: PageParams,
    *,
    extra: Sequence[ColumnElement[bool]] = (),
) -> tuple[list[Proposal], int]:
    """One page of proposals newest first, in any of `statuses` (all when empty) and of `kind`; the exact total."""
    stmt = select(Proposal).where(*extra)
    if statuses:
        stmt = stmt.where(Proposal.status.in_(statuses))
    if kind:
        stmt = stmt.where(Proposal.kind == kind)
    rows, total, _ = fetch_page(session, stmt, params, order_by=(Proposal.id.desc(),), cap=None)
    return rows, total


def get_proposal(session: Session, proposal_id: int) -> Proposal | None:
    """One proposal by id, or None."""
    return session.get(Proposal, proposal_id)


def get_proposal_where(session: Session, proposal_id: int, visible: ColumnElement[bool]) -> Proposal | None:
    """One proposal by id among the visible ones, or None."""
    return session.scalar(select(Proposal).where(Proposal.id == proposal_id, visible))


def customers_in_scope(session: Session, principal: Principal, ids: set[int]) -> set[int]:
    """The ids among `ids` of customers in the principal's scope."""
    if principal.role in ALL_RECORDS_ROLES:
        return set(ids)
    if not ids:
        return set()
    stmt = select(Customer.id).where(Customer.id.in_(sorted(ids)), customer_scope(principal))
    return set(session.scalars(stmt))


def proposals_for_customer(session: Session, customer_id: int, limit: int) -> list[Proposal]:
    """The newest proposals about one customer."""
    stmt = (
        select(Proposal).where(Proposal.customer_id == customer_id).order_by(Proposal.id.desc()).limit(limit)
    )
    return list(session.scalars(stmt))


def manual_tag_codes(session: Session) -> list[str]:
    """Codes of the active tags set by a reviewed decision (source manual), in taxonomy order."""
    stmt = (
        select(Tag.code)
        .join(TagCategory, TagCategory.code == Tag.category_code)
        .where(Tag.active.is_(True), Tag.source == "manual")
        .order_by(TagCategory.sort, Tag.sort, Tag.id)
    )
    return list(session.scalars(stmt))


def tag_code_taken(session: Session, code: str) -> bool:
    """Whether any tag, active or not, already has this code."""
    return session.scalar(select(Tag.id).where(Tag.code == code).limit(1)) is not None


def version_numbered(session: Session, number: int) -> RuleSetVersion | None:
    """The rule-set version with this number, or None."""
    return session.scalar(select(RuleSetVersion).where(RuleSetVersion.number == number))


def require_version_numbered(session: Session, number: int) -> RuleSetVersion:
    """The rule-set version with this number, or 404."""
    version = version_numbered(session, number)
    if version is None:
        raise NotFound("error.rule_version_not_found", id=number)
    return version
