"""HTML pages of customers: list, the 360 view and its own tabs, create/edit/delete, contacts and needs.

Every page works without JavaScript (plain links and forms, redirect after a
successful POST); with HTMX the list table and the 360 tab pane are swapped in
place: a request whose `HX-Target` is the table or the pane gets only that
fragment back. Services decide scope and rights; this module only translates
between forms and service calls.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict
from typing import Annotated, Any, cast

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from custinfo.auth.deps import DbSession, language_of
from custinfo.auth.policy import Permission, Principal, can, require
from custinfo.auth.web import FormFields, WebUser, web_user
from custinfo.classification import service as classification
from custinfo.core.errors import Conflict, FieldError, Invalid
from custinfo.core.i18n import translate
from custinfo.core.pagination import page_count
from custinfo.customers import service
from custinfo.customers.fields import CONTACT_FIELDS, CUSTOMER_FIELDS, KINDS, NEED_FIELDS
from custinfo.customers.models import Customer
from custinfo.customers.repository import CustomerFilter, CustomerRow
from custinfo.customers.schemas import ChangeOut
from custinfo.protection.views import shape_row, view_for
from custinfo.web.forms import (
    FormField,
    FormState,
    form_field,
    form_state,
    page_window,
    pick,
    saving,
    version_of,
)
from custinfo.web.tabs import TAB_TARGET, CustomerTab, TabRequest, tab_context, tabs_for
from custinfo.web.templating import is_fragment_for, render, see_other

router = APIRouter(include_in_schema=False, dependencies=[Depends(web_user)])

PAGE_SIZES = (20, 50, 100)
TAB_PAGE_SIZE = 20
LIST_TARGET = "customer-results"


# Customer form layout: (section, fields). A field of CUSTOMER_FIELDS missing here lands in "more".
SECTIONS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("basic", ("name", "nickname", "gender", "birth_date", "id_number", "occupation", "credit_code")),
    (
        "business",
        ("legal_representative", "customer_type", "industry", "employee_count", "revenue_band", "founded_on"),
    ),
    ("contact", ("mobile", "email", "region", "address", "registered_address")),
    ("source", ("source_channel", "purpose", "owner")),
)
CONTACT_INPUTS = ["name", "title", "department", "mobile", "email"]  # in-post state has its own button


def customer_form_sections(
    kind: str, language: str, with_owner: bool, omitted: frozenset[str] = frozenset()
) -> list[tuple[str, list[FormField]]]:
    """The inputs of the customer form for a kind, grouped in sections (without the `omitted` fields)."""
    specs = {
        s.name: s
        for s in CUSTOMER_FIELDS
        if (s.kinds is None or kind in s.kinds) and s.name not in omitted and s.in_forms
    }
    if not with_owner:
        specs.pop("owner", None)
    grouped: dict[str, list[FormField]] = {}
    for section, names in SECTIONS:
        for name in names:
            if name in specs:
                grouped.setdefault(section, []).append(form_field(specs.pop(name), language, kind))
    for spec in specs.values():
        grouped.setdefault("more", []).append(form_field(spec, language, kind))
    return list(grouped.items())


def _customer_data(kind: str, form: dict[str, str], principal: Principal) -> dict[str, str]:
    """The submitted values of exactly the inputs the form shows for this kind and user."""
    sections = customer_form_sections(kind, "zh_CN", can(principal, Permission.CUSTOMER_REASSIGN))
    return {f.name: form.get(f.name, "") for _, fields in sections for f in fields}


# --- list -----------------------------------------------------------------------------------------------


# The columns the customer list displays: only these are read through the field view, so opening the
# list with a grant logs no sensitive read of fields the list never shows.
LIST_COLUMNS = ("id", "kind", "name", "region", "mobile", "industry", "updated_at", "version")


def shown(
    session: Session, principal: Principal, row: CustomerRow, only: Sequence[str] | None = None
) -> CustomerRow:
    """The row with its customer as the field view lets the caller see it (masked values, never clear)."""
    customer = shape_row(view_for(session, principal), "customer", row.customer, only)
    return CustomerRow(cast(Customer, customer), row.owner, row.department)


@router.get("/customers", response_class=HTMLResponse)
def customer_list(
    request: Request,
    session: DbSession,
    principal: WebUser,
    q: Annotated[str | None, Query(max_length=100)] = None,
    kind: str | None = None,
    industry: str | None = None,
    owner: Annotated[str | None, Query(max_length=64)] = None,
    tag: Annotated[str | None, Query(max_length=60)] = None,
    classification_code: Annotated[str | None, Query(max_length=200)] = None,
    page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
    size: int = PAGE_SIZES[0],
    flash: str | None = None,
) -> HTMLResponse:
    """Customers in the caller's scope: search, filters, one page at a time, the count capped."""
    size = size if size in PAGE_SIZES else PAGE_SIZES[0]
    filters = CustomerFilter(
        q=(q or "").strip() or None, kind=kind or None, industry=industry or None, owner=owner or None
    )
    tag = tag or None
    classification_code = (classification_code or "").strip() or None
    extra = classification.list_filters(session, tag, classification_code)
    rows, total, capped = service.list_customers(session, principal, filters, page, size, extra=extra)
    pages = page_count(total, size)
    template = "customers/_results.html" if is_fragment_for(request, LIST_TARGET) else "customers/list.html"
    response = render(
        request,
        template,
        rows=[shown(session, principal, r, LIST_COLUMNS) for r in rows],
        codes=classification.codes_of(session, [r.customer.id for r in rows]),
        filters={**asdict(filters), "tag": tag, "classification_code": classification_code},
        page=page,
        size=size,
        total=total,
        capped=capped,
        pages=pages,
        page_numbers=page_window(page, pages, capped),
        flash=flash,
        can_create=can(principal, Permission.CUSTOMER_CREATE),
        show_owner_filter=principal.role != "sales",
        tag_choices=classification.list_tags(session),
    )
    response.headers["Vary"] = "HX-Request, HX-Target"
    return response


