"""Customer use-cases: create, update, delete, contacts and the needs log.

Services validate everything first (collecting every field error), then write,
and only flush: the caller's unit of work commits, so nothing is half-saved.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import date, timedelta
from typing import Any

from sqlalchemy import ColumnElement, not_
from sqlalchemy.orm import Session

from custinfo.audit import service as audit_service
from custinfo.auth.policy import (
    Permission,
    Principal,
    can,
    customer_scope,
    in_natural_scope,
    may_read_clear,
    require,
)
from custinfo.auth.service import User, get_user, user_by_username  # the owner is an auth account
from custinfo.core import clock
from custinfo.core.errors import Conflict, FieldError, Invalid, NotFound, NotPermitted, RateLimited
from custinfo.core.fields import validate
from custinfo.core.pagination import PageParams, PageRows
from custinfo.core.uow import actor_of, record
from custinfo.core.versioning import check_version
from custinfo.customers import identifiers, repository
from custinfo.customers.fields import CONTACT_FIELDS, CUSTOMER_FIELDS, KINDS, NEED_FIELDS
from custinfo.customers.models import Contact, Customer, NeedEntry
from custinfo.customers.repository import BLIND_INDEXED, CustomerFilter, CustomerRow
from custinfo.customers.vocabulary import company_size_band
from custinfo.protection.events import SensitiveSearch
from custinfo.protection.views import FieldView, view_for

UNIQUE_IDENTIFIERS = ("external_id", "credit_code", "id_number")
MAX_SIZE = 200
# Exact L3 look-ups per user (searches and duplicate checks together) unless the field catalogue's
# `l3_lookups` sets {"limit": n, "window_minutes": m}: enough for a day's real work, far too few to
# rebuild an ID number from its mask and the birth year (about 33 guesses a year each).
L3_LOOKUP_LIMIT = 30
L3_LOOKUP_WINDOW_MINUTES = 10

__all__ = [
    "CustomerFilter",
    "CustomerRow",
    "add_contact",
    "add_need",
    "create_customer",
    "delete_contact",
    "delete_customer",
    "ensure_visible",
    "ensure_writable",
    "get_customer",
    "list_customers",
    "reassign_customers",
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
    sort: str | None = None,
) -> PageRows[CustomerRow]:
    """A page of the customers the principal may see, with the (capped) total.

    `extra` are predicates on customers that another domain supplied through the edge (a tag filter);
    `sort` is one of SORT_KEYS, "-" in front for descending (an unknown key is a 422).
    """
    require(principal, Permission.CUSTOMER_READ)
    params = PageParams(page, size)
    errors = params.problems(MAX_SIZE)
    if sort and not is_sort_key(sort):
        errors.append(FieldError("sort", "sort.unknown", {"allowed": ", ".join(SORT_KEYS)}))
    if filters.kind and filters.kind not in KINDS:
        errors.append(FieldError("kind", "vocabulary.unknown", {"allowed": ", ".join(KINDS)}))
    if errors:
        raise Invalid(errors)
    field = repository.l3_search_field(filters.q)
    if field is not None and field in clear_identifiers(session, principal):
        _count_l3_lookup(session, principal, field)
        filters = replace(filters, exact_l3=field)
        rows = repository.list_customers(session, principal, filters, params, extra, sort)
        record(session, SensitiveSearch(field=field, level="L3", purpose="search", matched=bool(rows[0])))
        return rows
    return repository.list_customers(session, principal, replace(filters, exact_l3=None), params, extra, sort)


SORT_KEYS = tuple(repository.SORT_COLUMNS)


def is_sort_key(sort: str) -> bool:
    """Whether `sort` names a sortable column ("name", or "-name" for descending)."""
    return sort.removeprefix("-") in repository.SORT_COLUMNS


def clear_identifiers(session: Session, principal: Principal) -> frozenset[str]:
    """The blind-indexed L3 fields the principal may read in clear, and so look up exactly or enter."""
    view = view_for(session, principal)
    return frozenset(name for name in BLIND_INDEXED if _may_read_clear(view, name))


def identifiers_entered_by_others(session: Session, principal: Principal) -> frozenset[str]:
    """The uniqueness-checked L3 fields this principal may not enter (a role that may reveal them does)."""
    return frozenset(UNIQUE_IDENTIFIERS) & BLIND_INDEXED - clear_identifiers(session, principal)


def _may_read_clear(view: FieldView, name: str) -> bool:
    rule = view.rule("customer", name)
    if rule is None:
        return False  # an identifier left out of the catalogue fails closed: nobody looks it up
    return may_read_clear(
        view.principal, rule.state, rule.level, view.catalogue.reveal_levels(view.principal.role)
    )


def _count_l3_lookup(session: Session, principal: Principal, field: str) -> None:
    """Refuse (429) an exact L3 look-up beyond the per-user limit; the audited look-ups are the count."""
    limit, minutes = l3_lookup_limit(view_for(session, principal).catalogue.document)
    done = audit_service.actions_by(
        session, principal.username, SensitiveSearch.name, timedelta(minutes=minutes)
    )
    if done >= limit:
        raise RateLimited("error.l3_lookup_limit", field=field, limit=limit, minutes=minutes)


def l3_lookup_limit(document: dict[str, Any]) -> tuple[int, int]:
    """(look-ups, minutes) from the catalogue's `l3_lookups`, the defaults for anything missing or unusable."""
    settings = document.get("l3_lookups")
    settings = settings if isinstance(settings, dict) else {}
    limit, minutes = settings.get("limit"), settings.get("window_minutes")
    return (
        limit if isinstance(limit, int) and not isinstance(limit, bool) and limit > 0 else L3_LOOKUP_LIMIT,
        minutes
        if isinstance(minutes, int) and not isinstance(minutes, bool) and minutes > 0
        else L3_LOOKUP_WINDOW_MINUTES,
    )


