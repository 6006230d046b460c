"""Access decided in one place: permissions per role and the customer record scope.

Every repository query over customers and their children applies
`customer_scope(principal)`; an out-of-scope record therefore looks absent
(404), never forbidden. `require(principal, permission)` guards actions.

Scope by role: sales their own customers; service and dept_head their
department; data_steward and admin all; marketing and auditor none (they have
no customer-read permission either). An approved, unexpired access grant to a
customer adds that customer to the requester's scope; grants are loaded once
per request (`with_grants`) so the filter stays a plain indexed predicate.
What a principal sees of each field is decided by the field view
(custinfo.protection.views), driven by the field catalogue.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from sqlalchemy import ColumnElement, false, or_, select, true
from sqlalchemy.orm import Session

from custinfo.core.db import utcnow
from custinfo.core.errors import NotPermitted
from custinfo.customers.models import Customer
from custinfo.protection.models import AccessRequest

ALL_RECORDS_ROLES = frozenset({"admin", "data_steward"})
DEPARTMENT_ROLES = frozenset({"dept_head", "service"})

_WRITERS = frozenset({"sales", "dept_head", "data_steward", "admin"})
PERMISSIONS: dict[str, frozenset[str]] = {
    "customer.read": frozenset({"sales", "service", "dept_head", "data_steward", "admin"}),
    "customer.create": _WRITERS,
    "customer.update": _WRITERS,
    "customer.delete": frozenset({"dept_head", "data_steward", "admin"}),
    "customer.reassign": frozenset({"dept_head", "data_steward", "admin"}),
    "contact.write": _WRITERS,
    "need.write": _WRITERS,
    "order.write": _WRITERS,
    "contract.write": _WRITERS,
    # Service staff may add interactions (service work) but change nothing else.
    "interaction.create": _WRITERS | {"service"},
    "interaction.write": _WRITERS,
    "user.manage": frozenset({"admin"}),
    "audit.read": frozenset({"auditor", "admin"}),
    "access.request": frozenset({"sales", "service", "dept_head", "data_steward", "marketing", "admin"}),
    "access.approve": frozenset({"dept_head", "admin"}),
    "field_levels.read": frozenset({"dept_head", "data_steward", "auditor", "admin"}),
    "field_levels.manage": frozenset({"admin"}),
    "classification.read": frozenset(
        {"sales", "service", "dept_head", "data_steward", "marketing", "auditor", "admin"}
    ),
    "classification.run": frozenset({"data_steward", "admin"}),
    "rules.propose": frozenset({"data_steward", "admin"}),
    # Tag governance: reviewers beyond dept_head are configured as data (governance_settings.reviewer_roles).
    "proposal.read": frozenset({"dept_head", "data_steward", "admin", "auditor"}),
    "proposal.create": frozenset({"data_steward"}),
    "proposal.review": frozenset({"dept_head"}),
    "tag.correct": frozenset({"sales", "service", "dept_head", "data_steward", "admin"}),
    "correction.resolve": frozenset({"data_steward"}),
    "tag.quality.read": frozenset({"dept_head", "data_steward", "admin", "auditor"}),
    "tag.quality.review": frozenset({"data_steward"}),
}


@dataclass(frozen=True)
class Principal:
    """The signed-in user as access control sees them."""

    user_id: int
    username: str
    role: str
    department_id: int | None
    granted_customers: frozenset[int] = frozenset()
    granted_levels: frozenset[str] = frozenset()


def can(principal: Principal, permission: str) -> bool:
    """Whether the principal's role carries the permission."""
    return principal.role in PERMISSIONS.get(permission, frozenset())


def require(principal: Principal, permission: str) -> None:
    """Raise 403 unless the principal's role carries the permission."""
    if not can(principal, permission):
        raise NotPermitted("error.permission", permission=permission)


def _role_scope(principal: Principal) -> ColumnElement[bool]:
    if principal.role in ALL_RECORDS_ROLES:
        return true()
    if principal.role in DEPARTMENT_ROLES and principal.department_id is not None:
        return Customer.department_id == principal.department_id
    if principal.role == "sales":
        return Customer.owner_id == principal.user_id
    return false()


def customer_scope(principal: Principal) -> ColumnElement[bool]:
    """SQL filter on `customers` selecting exactly the records the principal may see."""
    scope = _role_scope(principal)
    if principal.granted_customers and principal.role not in ALL_RECORDS_ROLES:
        return or_(scope, Customer.id.in_(sorted(principal.granted_customers)))
    return scope


def in_natural_scope(principal: Principal, customer: Customer) -> bool:
    """Whether the customer is in the principal's scope by role alone (not only through a grant)."""
    if principal.role in ALL_RECORDS_ROLES:
        return True
    if principal.role in DEPARTMENT_ROLES:
        return principal.department_id is not None and customer.department_id == principal.department_id
    return principal.role == "sales" and customer.owner_id == principal.user_id


def with_grants(session: Session, principal: Principal) -> Principal:
    """The principal with their approved, unexpired grants (customers and field levels) loaded."""
    rows = session.execute(
        select(AccessRequest.target, AccessRequest.customer_id, AccessRequest.level).where(
            AccessRequest.requester_id == principal.user_id,
            AccessRequest.status == "approved",
            AccessRequest.expires_at > utcnow(),
        )
    ).all()
    if not rows:
        return principal
    customers = frozenset(r.customer_id for r in rows if r.target == "customer" and r.customer_id)
    levels = frozenset(r.level for r in rows if r.target == "level" and r.level)
    return replace(principal, granted_customers=customers, granted_levels=levels)
