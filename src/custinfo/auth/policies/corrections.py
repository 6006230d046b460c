"""Who may see and who may decide reports that a tag is wrong (tag corrections).

Data stewards decide corrections (confirm → a fix, or reject); anyone who may
read tag quality sees every correction; everyone else sees only the ones they
reported. The same rule filters the correction list, shows the decision
buttons and guards the decision.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, true

from custinfo.auth.policy import Permission, Principal, can
from custinfo.classification.governance.models import TagCorrection


def may_decide(principal: Principal) -> bool:
    """Whether the principal resolves tag corrections."""
    return can(principal, Permission.CORRECTION_RESOLVE)


def sees_every_correction(principal: Principal) -> bool:
    """Whether the principal sees every correction (deciders and tag-quality readers)."""
    return may_decide(principal) or can(principal, Permission.TAG_QUALITY_READ)


def visible_corrections(principal: Principal) -> ColumnElement[bool]:
    """SQL on tag corrections: those the principal may see (otherwise only their own reports)."""
    if sees_every_correction(principal):
        return true()
    return TagCorrection.reported_by == principal.username