# --- 360 view -------------------------------------------------------------------------------------------


def _contact_state(contacts: list[Any], contact_id: int | None) -> FormState | None:
    for contact in contacts:
        if contact.id == contact_id:
            return FormState({name: getattr(contact, name) or "" for name in CONTACT_INPUTS})
    return None


def _profile_tab(tab: TabRequest) -> dict[str, Any]:
    kind = tab.row.customer.kind
    return {"profile_sections": customer_form_sections(kind, language_of(tab.request), with_owner=True)}


def _contacts_tab(tab: TabRequest) -> dict[str, Any]:
    session, principal, language = tab.session, tab.principal, language_of(tab.request)
    contacts = service.list_contacts(session, principal, tab.row.customer.id)
    fields = [
        form_field(s, language, label_key="web.contact.name" if s.name == "name" else None)
        for s in CONTACT_FIELDS
        if s.name in CONTACT_INPUTS
    ]
    edit_state = tab.extra.get("edit_form") or _contact_state(contacts, tab.extra.get("edit_contact"))
    return {
        "contacts": [shape_row(view_for(session, principal), "contact", c) for c in contacts],
        "contact_fields": fields,
        "edit_form": edit_state,
        "can_write": can(principal, Permission.CONTACT_WRITE),
    }


def _needs_tab(tab: TabRequest) -> dict[str, Any]:
    session, principal = tab.session, tab.principal
    return {
        "needs": [
            shape_row(view_for(session, principal), "need", n)
            for n in service.list_needs(session, principal, tab.row.customer.id)
        ],
        "need_fields": [form_field(s, language_of(tab.request)) for s in NEED_FIELDS],
        "can_write": can(principal, Permission.NEED_WRITE),
    }


