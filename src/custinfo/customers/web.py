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
from urllib.parse import parse_qsl, urlencode, urlsplit

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from custinfo.activity import service as activity
from custinfo.auth import service as accounts
from custinfo.auth.deps import DbSession, language_of, settings_of
from custinfo.auth.policy import Permission, Principal, can, require
from custinfo.auth.web import FormFields, WebUser, safe_next, web_user
from custinfo.classification import service as classification
from custinfo.classification.tag_quality import service as tag_quality
from custinfo.core.errors import Conflict, FieldError, Invalid, NotFound, NotPermitted
from custinfo.core.i18n import translate
from custinfo.core.pagination import page_count
from custinfo.customers import service
from custinfo.customers.fields import CONTACT_FIELDS, CUSTOMER_FIELDS, KINDS, NEED_FIELDS
from custinfo.customers.models import Customer
from custinfo.customers.repository import CustomerFilter, CustomerRow
from custinfo.customers.schemas import ChangeOut
from custinfo.protection import service as protection
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
    sort: Annotated[str | None, Query(max_length=30)] = None,
    reassign: Annotated[str | None, Query(max_length=20)] = None,
) -> HTMLResponse:
    """Customers in the caller's scope: search, filters, sorting, one page at a time, the count capped."""
    size = size if size in PAGE_SIZES else PAGE_SIZES[0]
    # An unknown sort key (an old bookmark, a hand-edited URL) is ignored with a note, never an error page.
    sort_ignored = bool(sort) and not service.is_sort_key(sort or "")
    sort = None if sort_ignored else (sort or None)
    filters = CustomerFilter(
        q=(q or "").strip() or None, kind=kind or None, industry=industry or None, owner=owner or None
    )
    tag = tag or None
    classification_code = (classification_code or "").strip() or None
    extra = classification.list_filters(session, tag, classification_code)
    rows, total, capped = service.list_customers(
        session, principal, filters, page, size, extra=extra, sort=sort
    )
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
        people_names=accounts.display_names(session, [r.owner for r in rows] + [filters.owner]),
        tag_choices=classification.list_tags(session),
        sort=sort,
        sort_ignored=sort_ignored,
        owner_choices=service.assignable_owners(session, principal),
        reassign_notice=reassign if reassign in REASSIGN_NOTICES else None,
    )
    response.headers["Vary"] = "HX-Request, HX-Target"
    return response


# The outcome of a bulk reassignment, shown on the list it returns to (a fixed set: never text from the URL).
REASSIGN_NOTICES = frozenset({"done", "none", "owner", "stale", "missing", "forbidden"})


async def selected_customers(request: Request) -> list[str]:
    """The ticked rows of the list form ("id:version" each; Starlette caches the parsed form)."""
    form = await request.form()
    return [value for value in form.getlist("customer") if isinstance(value, str)]


def _selection(values: list[str]) -> tuple[list[int], dict[int, int]]:
    """Customer ids and the versions the list showed them at, from "id:version" values."""
    ids: list[int] = []
    versions: dict[int, int] = {}
    for value in values:
        raw_id, _, raw_version = value.partition(":")
        if raw_id.isdigit() and len(raw_id) < 19:
            ids.append(int(raw_id))
            if raw_version.isdigit() and len(raw_version) < 10:
                versions[int(raw_id)] = int(raw_version)
    return ids, versions


def _back_to_list(back: str | None, notice: str, count: int | None = None) -> Response:
    """The list the reassignment was made from (its filters, sort and page), with the outcome."""
    target = safe_next(back, "/customers")
    parts = urlsplit(target)
    if parts.path != "/customers":
        target, parts = "/customers", urlsplit("/customers")
    kept = [
        (k, v)
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
        if k not in ("reassign", "count", "flash")
    ]
    kept.append(("reassign", notice))
    if count is not None:
        kept.append(("count", str(count)))
    return see_other(f"/customers?{urlencode(kept)}")


