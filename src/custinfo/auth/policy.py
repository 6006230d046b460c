"""Access decided in one place: permissions per role and the customer record scope.

Every repository query over customers and their children applies
`customer_scope(principal)`; an out-of-scope record therefore looks absent
(404), never forbidden. `require(principal, permission)` guards actions.

Scope by role: sales their own customers; service and dept_head their
department; data_steward and admin all; marketing and auditor none (they have
no customer-read permission either). An approved, unexpired access grant to a
customer adds that customer to the requester's *read* scope only: writes
(`in_natural_scope`) and ownership stay with the role's own scope, so a grant
never turns into a takeover. Grants are loaded once per request
(`with_grants`) so the filter stays a plain indexed predicate.
What a principal sees of each field is decided by the field view
(custinfo.protection.views), driven by the field catalogue.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum

from sqlalchemy import ColumnElement, false, or_, select, true
from sqlalchemy.orm import Session

from custinfo.core.db import utcnow
from custinfo.core.errors import NotPermitted
from custinfo.customers.models import Customer
from custinfo.protection.models import AccessRequest

ALL_RECORDS_ROLES = frozenset({"admin", "data_steward"})
DEPARTMENT_ROLES = frozenset({"dept_head", "service"})


class Permission(StrEnum):
    """Every permission a role can carry; a misspelt one is a type error, not a silent denial."""

    CUSTOMER_READ = "customer.read"
    CUSTOMER_CREATE = "customer.create"
    CUSTOMER_UPDATE = "customer.update"
    CUSTOMER_DELETE = "customer.delete"
    CUSTOMER_REASSIGN = "customer.reassign"
    CUSTOMER_BULK_REASSIGN = "customer.bulk_reassign"
    CONTACT_WRITE = "contact.write"
    NEED_WRITE = "need.write"
    ORDER_WRITE = "order.write"
    CONTRACT_WRITE = "contract.write"
    INTERACTION_CREATE = "interaction.create"
    INTERACTION_WRITE = "interaction.write"
    USER_MANAGE = "user.manage"
    AUDIT_READ = "audit.read"
    ACCESS_REQUEST = "access.request"
    ACCESS_APPROVE = "access.approve"
    FIELD_LEVELS_READ = "field_levels.read"
    FIELD_LEVELS_MANAGE = "field_levels.manage"
    CLASSIFICATION_READ = "classification.read"
    CLASSIFICATION_RUN = "classification.run"
    SETTINGS_MANAGE = "settings.manage"
    PROPOSAL_READ = "proposal.read"
    PROPOSAL_CREATE = "proposal.create"
    PROPOSAL_REVIEW = "proposal.review"
    TAG_CORRECT = "tag.correct"
    CORRECTION_RESOLVE = "correction.resolve"
    TAG_QUALITY_READ = "tag.quality.read"
    TAG_QUALITY_REVIEW = "tag.quality.review"
    JOBS_MANAGE = "jobs.manage"
    PRODUCT_CATEGORY_MANAGE = "product_category.manage"
    BACKUP_MANAGE = "backup.manage"
    # Counts of the whole customer base (tag sizes, the report), never a customer: marketing plans with them.
    CLASSIFICATION_COUNTS_ALL = "classification.counts_all"


_WRITERS = frozenset({"sales", "dept_head", "data_steward", "admin"})
PERMISSIONS: dict[Permission, frozenset[str]] = {
    Permission.CUSTOMER_READ: frozenset({"sales", "service", "dept_head", "data_steward", "admin"}),
    Permission.CUSTOMER_CREATE: _WRITERS,
    Permission.CUSTOMER_UPDATE: _WRITERS,
    Permission.CUSTOMER_DELETE: frozenset({"dept_head", "data_steward", "admin"}),
    Permission.CUSTOMER_REASSIGN: frozenset({"dept_head", "data_steward", "admin"}),
    # Moving many customers at once is a manager's decision (issue 10): heads in their department, admins.
    Permission.CUSTOMER_BULK_REASSIGN: frozenset({"dept_head", "admin"}),
    Permission.CONTACT_WRITE: _WRITERS,
    Permission.NEED_WRITE: _WRITERS,
    Permission.ORDER_WRITE: _WRITERS,
    Permission.CONTRACT_WRITE: _WRITERS,
    # Service staff may add interactions (service work) but change nothing else.
    Permission.INTERACTION_CREATE: _WRITERS | {"service"},
    Permission.INTERACTION_WRITE: _WRITERS,
    Permission.USER_MANAGE: frozenset({"admin"}),
    Permission.AUDIT_READ: frozenset({"auditor", "admin"}),
    Permission.ACCESS_REQUEST: frozenset(
        {"sales", "service", "dept_head", "data_steward", "marketing", "admin"}
    ),
    Permission.ACCESS_APPROVE: frozenset({"dept_head", "admin"}),
    Permission.FIELD_LEVELS_READ: frozenset({"dept_head", "data_steward", "auditor", "admin"}),
    Permission.FIELD_LEVELS_MANAGE: frozenset({"admin"}),
    Permission.CLASSIFICATION_READ: frozenset(
        {"sales", "service", "dept_head", "data_steward", "marketing", "auditor", "admin"}
    ),
    Permission.CLASSIFICATION_RUN: frozenset({"data_steward", "admin"}),
    # Configuration as data (vocabularies, the settings area): data management and administration.
    Permission.SETTINGS_MANAGE: frozenset({"data_steward", "admin"}),
    # Tag governance: reviewers beyond dept_head are configured as data (governance_settings.reviewer_roles).
    Permission.PROPOSAL_READ: frozenset({"dept_head", "data_steward", "admin", "auditor"}),
    Permission.PROPOSAL_CREATE: frozenset({"data_steward"}),
    Permission.PROPOSAL_REVIEW: frozenset({"dept_head"}),
    Permission.TAG_CORRECT: frozenset({"sales", "service", "dept_head", "data_steward", "admin"}),
    Permission.CORRECTION_RESOLVE: frozenset({"data_steward"}),
    Permission.TAG_QUALITY_READ: frozenset({"dept_head", "data_steward", "admin", "auditor"}),
    Permission.TAG_QUALITY_REVIEW: frozenset({"data_steward"}),
    Permission.JOBS_MANAGE: frozenset({"admin"}),
    # The product category vocabulary (and so the preference tags) is the data steward's to keep.
    Permission.PRODUCT_CATEGORY_MANAGE: frozenset({"data_steward", "admin"}),
    Permission.BACKUP_MANAGE: frozenset({"admin"}),
    Permission.CLASSIFICATION_COUNTS_ALL: frozenset({"marketing", "data_steward", "admin"}),
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
    display_name: str = ""  # how the user is greeted and shown; the username when empty

    @property
    def shown_name(self) -> str:
        """The display name, or the username when there is none."""
        return self.display_name or self.username


def can(principal: Principal, permission: Permission | str) -> bool:
    """Whether the principal's role carries the permission (an unknown name raises, never silently denies)."""
    return principal.role in PERMISSIONS[Permission(permission)]


def require(principal: Principal, permission: Permission) -> None:
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


def may_read_clear(principal: Principal, state: str, level: str, reveal_levels: frozenset[str]) -> bool:
    """Whether the principal may read a field in clear: shown clear, revealable by the role, or a level grant.

    The same answer decides who may search an L3 field exactly (a match is a read of the value), who may
    enter a value that is checked for uniqueness, and who may correct it.
    """
    return state == "clear" or level in reveal_levels or level in principal.granted_levels


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