def _history_tab(tab: TabRequest) -> dict[str, Any]:
    # Through the field view, as the API's history: a value hidden elsewhere is not shown here either.
    customer_id = tab.row.customer.id
    view = view_for(tab.session, tab.principal)
    return {
        "changes": [
            ChangeOut.model_validate(c).model_copy(
                update={"changes": view.shape_changes(c.entity, c.changes, customer_id)}
            )
            for c in service.customer_history(tab.session, tab.principal, customer_id)
        ]
    }


# The customers domain's own tabs of the 360 page (others register theirs: see custinfo.web.tabs).
TABS = (
    CustomerTab("profile", 10, _profile_tab),
    CustomerTab("contacts", 30, _contacts_tab, shown_for=lambda customer: customer.kind == "company"),
    CustomerTab("needs", 40, _needs_tab),
    CustomerTab("history", 90, _history_tab),
)


def show_customer(
    request: Request,
    session: Session,
    principal: Principal,
    customer_id: int,
    tab: str = "profile",
    status_code: int = 200,
    **extra: Any,
) -> HTMLResponse:
    """The 360 page with the chosen tab (or only the tab pane, for HTMX)."""
    row = shown(session, principal, service.get_customer(session, principal, customer_id))
    tabs = tabs_for(row.customer)
    tab = tab if tab in tabs else "profile"
    context = {
        "row": row,
        "customer": row.customer,
        "tab": tab,
        "tabs": tabs,
        "can_edit": can(principal, Permission.CUSTOMER_UPDATE),
        "can_delete": can(principal, Permission.CUSTOMER_DELETE),
        "company_size": service.company_size(row.customer),
        "classification_code": classification.codes_of(session, [customer_id])[customer_id],
        # a reveal button only where the caller may use it (its role, or a grant)
        "masked_fields": view_for(session, principal).revealable(
            "customer", getattr(row.customer, "masked", [])
        ),
        **extra,
        **tab_context(tab, TabRequest(request, session, principal, row, extra)),
    }
    fragment = is_fragment_for(request, TAB_TARGET)
    template = "customers/_tab_fragment.html" if fragment else "customers/detail.html"
    return render(request, template, status_code=status_code, **context)


@router.get("/customers/new", response_class=HTMLResponse)
def new_customer(
    request: Request, session: DbSession, principal: WebUser, kind: str | None = None
) -> HTMLResponse:
    """The create form for a kind (or the choice of kind)."""
    require(principal, Permission.CUSTOMER_CREATE)
    if kind not in KINDS:
        return render(request, "customers/choose_kind.html")
    return _customer_form(request, session, principal, kind, FormState())


def _customer_form(
    request: Request,
    session: Session,
    principal: Principal,
    kind: str,
    state: FormState,
    row: CustomerRow | None = None,
    status_code: int = 200,
    submitted: dict[str, str] | None = None,
) -> HTMLResponse:
    # An ID number is entered by a role that may read it in clear: for anyone else its uniqueness
    # check would confirm a guessed number, so the input is not offered (docs/security.md).
    omitted = service.identifiers_entered_by_others(session, principal)
    return render(
        request,
        "customers/form.html",
        status_code=status_code,
        kind=kind,
        sections=customer_form_sections(
            kind, language_of(request), can(principal, Permission.CUSTOMER_REASSIGN), omitted
        ),
        entered_by_others=[
            translate(form_field(s, language_of(request), kind).label_key, language_of(request))
            for s in CUSTOMER_FIELDS
            if s.name in omitted and (s.kinds is None or kind in s.kinds)
        ],
        state=state,
        row=row,
        submitted=submitted,
        can_delete=row is not None and can(principal, Permission.CUSTOMER_DELETE),
    )


