"""All SQL of the protection domain: access requests, and the names and departments they show.

It reads the users and customers tables for the names and departments of a page of
requests (one query each); the rules of who may decide what stay in the service.
"""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import and_, or_, select
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


def pending_queue(
    session: Session, exclude_requester_id: int, department_id: int | None
) -> list[AccessRequest]:
    """Pending requests of others, oldest first; with a department, only its share.

    A department's share is the level-L2 requests made in it and the requests for
    customers of it; without one, every pending request.
    """
    stmt = select(AccessRequest).where(
        AccessRequest.status == "pending", AccessRequest.requester_id != exclude_requester_id
    )
    if department_id is not None:
        stmt = stmt.where(
            or_(
                and_(
                    AccessRequest.target == "level",
                    AccessRequest.level == "L2",
                    AccessRequest.department_id == department_id,
                ),
                and_(
                    AccessRequest.target == "customer",
                    AccessRequest.customer_id.in_(
                        select(Customer.id).where(Customer.department_id == department_id)
                    ),
                ),
            )
        )
    return list(session.scalars(stmt.order_by(AccessRequest.id).limit(LIST_LIMIT)))


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


def customer_department(session: Session, customer_id: int) -> int | None:
    """The department of a customer (None if it has none or does not exist)."""
    return session.scalar(select(Customer.department_id).where(Customer.id == customer_id))


def customer(session: Session, customer_id: int) -> Customer | None:
    """A customer by id regardless of scope (to check a request for it), or None."""
    return session.get(Customer, customer_id)
