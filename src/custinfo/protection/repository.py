"""All SQL of the protection domain: access requests, and the names and departments they show.

It reads the users and customers tables for the names and departments of a page of
requests (one query each); the rules of who may decide what stay in the service.
"""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from custinfo.auth.models import User
from custinfo.customers.models import Customer
from custinfo.protection.models import AccessRequest

# A list of requests shows at most this many (newest or oldest first).
LIST_LIMIT = 500


def get_request(session: Session, request_id: int, for_update: bool = False) -> AccessRequest | None:
    """One access request by id (locked for the decision when `for_update`), or None."""
    return session.get(AccessRequest, request_id, with_for_update=for_update)


def requests_of(session: Session, requester_id: int) -> list[AccessRequest]:
    """The requests one user made, newest first."""
    stmt = (
        select(AccessRequest)
        .where(AccessRequest.requester_id == requester_id)
        .order_by(AccessRequest.id.desc())
        .limit(LIST_LIMIT)
    )
    return list(session.scalars(stmt))


def pending_where(session: Session, decidable: ColumnElement[bool]) -> list[AccessRequest]:
    """Pending requests matching the policy's predicate, oldest first."""
    stmt = select(AccessRequest).where(AccessRequest.status == "pending", decidable)
    return list(session.scalars(stmt.order_by(AccessRequest.id).limit(LIST_LIMIT)))


def ids_where(session: Session, request_ids: Collection[int], predicate: ColumnElement[bool]) -> set[int]:
    """Which of these requests match the predicate (one query for a whole page)."""
    if not request_ids:
        return set()
    stmt = select(AccessRequest.id).where(AccessRequest.id.in_(sorted(request_ids)), predicate)
    return set(session.scalars(stmt))


def usernames(session: Session, user_ids: Collection[int]) -> dict[int, str]:
    """Username per user id (ids without a user are left out)."""
    if not user_ids:
        return {}
    rows = session.execute(select(User.id, User.username).where(User.id.in_(user_ids)))
    return {user_id: username for user_id, username in rows}


def customer_briefs(session: Session, customer_ids: Collection[int]) -> dict[int, tuple[str, int | None]]:
    """(name, department id) per customer id, regardless of scope (the service decides what to show)."""
    if not customer_ids:
        return {}
    stmt = select(Customer.id, Customer.name, Customer.department_id).where(Customer.id.in_(customer_ids))
    return {customer_id: (name, department) for customer_id, name, department in session.execute(stmt)}


def customer(session: Session, customer_id: int) -> Customer | None:
    """A customer by id regardless of scope (to check a request for it), or None."""
    return session.get(Customer, customer_id)


def count_pending_for_customer(session: Session, customer_id: int, seen: ColumnElement[bool]) -> int:
    """Pending requests for access to one customer that match the reader's predicate."""
    stmt = select(func.count(AccessRequest.id)).where(
        AccessRequest.status == "pending", AccessRequest.customer_id == customer_id, seen
    )
    return session.scalar(stmt) or 0
