"""Who may approve or reject an access request (never their own).

Admins decide every request; a department head decides L2-level requests made
in their department and requests for customers of their department; nobody
else decides any. The same SQL predicate builds the approval queue, the
"can decide" flag of each listed row and the fetch of the request being decided.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, and_, false, not_, or_, select

from custinfo.auth.policy import Permission, Principal, can
from custinfo.customers.models import Customer
from custinfo.protection.models import AccessRequest


def approvable_requests(principal: Principal) -> ColumnElement[bool]:
    """SQL on access_requests: the requests this principal may decide."""
    if not can(principal, Permission.ACCESS_APPROVE):
        return false()
    not_own = not_(AccessRequest.requester_id == principal.user_id)
    if principal.role == "admin":
        return not_own
    if principal.role != "dept_head" or principal.department_id is None:
        return false()  # a head without a department approves nothing
    department = principal.department_id
    level_in_department = and_(
        AccessRequest.target == "level",
        AccessRequest.level == "L2",
        AccessRequest.department_id == department,
    )
    customer_in_department = and_(
        AccessRequest.target == "customer",
        AccessRequest.customer_id.in_(select(Customer.id).where(Customer.department_id == department)),
    )
    return and_(not_own, or_(level_in_department, customer_in_department))