def get_customer(session: Session, principal: Principal, customer_id: int) -> CustomerRow:
    """One customer in the principal's scope, with owner and department names."""
    require(principal, Permission.CUSTOMER_READ)
    customer = repository.get_customer(session, principal, customer_id)
    owner, department = repository.owner_and_department(session, customer)
    return CustomerRow(customer, owner, department)


def ensure_visible(session: Session, principal: Principal, customer_id: int) -> None:
    """404 unless the customer exists and is in the principal's scope (the caller checked its own permission)."""
    repository.get_customer(session, principal, customer_id)


def id_by_external_id(session: Session, principal: Principal, external_id: str) -> int:
    """The id of the customer in scope with this external id (404 if none, or outside the scope)."""
    found = repository.customer_id_with(session, "external_id", external_id)
    if found is None:
        raise NotFound("error.customer_not_found", id=external_id)
    repository.get_customer(session, principal, found)
    return found


def ensure_writable(session: Session, principal: Principal, customer_id: int) -> None:
    """404 unless visible; 403 when only an access grant makes it so (read-only); else locked for the write."""
    _writable(session, principal, customer_id)


def _writable(session: Session, principal: Principal, customer_id: int) -> Customer:
    """The customer, locked for this transaction, if the caller may write it.

    Every write to a customer or one of its records takes the customer's row lock first, before
    anything that locks more widely (the audit chain head, re-classification): one lock order for
    all writers, so two requests on one customer wait for each other instead of deadlocking.
    """
    customer = repository.get_customer(session, principal, customer_id, for_update=True)
    if not in_natural_scope(principal, customer):
        raise NotPermitted("access.grant_read_only")
    return customer


def _check_identifier_entry(session: Session, principal: Principal, cleaned: dict[str, Any]) -> None:
    """Refuse (422) a uniqueness-checked L3 value from a caller who may not read it in clear.

    The duplicate check would answer "this ID number exists" to someone who sees it masked; so such
    a caller cannot enter it at all (the same answer for any value, before any look-up), and the
    role that may reveal it enters or corrects it.
    """
    allowed = clear_identifiers(session, principal)
    errors = [
        FieldError(column, "field.l3_entry")
        for column in UNIQUE_IDENTIFIERS
        if column in BLIND_INDEXED and cleaned.get(column) and column not in allowed
    ]
    if errors:
        raise Invalid(errors)


