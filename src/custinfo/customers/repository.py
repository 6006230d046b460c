"""All SQL of the customers domain; every customer query applies the policy's record scope."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Select, func, or_, select
from sqlalchemy.orm import Session

from custinfo.auth.models import Department, User
from custinfo.auth.policy import Principal, customer_scope
from custinfo.core.errors import NotFound
from custinfo.core.pagination import PageParams, PageRows, fetch_rows
from custinfo.customers.identifiers import InvalidValue, validate_id_number
from custinfo.customers.models import Contact, Customer, NeedEntry
from custinfo.security.encrypted import blind_index

# Encrypted identifiers are found through their keyed blind index, never by comparing ciphertext.
BLIND_INDEXED = frozenset({"id_number", "bank_account"})
_BANK_ACCOUNT = re.compile(r"[0-9]{12,30}")


@dataclass(frozen=True)
class CustomerFilter:
    """List filters the customers domain knows: free-text `q`, kind, industry, owner username, department id.

    Filters other domains own (a tag, a classification code, a segment) arrive as SQL predicates
    from the edge, which asks the owning domain for them. `exact_l3` names the L3 field `q` is
    looked up in through its blind index; the service sets it only for a caller who may read that
    field in clear (and has audited the search). Without it `q` is plain text and never matches an
    L3 value: no keyed hash is computed and no blind index is probed.
    """

    q: str | None = None
    kind: str | None = None
    industry: str | None = None
    owner: str | None = None
    department_id: int | None = None
    exact_l3: str | None = None
    external_id: str | None = None


@dataclass(frozen=True)
class CustomerRow:
    """A customer with the owner's username and department name joined in."""

    customer: Customer
    owner: str | None
    department: str | None


def _escape_like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def scoped(principal: Principal) -> Select[Customer]:
    """SELECT over the customers the principal may see."""
    return select(Customer).where(customer_scope(principal))


def _compact(q: str) -> str:
    return q.strip().replace(" ", "").replace("-", "").lstrip("+")


def l3_search_field(q: str | None) -> str | None:
    """The L3 field an exact search for `q` would look in (by the shape of q alone), or None."""
    if not q:
        return None
    compact = _compact(q)
    if _as_id_number(compact) is not None:
        return "id_number"
    if _BANK_ACCOUNT.fullmatch(compact) and not _mobile_shaped(compact):
        return "bank_account"
    return None


def _mobile_shaped(compact: str) -> bool:
    return compact.isdigit() and (
        7 <= len(compact) <= 11 or (len(compact) == 13 and compact.startswith("86"))
    )


def _search(stmt: Select[Customer], q: str, exact_l3: str | None) -> Select[Customer]:
    """Match by the shape of q, so a phone or email search uses its index instead of scanning names."""
    q = q.strip()
    compact = _compact(q)
    if _mobile_shaped(compact):
        digits = compact[-11:]
        if len(digits) == 11:
            return stmt.where(Customer.mobile == digits)
        # A range, not LIKE: SQLite's LIKE is case-insensitive and so never uses the plain index.
        upper = digits[:-1] + chr(ord(digits[-1]) + 1)
        return stmt.where(Customer.mobile >= digits, Customer.mobile < upper)
    if "@" in q:
        return stmt.where(Customer.email == q.lower())
    name_matches = func.lower(Customer.name).like(f"%{_escape_like(q.lower())}%", escape="\\")
    id_number = _as_id_number(compact) if exact_l3 == "id_number" else None
    if id_number is not None:
        by_index = Customer.id_number_bidx == blind_index(id_number, "customers.id_number")
        return stmt.where(or_(by_index, Customer.credit_code == compact.upper()))
    if exact_l3 == "bank_account" and _BANK_ACCOUNT.fullmatch(compact):
        by_account = Customer.bank_account_bidx == blind_index(compact, "customers.bank_account")
        return stmt.where(or_(by_account, name_matches))
    if len(compact) == 18 and compact.isalnum():
        return stmt.where(or_(Customer.credit_code == compact.upper(), name_matches))
    return stmt.where(name_matches)


def _as_id_number(text: str) -> str | None:
    """The normalised resident ID number if `text` is one (so the search goes through the blind index)."""
    if len(text) != 18:
        return None
    try:
        return validate_id_number(text.upper())
    except InvalidValue:
        return None


def _filtered(principal: Principal, filters: CustomerFilter) -> Select[Customer]:
    stmt = scoped(principal)
    if filters.q:
        stmt = _search(stmt, filters.q, filters.exact_l3)
    if filters.kind:
        stmt = stmt.where(Customer.kind == filters.kind)
    if filters.industry:
        stmt = stmt.where(Customer.industry == filters.industry)
    if filters.owner:
        stmt = stmt.where(
            Customer.owner_id == select(User.id).where(User.username == filters.owner).scalar_subquery()
        )
    if filters.department_id:
        stmt = stmt.where(Customer.department_id == filters.department_id)
    if filters.external_id:
        stmt = stmt.where(Customer.external_id == filters.external_id)
    return stmt


