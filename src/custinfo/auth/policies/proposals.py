"""Who may review a tag-governance proposal (approve, reject, send back): never its proposer.

Reviewers are department heads and the business roles an admin configures in
the governance settings (`reviewer_roles`, data, passed in by the caller). The
same rule decides the review queue, the review buttons and the decision.
"""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import ColumnElement, and_, false, or_, select, true

from custinfo.auth.policy import ALL_RECORDS_ROLES, Permission, Principal, can, customer_scope
from custinfo.classification.governance.models import Proposal
from custinfo.customers.models import Customer


def may_review(principal: Principal, reviewer_roles: Collection[str]) -> bool:
    """Whether the principal's role reviews proposals at all."""
    return can(principal, Permission.PROPOSAL_REVIEW) or principal.role in reviewer_roles


def may_read(principal: Principal, reviewer_roles: Collection[str]) -> bool:
    """Whether the principal may see proposals and their history (readers, reviewers and proposers)."""
    return (
        can(principal, Permission.PROPOSAL_READ)
        or can(principal, Permission.PROPOSAL_CREATE)
        or may_review(principal, reviewer_roles)
    )


def visible_proposals(principal: Principal) -> ColumnElement[bool]:
    """SQL on proposals: those about no single customer, or about a customer in the principal's scope."""
    if principal.role in ALL_RECORDS_ROLES:
        return true()
    in_scope = select(Customer.id).where(customer_scope(principal))
    return or_(Proposal.customer_id.is_(None), Proposal.customer_id.in_(in_scope))


def reviewable_proposals(principal: Principal, reviewer_roles: Collection[str]) -> ColumnElement[bool]:
    """SQL on proposals: those waiting for this principal's review (pending, not their own)."""
    if not may_review(principal, reviewer_roles):
        return false()
    not_own = and_(
        Proposal.proposed_by != principal.username,
        or_(Proposal.proposed_by_id.is_(None), Proposal.proposed_by_id != principal.user_id),
    )
    return and_(Proposal.status == "pending", not_own, visible_proposals(principal))


def may_decide(principal: Principal, reviewer_roles: Collection[str], proposal: Proposal) -> bool:
    """Whether the principal may decide this proposal now (the row form of `reviewable_proposals`)."""
    return (
        may_review(principal, reviewer_roles)
        and proposal.status == "pending"
        and proposal.proposed_by != principal.username
        and proposal.proposed_by_id != principal.user_id
    )