def _check_unique(
    session: Session, principal: Principal, cleaned: dict[str, Any], exclude_id: int | None
) -> None:
    errors = []
    for column in UNIQUE_IDENTIFIERS:
        if not cleaned.get(column):
            continue
        if column in BLIND_INDEXED:
            _count_l3_lookup(session, principal, column)
        found = repository.customer_id_with(session, column, cleaned[column], exclude_id)
        if column in BLIND_INDEXED:
            record(
                session,
                SensitiveSearch(
                    field=column, level="L3", purpose="duplicate_check", matched=found is not None
                ),
            )
        if found:
            errors.append(FieldError(column, "field.duplicate"))
    if errors:
        conflict = Conflict("error.duplicate", errors=errors)
        # Nothing is written before this check; the audit entry of the look-up must outlive the refusal.
        looked_up = any(cleaned.get(column) for column in UNIQUE_IDENTIFIERS if column in BLIND_INDEXED)
        raise conflict.keeping_writes() if looked_up else conflict


def _resolve_owner(session: Session, principal: Principal, username: str | None) -> User:
    """The caller (no owner named, or themselves on create), or the named owner if they may reassign."""
    if username is None or username == principal.username:
        return get_user(session, principal.user_id)
    return _reassign_to(session, principal, username)


def _reassign_to(session: Session, principal: Principal, username: str) -> User:
    """The new owner of a customer: always needs the reassign permission, the caller included."""
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
    _check_identifier_entry(session, principal, cleaned)
    _derive(kind, cleaned, None)
    owner = _resolve_owner(session, principal, cleaned.pop("owner", None))
    _check_unique(session, principal, cleaned, None)
    customer = Customer(kind=kind, owner_id=owner.id, department_id=owner.department_id, **cleaned)
    session.add(customer)
    session.flush()
    return CustomerRow(customer, owner.username, owner.department.name if owner.department else None)


def update_customer(
    session: Session, principal: Principal, customer_id: int, data: dict[str, Any]
) -> CustomerRow:
    """Apply a partial update; `version` is required and a stale one is refused with 409.

    A field the caller does not see in clear cannot be written, except an L3 field their role may
    reveal (or a level grant opens): that role may correct it, and the change is audited with the
    value masked like every change. Changing the owner (and so the department) needs the reassign
    permission even when the caller names themselves; an access grant never allows a write.
    """
    require(principal, Permission.CUSTOMER_UPDATE)
    customer = _writable(session, principal, customer_id)
    view = view_for(session, principal)
    view.require_writable(
        "customer",
        {k: v for k, v in data.items() if k not in ("kind", "version") and not _correctable(view, k)},
    )
    check_version(customer.version, data.get("version"))
    if data.get("kind") not in (None, customer.kind):
        raise Invalid([FieldError("kind", "field.immutable")])
    cleaned = validate(CUSTOMER_FIELDS, data, kind=customer.kind, partial=True, ignore=("kind", "version"))
    for required in ("name", "source_channel", "purpose"):
        if required in cleaned and cleaned[required] is None:
            raise Invalid([FieldError(required, "field.required")])
    _derive(customer.kind, cleaned, customer)
    new_owner: User | None = None
    if "owner" in cleaned:
        username = cleaned.pop("owner")
        current_owner, _ = repository.owner_and_department(session, customer)
        if username is not None and username != current_owner:
            new_owner = _reassign_to(session, principal, username)
    _check_unique(session, principal, cleaned, customer.id)
    if new_owner is not None:
        customer.owner_id, customer.department_id = new_owner.id, new_owner.department_id
    for key, value in cleaned.items():
        setattr(customer, key, value)
    session.flush()
    owner_name, department = repository.owner_and_department(session, customer)
    return CustomerRow(customer, owner_name, department)


def _correctable(view: FieldView, name: str) -> bool:
    """An L3 field the role may reveal (or a grant opens) though it is shown masked: it may be corrected."""
    rule = view.rule("customer", name)
    return rule is not None and rule.level == "L3" and _may_read_clear(view, name)


def delete_customer(session: Session, principal: Principal, customer_id: int, version: int | None) -> None:
    """Delete a customer and its children (history is kept); `version` is required."""
    require(principal, Permission.CUSTOMER_DELETE)
    customer = _writable(session, principal, customer_id)
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
    customer = _writable(session, principal, customer_id)
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
    _writable(session, principal, customer_id)
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
        cleaned["left_on"] = clock.today()
    if cleaned.get("in_post") is True:
        cleaned["left_on"] = None
    for key, value in cleaned.items():
        setattr(contact, key, value)
    session.flush()
    return contact


