"""Who may see and who may decide reports that a tag is wrong (tag corrections).

Data stewards decide corrections (confirm → a fix, or reject); anyone who may
read tag quality sees every correction about a customer in their scope (all of
them for the roles that see every record); everyone sees the ones they
reported. The same rule filters the correction list, shows the decision
buttons and guards the decision.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, or_, select, true

from custinfo.auth.policy import ALL_RECORDS_ROLES, Permission, Principal, can, customer_scope
from custinfo.classification.governance.models import TagCorrection
from custinfo.customers.models import Customer


def may_decide(principal: Principal) -> bool:
    """Whether the principal resolves tag corrections."""
    return can(principal, Permission.CORRECTION_RESOLVE)


def sees_every_correction(principal: Principal) -> bool:
    """Whether the principal sees others' corrections (deciders and tag-quality readers), within their scope."""
    return may_decide(principal) or can(principal, Permission.TAG_QUALITY_READ)


def visible_corrections(principal: Principal) -> ColumnElement[bool]:
    """SQL on tag corrections: their own reports, and others' about customers in their scope if they read them."""
    own = TagCorrection.reported_by == principal.username
    if not sees_every_correction(principal):
        return own
    if principal.role in ALL_RECORDS_ROLES:
        return true()
    return or_(own, TagCorrection.customer_id.in_(select(Customer.id).where(customer_scope(principal))))
