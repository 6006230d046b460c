"""Access decided in one place: permissions per role and the customer record scope.

Every repository query over customers and their children applies
`customer_scope(principal)`; an out-of-scope record therefore looks absent
(404), never forbidden. `require(principal, permission)` guards actions.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, false, true

from custinfo.core.errors import NotPermitted
from custinfo.customers.models import Customer

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
    "interaction.write": _WRITERS | {"service"},
    "user.manage": frozenset({"admin"}),
}


@dataclass(frozen=True)
class Principal:
    """The signed-in user as access control sees them."""

    user_id: int
    username: str
    role: str
    department_id: int | None


def can(principal: Principal, permission: str) -> bool:
    """Whether the principal's role carries the permission."""
    return principal.role in PERMISSIONS.get(permission, frozenset())


def require(principal: Principal, permission: str) -> None:
    """Raise 403 unless the principal's role carries the permission."""
    if not can(principal, permission):
        raise NotPermitted("error.permission", permission=permission)


def customer_scope(principal: Principal) -> ColumnElement[bool]:
    """SQL filter on `customers` selecting exactly the records the principal may see."""
    if principal.role in ALL_RECORDS_ROLES:
        return true()
    if principal.role in DEPARTMENT_ROLES and principal.department_id is not None:
        return Customer.department_id == principal.department_id
    if principal.role == "sales":
        return Customer.owner_id == principal.user_id
    return false()