def delete_contact(
    session: Session, principal: Principal, customer_id: int, contact_id: int, version: int | None
) -> None:
    """Remove a contact entered by mistake (one who left should be marked, not deleted); `version` is required."""
    require(principal, Permission.CONTACT_WRITE)
    _writable(session, principal, customer_id)
    contact = repository.contact_of(session, customer_id, contact_id)
    check_version(contact.version, version)
    session.delete(contact)
    session.flush()


def list_needs(session: Session, principal: Principal, customer_id: int) -> list[NeedEntry]:
    """The needs log of a customer in scope, newest first."""
    require(principal, Permission.CUSTOMER_READ)
    repository.get_customer(session, principal, customer_id)
    return repository.needs_of(session, customer_id)


def add_need(session: Session, principal: Principal, customer_id: int, data: dict[str, Any]) -> NeedEntry:
    """Append a dated entry to the needs log (entries are never overwritten)."""
    require(principal, Permission.NEED_WRITE)
    _writable(session, principal, customer_id)
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


def companies_to_request(
    session: Session, principal: Principal, text: str, limit: int = 10
) -> list[Customer]:
    """Companies outside the caller's scope whose name contains `text` (two characters at least).

    For the access-request picker: a company's name is business data, so a requester may find the
    company they need access to by name; individuals' names are personal data and are never listed.
    """
    require(principal, Permission.ACCESS_REQUEST)
    cleaned = text.strip()
    if len(cleaned) < 2:
        return []
    return repository.companies_named(session, cleaned[:100], not_(customer_scope(principal)), limit)


MAX_REASSIGN = 500  # customers per bulk reassignment: a page of the list is at most 100


def assignable_owners(session: Session, principal: Principal) -> list[User]:
    """Whom the principal may give customers to: a head their department's sales users, an admin all."""
    if not can(principal, Permission.CUSTOMER_BULK_REASSIGN):
        return []
    department = None if principal.role == "admin" else principal.department_id
    if department is None and principal.role != "admin":
        return []
    return repository.assignable_owners(session, department)


def reassign_customers(
    session: Session,
    principal: Principal,
    customer_ids: Sequence[Any],
    owner: Any,
    versions: dict[int, int] | None = None,
) -> list[CustomerRow]:
    """Give every listed customer to `owner`, all or nothing, in the caller's transaction.

    Needs the bulk reassign permission; the new owner must be one the caller may assign to
    (`_reassign_to`: a head only within their department, only active sales staff or heads).
    Every customer must be in the caller's natural scope: one that is absent or out of scope
    makes the whole request a 404 (nothing is written); one whose `versions` entry is stale makes
    it a 409. Each customer's change is its own history and audit entry (a tracked update of owner
    and department).
    """
    require(principal, Permission.CUSTOMER_BULK_REASSIGN)
    errors: list[FieldError] = []
    ids: list[int] = []
    if not isinstance(customer_ids, list | tuple) or not customer_ids:
        errors.append(FieldError("customer_ids", "field.required"))
    elif len(customer_ids) > MAX_REASSIGN:
        errors.append(FieldError("customer_ids", "reassign.too_many", {"max": MAX_REASSIGN}))
    elif not all(isinstance(i, int) and not isinstance(i, bool) and 0 < i < 2**63 for i in customer_ids):
        errors.append(FieldError("customer_ids", "reassign.ids"))
    else:
        ids = sorted(set(customer_ids))
    if not isinstance(owner, str) or not owner.strip():
        errors.append(FieldError("owner", "field.required"))
    if errors:
        raise Invalid(errors)
    new_owner = _reassign_to(session, principal, str(owner).strip())
    # Lock in id order (one order for every writer), and check every customer before changing any.
    customers = [_writable(session, principal, customer_id) for customer_id in ids]
    for customer in customers:
        expected = (versions or {}).get(customer.id)
        if expected is not None:
            check_version(customer.version, expected)
    for customer in customers:
        customer.owner_id, customer.department_id = new_owner.id, new_owner.department_id
    session.flush()
    department = new_owner.department.name if new_owner.department else None
    return [CustomerRow(customer, new_owner.username, department) for customer in customers]