@router.post("/customers/new", response_class=HTMLResponse)
def create_customer(request: Request, session: DbSession, principal: WebUser, form: FormFields) -> Response:
    """Create a customer; invalid input brings the form back with the typed values and messages."""
    kind = form.get("kind", "")
    if kind not in KINDS:
        raise Invalid([FieldError("kind", "vocabulary.unknown", {"allowed": ", ".join(KINDS)})])
    data = _customer_data(kind, form, principal)
    try:
        with saving(session):
            row = service.create_customer(session, principal, {"kind": kind, **data})
    except (Invalid, Conflict) as error:
        state = form_state(error, data, language_of(request))
        return _customer_form(request, session, principal, kind, state, status_code=error.status)
    return see_other(f"/customers/{row.customer.id}?flash=created")


@router.get("/customers/{customer_id}", response_class=HTMLResponse)
def customer_detail(
    request: Request,
    session: DbSession,
    principal: WebUser,
    customer_id: int,
    tab: str = "profile",
    edit: int | None = None,
    page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
    flash: str | None = None,
) -> HTMLResponse:
    """The customer 360 page (客户画像)."""
    return show_customer(
        request, session, principal, customer_id, tab, edit_contact=edit, page=page, flash=flash
    )


def _current_values(row: CustomerRow, unreadable: frozenset[str] = frozenset()) -> dict[str, str]:
    # A field the user may not see in clear starts blank: blank means "unchanged" on save.
    values = {
        s.name: None if s.name in unreadable else getattr(row.customer, s.name, None)
        for s in CUSTOMER_FIELDS
        if s.name != "owner"
    }
    shown = {name: "" if value is None else str(value) for name, value in values.items()}
    shown["owner"] = row.owner or ""
    return shown


def _unreadable(session: Session, principal: Principal) -> frozenset[str]:
    return frozenset(view_for(session, principal).unreadable("customer", [s.name for s in CUSTOMER_FIELDS]))


@router.get("/customers/{customer_id}/edit", response_class=HTMLResponse)
def edit_customer(request: Request, session: DbSession, principal: WebUser, customer_id: int) -> HTMLResponse:
    """The edit form with the stored values and version."""
    require(principal, Permission.CUSTOMER_UPDATE)
    row = service.get_customer(session, principal, customer_id)
    values = _current_values(row, _unreadable(session, principal))
    return _customer_form(
        request, session, principal, row.customer.kind, FormState(values), shown(session, principal, row)
    )


@router.post("/customers/{customer_id}/edit", response_class=HTMLResponse)
def update_customer(
    request: Request, session: DbSession, principal: WebUser, customer_id: int, form: FormFields
) -> Response:
    """Save the edit form; a stale version shows the current values next to what was typed."""
    row = service.get_customer(session, principal, customer_id)
    kind, language = row.customer.kind, language_of(request)
    data = _customer_data(kind, form, principal)
    # An unchanged owner is left out, so editing other fields never re-validates the assignment; a blank
    # field the user may not see in clear means "unchanged" (it was rendered blank, never masked).
    unreadable = _unreadable(session, principal)
    changes = {
        k: v
        for k, v in data.items()
        if (k != "owner" or (v and v != row.owner)) and not (k in unreadable and not (v or "").strip())
    }
    try:
        with saving(session):
            service.update_customer(session, principal, customer_id, {**changes, "version": version_of(form)})
    except Conflict as error:
        if error.detail_key != "error.stale_version":
            return _customer_form(
                request, session, principal, kind, form_state(error, data, language), row, error.status
            )
        current = service.get_customer(session, principal, customer_id)
        values = _current_values(current, unreadable)
        state = form_state(error, {k: values.get(k, "") for k in data}, language)
        return _customer_form(request, session, principal, kind, state, current, error.status, submitted=data)
    except Invalid as error:
        return _customer_form(
            request, session, principal, kind, form_state(error, data, language), row, error.status
        )
    return see_other(f"/customers/{customer_id}?flash=saved")


