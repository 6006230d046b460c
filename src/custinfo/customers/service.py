"""Customer use-cases: create, update, delete, contacts and the needs log.

Services validate everything first (collecting every field error), then write,
and only flush: the caller's unit of work commits, so nothing is half-saved.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement
from sqlalchemy.orm import Session

from custinfo.audit import service as audit_service
from custinfo.auth.policy import Permission, Principal, can, require
from custinfo.auth.service import User, get_user, user_by_username  # the owner is an auth account
from custinfo.core.errors import Conflict, FieldError, Invalid, NotFound
from custinfo.core.fields import validate
from custinfo.core.pagination import PageParams, PageRows
from custinfo.core.uow import actor_of
from custinfo.core.versioning import check_version
from custinfo.customers import identifiers, repository
from custinfo.customers.fields import CONTACT_FIELDS, CUSTOMER_FIELDS, KINDS, NEED_FIELDS
from custinfo.customers.models import Contact, Customer, NeedEntry
from custinfo.customers.repository import CustomerFilter, CustomerRow
from custinfo.customers.vocabulary import company_size_band
from custinfo.protection.views import view_for

UNIQUE_IDENTIFIERS = ("credit_code", "id_number")
MAX_SIZE = 200

__all__ = [
    "CustomerFilter",
    "CustomerRow",
    "add_contact",
    "add_need",
    "create_customer",
    "delete_contact",
    "delete_customer",
    "ensure_visible",
    "get_customer",
    "list_customers",
    "update_contact",
    "update_customer",
]


def list_customers(
    session: Session,
    principal: Principal,
    filters: CustomerFilter,
    page: int = 1,
    size: int = 20,
    *,
    extra: Sequence[ColumnElement[bool]] = (),
) -> PageRows[CustomerRow]:
    """A page of the customers the principal may see, with the (capped) total.

    `extra` are predicates on customers that another domain supplied through the edge (a tag filter).
    """
    require(principal, Permission.CUSTOMER_READ)
    params = PageParams(page, size)
    errors = params.problems(MAX_SIZE)
    if filters.kind and filters.kind not in KINDS:
        errors.append(FieldError("kind", "vocabulary.unknown", {"allowed": ", ".join(KINDS)}))
    if errors:
        raise Invalid(errors)
    return repository.list_customers(session, principal, filters, params, extra)


def get_customer(session: Session, principal: Principal, customer_id: int) -> CustomerRow:
    """One customer in the principal's scope, with owner and department names."""
    require(principal, Permission.CUSTOMER_READ)
    customer = repository.get_customer(session, principal, customer_id)
    owner, department = repository.owner_and_department(session, customer)
    return CustomerRow(customer, owner, department)


def ensure_visible(session: Session, principal: Principal, customer_id: int) -> None:
    """404 unless the customer exists and is in the principal's scope (the caller checked its own permission)."""
    repository.get_customer(session, principal, customer_id)


def _check_unique(session: Session, cleaned: dict[str, Any], exclude_id: int | None) -> None:
    errors = [
        FieldError(column, "field.duplicate")
        for column in UNIQUE_IDENTIFIERS
        if cleaned.get(column) and repository.customer_id_with(session, column, cleaned[column], exclude_id)
    ]
    if errors:
        raise Conflict("error.duplicate", errors=errors)


def _resolve_owner(session: Session, principal: Principal, username: str | None) -> User:
    if username is None or username == principal.username:
        return get_user(session, principal.user_id)
    if not can(principal, Permission.CUSTOMER_REASSIGN):
        raise Invalid([FieldError("owner", "owner.not_allowed")])
    try:
        owner = user_by_username(session, username)
    except NotFound:
        raise Invalid([FieldError("owner", "owner.unknown")]) from None
    if principal.role == "dept_head" and owner.department_id != principal.department_id:
        raise Invalid([FieldError("owner", "owner.other_department")])
    if owner.role not in ("sales", "dept_head") or not owner.is_active:
        raise Invalid([FieldError("owner", "owner.not_sales")])
    return owner


def _derive(kind: str, cleaned: dict[str, Any], current: Customer | None) -> None:
    """Fill birth date and gender from the ID number, and check they agree."""
    if kind != "individual" or not cleaned.get("id_number"):
        return
    from_id = identifiers.birth_date_from_id_number(cleaned["id_number"])
    given: date | None = cleaned.get("birth_date", current.birth_date if current else None)
    if given is not None and given != from_id:
        raise Invalid([FieldError("birth_date", "id_number.birth_mismatch")])
    cleaned["birth_date"] = from_id
    if not cleaned.get("gender") and not (current and current.gender):
        cleaned["gender"] = identifiers.gender_from_id_number(cleaned["id_number"])


def create_customer(session: Session, principal: Principal, data: dict[str, Any]) -> CustomerRow:
    """Validate and create a customer owned by the caller (or the named owner)."""
    require(principal, Permission.CUSTOMER_CREATE)
    kind = data.get("kind")
    if kind not in KINDS:
        raise Invalid([FieldError("kind", "vocabulary.unknown", {"allowed": ", ".join(KINDS)})])
    cleaned = validate(CUSTOMER_FIELDS, data, kind=kind, ignore=("kind", "version"))
    _derive(kind, cleaned, None)
    owner = _resolve_owner(session, principal, cleaned.pop("owner", None))
    _check_unique(session, cleaned, None)
    customer = Customer(kind=kind, owner_id=owner.id, department_id=owner.department_id, **cleaned)
    session.add(customer)
    session.flush()
    return CustomerRow(customer, owner.username, owner.department.name if owner.department else None)