# Sort keys of the list → the column; each has an index led by it and ending in id, so a page in that
# order (id breaking ties) is read from the index instead of sorting every match.
SORT_COLUMNS: dict[str, Any] = {
    "name": Customer.name,
    "kind": Customer.kind,
    "industry": Customer.industry,
    "updated_at": Customer.updated_at,
    "id": Customer.id,
}


def sort_order(sort: str | None) -> tuple[Any, ...]:
    """ORDER BY of a checked sort key ("name" ascending, "-name" descending); newest first by default."""
    if not sort:
        return (Customer.id.desc(),)
    descending = sort.startswith("-")
    column = SORT_COLUMNS[sort.lstrip("-")]
    if column is Customer.id:
        return (column.desc() if descending else column.asc(),)
    if descending:
        return (column.desc(), Customer.id.desc())
    return (column.asc(), Customer.id.asc())


def list_customers(
    session: Session,
    principal: Principal,
    filters: CustomerFilter,
    params: PageParams,
    extra: Sequence[ColumnElement[bool]] = (),
    sort: str | None = None,
) -> PageRows[CustomerRow]:
    """One page (newest first, or by `sort`) and the match count, counted up to TOTAL_CAP."""
    stmt = (
        _filtered(principal, filters)
        .where(*extra)
        .add_columns(User.username, Department.name)
        .outerjoin(User, User.id == Customer.owner_id)
        .outerjoin(Department, Department.id == Customer.department_id)
    )
    rows, total, capped = fetch_rows(session, stmt, params, order_by=sort_order(sort))
    return [CustomerRow(c, owner, dept) for c, owner, dept in rows], total, capped


def get_customer(
    session: Session, principal: Principal, customer_id: int, for_update: bool = False
) -> Customer:
    """The customer if it exists and is in scope; otherwise 404.

    `for_update` holds the row until commit (FOR NO KEY UPDATE on PostgreSQL, the lock an ordinary
    UPDATE takes; nothing on SQLite, where writers take turns) and re-reads it, so writes to one
    customer and its children queue up instead of interleaving.
    """
    stmt = scoped(principal).where(Customer.id == customer_id)
    if for_update:
        stmt = stmt.with_for_update(key_share=True).execution_options(populate_existing=True)
    customer = session.scalar(stmt)
    if customer is None:
        raise NotFound("error.customer_not_found", id=customer_id)
    return customer


def owner_and_department(session: Session, customer: Customer) -> tuple[str | None, str | None]:
    """Username of the owner and name of the department of a customer."""
    owner = session.get(User, customer.owner_id) if customer.owner_id else None
    department = session.get(Department, customer.department_id) if customer.department_id else None
    return (owner.username if owner else None, department.name if department else None)


def customer_id_with(session: Session, column: str, value: str, exclude_id: int | None = None) -> int | None:
    """Id of any customer (regardless of scope) holding this unique identifier (encrypted ones by blind index)."""
    if column in BLIND_INDEXED:
        stmt = select(Customer.id).where(
            getattr(Customer, f"{column}_bidx") == blind_index(value, f"customers.{column}")
        )
    else:
        stmt = select(Customer.id).where(getattr(Customer, column) == value)
    if exclude_id is not None:
        stmt = stmt.where(Customer.id != exclude_id)
    return session.scalar(stmt.limit(1))


def contacts_of(session: Session, customer_id: int) -> list[Contact]:
    """Contacts of a customer, those in post first."""
    stmt = (
        select(Contact).where(Contact.customer_id == customer_id).order_by(Contact.in_post.desc(), Contact.id)
    )
    return list(session.scalars(stmt))


def contact_of(session: Session, customer_id: int, contact_id: int) -> Contact:
    """One contact of a customer (404 if it belongs to another)."""
    contact = session.scalar(
        select(Contact).where(Contact.id == contact_id, Contact.customer_id == customer_id)
    )
    if contact is None:
        raise NotFound("error.not_found")
    return contact


def needs_of(session: Session, customer_id: int) -> list[NeedEntry]:
    """The needs log, newest first."""
    stmt = (
        select(NeedEntry)
        .where(NeedEntry.customer_id == customer_id)
        .order_by(NeedEntry.recorded_at.desc(), NeedEntry.id.desc())
    )
    return list(session.scalars(stmt))


def companies_named(session: Session, text: str, outside: ColumnElement[bool], limit: int) -> list[Customer]:
    """Company customers whose name contains `text`, among those matching `outside`, by name."""
    pattern = f"%{_escape_like(text)}%"
    stmt = (
        select(Customer)
        .where(Customer.kind == "company", Customer.name.like(pattern, escape="\\"), outside)
        .order_by(Customer.name, Customer.id)
        .limit(limit)
    )
    return list(session.scalars(stmt))


def assignable_owners(session: Session, department_id: int | None) -> list[User]:
    """Active sales users (of one department when given), by display name: who customers may be given to."""
    stmt = select(User).where(User.role == "sales", User.is_active.is_(True))
    if department_id is not None:
        stmt = stmt.where(User.department_id == department_id)
    return list(session.scalars(stmt.order_by(User.display_name, User.username)))