@router.post("/customers/reassign", response_class=HTMLResponse)
def reassign_customers(
    session: DbSession,
    principal: WebUser,
    form: FormFields,
    selected: Annotated[list[str], Depends(selected_customers)],
) -> Response:
    """Give the ticked customers to the chosen owner (all or none), then return to the same list."""
    require(principal, Permission.CUSTOMER_BULK_REASSIGN)
    ids, versions = _selection(selected)
    back = form.get("back")
    if not ids:
        return _back_to_list(back, "none")
    try:
        with saving(session):
            rows = service.reassign_customers(session, principal, ids, form.get("owner", ""), versions)
    except Invalid:
        return _back_to_list(back, "owner")
    except Conflict:
        return _back_to_list(back, "stale")
    except NotFound:
        session.rollback()
        return _back_to_list(back, "missing")
    except NotPermitted:
        session.rollback()
        return _back_to_list(back, "forbidden")
    return _back_to_list(back, "done", len(rows))


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
    changes = [
        ChangeOut.model_validate(c).model_copy(
            update={"changes": view.shape_changes(c.entity, c.changes, customer_id)}
        )
        for c in service.customer_history(tab.session, tab.principal, customer_id)
    ]
    # The history stores the owner and department by id: show them by name, like everywhere else.
    owner_ids = [v for c in changes for v in c.changes.get("owner_id", ())]
    usernames = accounts.usernames_by_id(tab.session, owner_ids)
    departments = accounts.department_names_by_id(
        tab.session, [v for c in changes for v in c.changes.get("department_id", ())]
    )
    for change in changes:
        for key, names, shown_as in (
            ("owner_id", usernames, "owner"),
            ("department_id", departments, "department"),
        ):
            if key in change.changes:
                pair = change.changes.pop(key)
                change.changes[shown_as] = [names.get(v, v) if isinstance(v, int) else v for v in pair]
    people = [c.actor for c in changes] + list(usernames.values())
    return {"changes": changes, "people_names": accounts.display_names(tab.session, people)}


# The customers domain's own tabs of the 360 page (others register theirs: see custinfo.web.tabs).
TABS = (
    CustomerTab("profile", 10, _profile_tab),
    CustomerTab("contacts", 30, _contacts_tab, shown_for=lambda customer: customer.kind == "company"),
    CustomerTab("needs", 40, _needs_tab),
    CustomerTab("history", 90, _history_tab),
)


def customer_summary(
    request: Request, session: Session, principal: Principal, customer_id: int
) -> dict[str, Any]:
    """The 360 summary: the year's order amount, last order and contact, the running contract, open requests.

    Each figure goes through the reader's field view like the tab it comes from (a hidden amount is
    not summed into view); open requests are the access requests for this customer the reader made
    or may decide, plus the open tag corrections about it the reader may see.
    """
    figures = activity.summary(session, principal, customer_id, settings_of(request).timezone)
    view = view_for(session, principal)
    orders = view.shape(
        "order", {"amount": figures.annual_amount, "ordered_on": figures.last_order_on}, customer_id
    )
    contact = view.shape("interaction", {"occurred_at": figures.last_contact_at}, customer_id)
    contract = figures.active_contract
    requests = protection.open_requests_for(session, principal, customer_id)
    if can(principal, Permission.TAG_CORRECT):
        requests += len(tag_quality.list_corrections(session, principal, "open", customer_id))
    shown_contract = shape_row(view, "contract", contract) if contract is not None else None
    withheld = {f"order.{name}" for name in orders.hidden} | {f"interaction.{n}" for n in contact.hidden}
    if not view.is_clear("contract", "ends_on"):
        withheld.add("contract")  # whether a contract runs is itself contract data the reader may not see
    return {
        "withheld": withheld,
        "annual_amount": orders["amount"],
        "last_order_on": orders["ordered_on"],
        "last_contact_at": contact["occurred_at"],
        "active_contract": shown_contract,
        "open_requests": requests,
    }


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
    # People by name (owner, and the actors and owners of the history tab) with the username on hover.
    context["people_names"] = {
        **accounts.display_names(session, [row.owner, row.customer.created_by, row.customer.updated_by]),
        **context.get("people_names", {}),
    }
    fragment = is_fragment_for(request, TAB_TARGET)
    if not fragment:
        context["summary"] = customer_summary(request, session, principal, customer_id)
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
        people_names=accounts.display_names(session, [state.values.get("owner"), row.owner if row else None]),
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
    act: Annotated[str | None, Query(max_length=20)] = None,
    row: Annotated[int | None, Query(ge=1)] = None,
) -> HTMLResponse:
    """The customer 360 page (客户画像); `act` and `row` open a row's inline form (edit, delete…)."""
    return show_customer(
        request,
        session,
        principal,
        customer_id,
        tab,
        edit_contact=edit,
        page=page,
        flash=flash,
        act=act,
        act_row=row,
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
        summary = customer_summary(request, session, principal, customer_id)
        return show_customer(request, session, principal, customer_id, tab, flash=flash, summary=summary)
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