def update_customer(
    session: Session, principal: Principal, customer_id: int, data: dict[str, Any]
) -> CustomerRow:
    """Apply a partial update; a stale `version` is refused with 409."""
    require(principal, Permission.CUSTOMER_UPDATE)
    customer = repository.get_customer(session, principal, customer_id)
    view_for(session, principal).require_writable(
        "customer", {k: v for k, v in data.items() if k not in ("kind", "version")}
    )
    check_version(customer.version, data.get("version"))
    if data.get("kind") not in (None, customer.kind):
        raise Invalid([FieldError("kind", "field.immutable")])
    cleaned = validate(CUSTOMER_FIELDS, data, kind=customer.kind, partial=True, ignore=("kind", "version"))
    for required in ("name", "source_channel", "purpose"):
        if required in cleaned and cleaned[required] is None:
            raise Invalid([FieldError(required, "field.required")])
    _derive(customer.kind, cleaned, customer)
    if "owner" in cleaned:
        username = cleaned.pop("owner")
        if username is not None:
            owner = _resolve_owner(session, principal, username)
            customer.owner_id, customer.department_id = owner.id, owner.department_id
    _check_unique(session, cleaned, customer.id)
    for key, value in cleaned.items():
        setattr(customer, key, value)
    session.flush()
    owner_name, department = repository.owner_and_department(session, customer)
    return CustomerRow(customer, owner_name, department)


def delete_customer(session: Session, principal: Principal, customer_id: int, version: int | None) -> None:
    """Delete a customer and its children (history is kept)."""
    require(principal, Permission.CUSTOMER_DELETE)
    customer = repository.get_customer(session, principal, customer_id)
    check_version(customer.version, version)
    session.delete(customer)
    session.flush()


def company_size(customer: Customer) -> str | None:
    """small / medium / large from the employee count."""
    return company_size_band(customer.employee_count)


def list_contacts(session: Session, principal: Principal, customer_id: int) -> list[Contact]:
    """Contacts of a customer in scope."""
    require(principal, Permission.CUSTOMER_READ)
    repository.get_customer(session, principal, customer_id)
    return repository.contacts_of(session, customer_id)


def _company(session: Session, principal: Principal, customer_id: int) -> Customer:
    customer = repository.get_customer(session, principal, customer_id)
    if customer.kind != "company":
        raise Invalid([FieldError("customer_id", "contact.company_only")])
    return customer


def add_contact(session: Session, principal: Principal, customer_id: int, data: dict[str, Any]) -> Contact:
    """Add a contact person to a company customer."""
    require(principal, Permission.CONTACT_WRITE)
    _company(session, principal, customer_id)
    cleaned = validate(CONTACT_FIELDS, data, kind="*", ignore=("version",))
    if cleaned.get("in_post") is None:
        cleaned["in_post"] = cleaned.get("left_on") is None
    contact = Contact(customer_id=customer_id, **cleaned)
    session.add(contact)
    session.flush()
    return contact


def update_contact(
    session: Session, principal: Principal, customer_id: int, contact_id: int, data: dict[str, Any]
) -> Contact:
    """Change a contact; marking them as left records the date and stops messages."""
    require(principal, Permission.CONTACT_WRITE)
    repository.get_customer(session, principal, customer_id)
    contact = repository.contact_of(session, customer_id, contact_id)
    view_for(session, principal).require_writable(
        "contact", {k: v for k, v in data.items() if k != "version"}
    )
    check_version(contact.version, data.get("version"))
    cleaned = validate(CONTACT_FIELDS, data, kind="*", partial=True, ignore=("version",))
    if "name" in cleaned and cleaned["name"] is None:
        raise Invalid([FieldError("name", "field.required")])
    if cleaned.get("in_post") is None:
        cleaned.pop("in_post", None)
    if cleaned.get("in_post") is False and not cleaned.get("left_on") and contact.left_on is None:
        cleaned["left_on"] = date.today()
    if cleaned.get("in_post") is True:
        cleaned["left_on"] = None
    for key, value in cleaned.items():
        setattr(contact, key, value)
    session.flush()
    return contact


def delete_contact(session: Session, principal: Principal, customer_id: int, contact_id: int) -> None:
    """Remove a contact entered by mistake (one who left should be marked, not deleted)."""
    require(principal, Permission.CONTACT_WRITE)
    repository.get_customer(session, principal, customer_id)
    session.delete(repository.contact_of(session, customer_id, contact_id))
    session.flush()


def list_needs(session: Session, principal: Principal, customer_id: int) -> list[NeedEntry]:
    """The needs log of a customer in scope, newest first."""
    require(principal, Permission.CUSTOMER_READ)
    repository.get_customer(session, principal, customer_id)
    return repository.needs_of(session, customer_id)


def add_need(session: Session, principal: Principal, customer_id: int, data: dict[str, Any]) -> NeedEntry:
    """Append a dated entry to the needs log (entries are never overwritten)."""
    require(principal, Permission.NEED_WRITE)
    repository.get_customer(session, principal, customer_id)
    cleaned = validate(NEED_FIELDS, data, kind="*")
    low, high = cleaned.get("budget_min"), cleaned.get("budget_max")
    if low is not None and high is not None and low > high:
        raise Invalid([FieldError("budget_max", "budget.range")])
    entry = NeedEntry(customer_id=customer_id, recorded_by=actor_of(session).username, **cleaned)
    session.add(entry)
    session.flush()
    return entry


def customer_history(session: Session, principal: Principal, customer_id: int) -> list[Any]:
    """The change history of a customer in scope (newest first)."""
    require(principal, Permission.CUSTOMER_READ)
    repository.get_customer(session, principal, customer_id)
    return audit_service.customer_history(session, customer_id)