@router.get("/customers/{customer_id}/delete", response_class=HTMLResponse)
def confirm_delete(
    request: Request, session: DbSession, principal: WebUser, customer_id: int
) -> HTMLResponse:
    """Ask before deleting a customer."""
    require(principal, Permission.CUSTOMER_DELETE)
    row = service.get_customer(session, principal, customer_id)
    return render(request, "customers/delete.html", row=row, customer=row.customer)


@router.post("/customers/{customer_id}/delete", response_class=HTMLResponse)
def delete_customer(session: DbSession, principal: WebUser, customer_id: int, form: FormFields) -> Response:
    """Delete the customer (its change history is kept) and return to the list."""
    service.delete_customer(session, principal, customer_id, version_of(form))
    return see_other("/customers?flash=deleted")


# --- child records: contacts and needs (activity and classification post to their own tabs) -----------------------------------


def tab_post(
    request: Request,
    session: Session,
    principal: Principal,
    customer_id: int,
    tab: str,
    action: Callable[[], object],
    values: dict[str, str],
    flash: str,
    state_key: str = "add_form",
    **extra: Any,
) -> Response:
    """Run a save from a tab's form; show the tab again with messages, or go on to the updated tab."""
    try:
        with saving(session):
            action()
    except (Invalid, Conflict) as error:
        state = form_state(error, values, language_of(request))
        context = {state_key: state, **extra}
        return show_customer(request, session, principal, customer_id, tab, error.status, **context)
    if is_fragment_for(request, TAB_TARGET):
        return show_customer(request, session, principal, customer_id, tab, flash=flash)
    return see_other(f"/customers/{customer_id}?tab={tab}&flash={flash}")


@router.post("/customers/{customer_id}/contacts", response_class=HTMLResponse)
def add_contact(
    request: Request, session: DbSession, principal: WebUser, customer_id: int, form: FormFields
) -> Response:
    """Add a contact person to a company customer."""
    values = pick(form, CONTACT_INPUTS)
    return tab_post(
        request,
        session,
        principal,
        customer_id,
        "contacts",
        lambda: service.add_contact(session, principal, customer_id, values),
        values,
        "contact_added",
    )


@router.post("/customers/{customer_id}/contacts/{contact_id}", response_class=HTMLResponse)
def update_contact(
    request: Request,
    session: DbSession,
    principal: WebUser,
    customer_id: int,
    contact_id: int,
    form: FormFields,
) -> Response:
    """Save a contact's edited details."""
    values = pick(form, CONTACT_INPUTS)
    data: dict[str, Any] = {**values, "version": version_of(form)}
    return tab_post(
        request,
        session,
        principal,
        customer_id,
        "contacts",
        lambda: service.update_contact(session, principal, customer_id, contact_id, data),
        values,
        "contact_saved",
        state_key="edit_form",
        edit_contact=contact_id,
    )


@router.post("/customers/{customer_id}/contacts/{contact_id}/in-post", response_class=HTMLResponse)
def set_contact_in_post(
    request: Request,
    session: DbSession,
    principal: WebUser,
    customer_id: int,
    contact_id: int,
    form: FormFields,
) -> Response:
    """Mark a contact as left (they stop receiving messages) or as back in post."""
    in_post = "true" if form.get("in_post") == "true" else "false"
    data: dict[str, Any] = {"in_post": in_post, "version": version_of(form)}
    return tab_post(
        request,
        session,
        principal,
        customer_id,
        "contacts",
        lambda: service.update_contact(session, principal, customer_id, contact_id, data),
        {},
        "contact_back" if in_post == "true" else "contact_left",
        state_key="status_form",
    )


@router.post("/customers/{customer_id}/needs", response_class=HTMLResponse)
def add_need(
    request: Request, session: DbSession, principal: WebUser, customer_id: int, form: FormFields
) -> Response:
    """Append an entry to the needs log."""
    values = pick(form, [s.name for s in NEED_FIELDS])
    return tab_post(
        request,
        session,
        principal,
        customer_id,
        "needs",
        lambda: service.add_need(session, principal, customer_id, values),
        values,
        "need_added",
    )
