"""HTML of the activity domain: the orders, contracts and interactions tabs of the customer 360 page.

Each tab lists one page of the customer's records and has an add form drawn
from the same field specs the service validates with; a refused save shows
the tab again with each message under its input.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from custinfo.activity import service
from custinfo.activity.fields import (
    CONTRACT_FIELDS,
    ORDER_FIELDS,
    RENEWAL_FIELDS,
    TERMINATION_FIELDS,
    interaction_fields,
)
from custinfo.auth.deps import DbSession, language_of, settings_of
from custinfo.auth.policy import Permission, Principal, can
from custinfo.auth.web import FormFields, WebUser, web_user
from custinfo.core.errors import Conflict, Invalid, NotFound
from custinfo.core.fields import FieldSpec
from custinfo.core.pagination import PageRows, page_count
from custinfo.customers.web import show_customer, tab_post
from custinfo.protection.views import FieldView, shape_row, view_for
from custinfo.web.forms import FormField, FormState, form_field, form_state, pick, saving, version_of
from custinfo.web.tabs import CustomerTab, TabRequest

router = APIRouter(include_in_schema=False, dependencies=[Depends(web_user)])

TAB_PAGE_SIZE = 20
# Activity fields whose vocabulary (and label) is named differently from the field.
ACTIVITY_VOCABULARY = {
    "status": "contract_status",
    "kind": "interaction_kind",
    "channel": "interaction_channel",
}
ACTIVITY_LABELS = {"title": "web.contract.title", "kind": "web.interaction.kind"}


@dataclass(frozen=True)
class ActivityTab:
    """An activity tab: its record kind, fields, the permission to add, and the service calls.

    `lister`, `creator`, `getter`, `updater` and `deleter` are the service's functions; a `zoned`
    tab's list, create and update take the time zone too (before the customer id, after the data).
    `edit_permission` is what changing or deleting a row needs (service staff add interactions only).
    """

    name: str
    record: str  # the field-view entity of its rows
    permission: Permission
    specs: Callable[[str], tuple[FieldSpec, ...]]
    lister: Callable[..., PageRows[Any]]
    creator: Callable[..., Any]
    getter: Callable[..., Any]
    updater: Callable[..., Any]
    deleter: Callable[..., None]
    edit_permission: Permission
    zoned: bool = False

    def zone_args(self, zone: str) -> tuple[str, ...]:
        """The time-zone argument the service calls of this tab take (none when not zoned)."""
        return (zone,) if self.zoned else ()


ACTIVITY_TABS = {
    tab.name: tab
    for tab in (
        ActivityTab(
            "orders",
            "order",
            Permission.ORDER_WRITE,
            lambda _zone: ORDER_FIELDS,
            service.list_orders,
            service.create_order,
            service.get_order,
            service.update_order,
            service.delete_order,
            Permission.ORDER_WRITE,
        ),
        ActivityTab(
            "contracts",
            "contract",
            Permission.CONTRACT_WRITE,
            lambda _zone: CONTRACT_FIELDS,
            service.list_contracts,
            service.create_contract,
            service.get_contract,
            service.update_contract,
            service.delete_contract,
            Permission.CONTRACT_WRITE,
        ),
        ActivityTab(
            "interactions",
            "interaction",
            Permission.INTERACTION_CREATE,
            interaction_fields,
            service.list_interactions,
            service.create_interaction,
            service.get_interaction,
            service.update_interaction,
            service.delete_interaction,
            Permission.INTERACTION_WRITE,
            zoned=True,
        ),
    )
}


def activity_form_fields(tab: str, language: str, zone: str) -> list[FormField]:
    """Inputs of the add form of an activity tab."""
    return [
        form_field(spec, language, "*", ACTIVITY_VOCABULARY.get(spec.name), ACTIVITY_LABELS.get(spec.name))
        for spec in ACTIVITY_TABS[tab].specs(zone)
        if spec.in_forms
    ]


def _activity_tab(name: str, tab: TabRequest) -> dict[str, Any]:
    spec = ACTIVITY_TABS[name]
    zone = settings_of(tab.request).timezone
    page = max(1, int(tab.extra.get("page") or 1))
    customer_id = tab.row.customer.id
    items, total, capped = spec.lister(
        tab.session,
        tab.principal,
        *spec.zone_args(zone),
        customer_id,
        page=page,
        size=TAB_PAGE_SIZE,
        customer_must_exist=True,
    )
    view = view_for(tab.session, tab.principal)
    language = language_of(tab.request)
    context: dict[str, Any] = {
        "items": [shape_row(view, spec.record, item) for item in items],
        "total": total,
        "capped": capped,
        "page": page,
        "pages": page_count(total, TAB_PAGE_SIZE),
        "activity_fields": activity_form_fields(name, language, zone),
        "can_write": can(tab.principal, spec.permission),
        "can_edit": can(tab.principal, spec.edit_permission),
        "act": tab.extra.get("act"),
        "act_row": tab.extra.get("act_row"),
    }
    if name == "contracts":
        found = service.renewals_of(tab.session, [item.id for item in items])
        context["renewals"] = {cid: [renewal_view(view, r) for r in rs] for cid, rs in found.items()}
    act, row_id = tab.extra.get("act"), tab.extra.get("act_row")
    if context["can_edit"] and act in ACTS and row_id is not None:
        row = next((item for item in items if item.id == row_id), None)
        if row is not None:
            context.update(_act_context(name, act, row, view, language, zone, tab.extra.get("act_form")))
    return context


ACTS = ("edit", "delete", "renew", "terminate")


def _input_value(value: Any, zone: str) -> str:
    """A stored value as an input shows it: dates ISO, money plain, times local to the minute."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%dT%H:%M")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    return str(value)


def edit_fields(tab: str, view: FieldView, language: str, zone: str) -> list[FormField]:
    """Inputs of a row's edit form: only fields the caller sees in clear, so a save never blanks one."""
    spec = ACTIVITY_TABS[tab]
    fields = activity_form_fields(tab, language, zone)
    unreadable = set(view.unreadable(spec.record, [f.name for f in fields]))
    return [f for f in fields if f.name not in unreadable]


def renewal_fields(language: str) -> list[FormField]:
    """Inputs of the renewal form: the new end date and the new amount."""
    labels = {"ends_on": "web.contract.new_ends_on", "amount": "web.contract.new_amount"}
    return [form_field(s, language, "*", label_key=labels[s.name]) for s in RENEWAL_FIELDS]


def termination_fields(language: str) -> list[FormField]:
    """Inputs of the termination form: the day and the reason."""
    day, _reason = TERMINATION_FIELDS
    return [
        form_field(day, language, "*"),
        FormField("reason", "textarea", "field.termination_reason", required=True, wide=True),
    ]


def _act_context(
    tab: str, act: str, row: Any, view: FieldView, language: str, zone: str, state: FormState | None
) -> dict[str, Any]:
    """The inline form of one row: edit (current values), delete (a confirmation), renew or terminate."""
    if act == "edit":
        fields = edit_fields(tab, view, language, zone)
        initial = FormState({f.name: _input_value(getattr(row, f.name), zone) for f in fields})
        return {"act_fields": fields, "act_state": state or initial}
    if act == "renew" and tab == "contracts":
        return {"act_fields": renewal_fields(language), "act_state": state or FormState()}
    if act == "terminate" and tab == "contracts":
        return {"act_fields": termination_fields(language), "act_state": state or FormState()}
    return {"act_fields": [], "act_state": state}


def renewal_view(view: FieldView, renewal: Any) -> dict[str, Any]:
    """A renewal entry as the caller may see it (its dates and amounts follow the contract fields' rules)."""
    after = view.shape("contract", {"ends_on": renewal.ends_on, "amount": renewal.amount}, None)
    before = view.shape(
        "contract", {"ends_on": renewal.previous_ends_on, "amount": renewal.previous_amount}, None
    )
    return {
        "renewed_on": renewal.renewed_on,
        "renewed_by": renewal.created_by,
        "previous_ends_on": before["ends_on"],
        "ends_on": after["ends_on"],
        "previous_amount": before["amount"],
        "amount": after["amount"],
    }


def _engagement_tab(tab: TabRequest) -> dict[str, Any]:
    """The browsing log: one page of events, newest first, through the reader's field view."""
    page = max(1, int(tab.extra.get("page") or 1))
    zone = settings_of(tab.request).timezone
    items, total, capped = service.list_engagement(
        tab.session, tab.principal, zone, tab.row.customer.id, page=page, size=TAB_PAGE_SIZE
    )
    view = view_for(tab.session, tab.principal)
    return {
        "items": [shape_row(view, "engagement", item) for item in items],
        "total": total,
        "capped": capped,
        "page": page,
        "pages": page_count(total, TAB_PAGE_SIZE),
    }


TABS = (
    CustomerTab("orders", 50, partial(_activity_tab, "orders")),
    CustomerTab("contracts", 60, partial(_activity_tab, "contracts")),
    CustomerTab("interactions", 70, partial(_activity_tab, "interactions")),
    CustomerTab("engagement", 75, _engagement_tab),
)


def _add(
    request: Request, session: Session, principal: Principal, customer_id: int, tab: str, form: FormFields
) -> Response:
    zone = settings_of(request).timezone
    spec = ACTIVITY_TABS[tab]
    values = pick(form, [s.name for s in spec.specs(zone)])
    data = {**values, "customer_id": customer_id}
    return tab_post(
        request,
        session,
        principal,
        customer_id,
        tab,
        lambda: spec.creator(session, principal, data, *spec.zone_args(zone)),
        values,
        f"{tab}_added",
    )


@router.post("/customers/{customer_id}/orders", response_class=HTMLResponse)
def add_order(
    request: Request, session: DbSession, principal: WebUser, customer_id: int, form: FormFields
) -> Response:
    """Record an order of the customer."""
    return _add(request, session, principal, customer_id, "orders", form)


@router.post("/customers/{customer_id}/contracts", response_class=HTMLResponse)
def add_contract(
    request: Request, session: DbSession, principal: WebUser, customer_id: int, form: FormFields
) -> Response:
    """Record a contract of the customer."""
    return _add(request, session, principal, customer_id, "contracts", form)


@router.post("/customers/{customer_id}/interactions", response_class=HTMLResponse)
def add_interaction(
    request: Request, session: DbSession, principal: WebUser, customer_id: int, form: FormFields
) -> Response:
    """Record a visit, call, consultation, complaint or after-sales contact."""
    return _add(request, session, principal, customer_id, "interactions", form)


# --- edit, delete, renew, terminate one row -------------------------------------------------------


def _own_row(session: Session, principal: Principal, tab: str, customer_id: int, row_id: int) -> Any:
    """The row if it belongs to this customer (and is in scope); another customer's row is absent."""
    row = ACTIVITY_TABS[tab].getter(session, principal, row_id)
    if row.customer_id != customer_id:
        raise _absent(tab, row_id)
    return row


def _absent(tab: str, row_id: int) -> NotFound:
    return NotFound(f"error.{ACTIVITY_TABS[tab].record}_not_found", id=row_id)


def _row_post(
    request: Request,
    session: Session,
    principal: Principal,
    customer_id: int,
    tab: str,
    row_id: int,
    act: str,
    action: Callable[[], object],
    values: dict[str, str],
    flash: str,
) -> Response:
    """Run a row's save; a refusal re-opens the row's form, a stale version shows the current values."""
    try:
        with saving(session):
            _own_row(session, principal, tab, customer_id, row_id)
            action()
    except Conflict as error:
        if error.detail_key != "error.stale_version" or act != "edit":
            return _reshow(request, session, principal, customer_id, tab, row_id, act, error, values)
        # Someone saved this row meanwhile: show its current values, what was typed beside each.
        return show_customer(
            request,
            session,
            principal,
            customer_id,
            tab,
            error.status,
            act="edit",
            act_row=row_id,
            act_form=None,
            stale_form=True,
            submitted=values,
        )
    except Invalid as error:
        return _reshow(request, session, principal, customer_id, tab, row_id, act, error, values)
    return tab_post(request, session, principal, customer_id, tab, lambda: None, {}, flash)


def _reshow(
    request: Request,
    session: Session,
    principal: Principal,
    customer_id: int,
    tab: str,
    row_id: int,
    act: str,
    error: Invalid | Conflict,
    values: dict[str, str],
) -> Response:
    state = form_state(error, values, language_of(request))
    return show_customer(
        request, session, principal, customer_id, tab, error.status, act=act, act_row=row_id, act_form=state
    )


def _edit(
    request: Request,
    session: Session,
    principal: Principal,
    customer_id: int,
    tab: str,
    row_id: int,
    form: FormFields,
) -> Response:
    zone = settings_of(request).timezone
    spec = ACTIVITY_TABS[tab]
    view = view_for(session, principal)
    names = [f.name for f in edit_fields(tab, view, language_of(request), zone)]
    values = pick(form, names)
    data: dict[str, Any] = {**values, "version": version_of(form)}
    return _row_post(
        request,
        session,
        principal,
        customer_id,
        tab,
        row_id,
        "edit",
        lambda: spec.updater(session, principal, row_id, data, *spec.zone_args(zone)),
        values,
        f"{tab}_saved",
    )


def _delete(
    request: Request,
    session: Session,
    principal: Principal,
    customer_id: int,
    tab: str,
    row_id: int,
    form: FormFields,
) -> Response:
    spec = ACTIVITY_TABS[tab]
    version = version_of(form)
    return _row_post(
        request,
        session,
        principal,
        customer_id,
        tab,
        row_id,
        "delete",
        lambda: spec.deleter(session, principal, row_id, version),
        {},
        f"{tab}_deleted",
    )


def _register_row_routes(tab: str) -> None:
    """POST routes to edit and delete one row of a tab (forms only: HTML has no PATCH or DELETE)."""

    def edit(
        request: Request,
        session: DbSession,
        principal: WebUser,
        customer_id: int,
        row_id: int,
        form: FormFields,
    ) -> Response:
        return _edit(request, session, principal, customer_id, tab, row_id, form)

    def delete(
        request: Request,
        session: DbSession,
        principal: WebUser,
        customer_id: int,
        row_id: int,
        form: FormFields,
    ) -> Response:
        return _delete(request, session, principal, customer_id, tab, row_id, form)

    edit.__doc__ = f"Save the edited row of the {tab} tab (with the version it was read at)."
    delete.__doc__ = f"Delete a row of the {tab} tab after confirmation (with its version)."
    router.add_api_route(f"/customers/{{customer_id}}/{tab}/{{row_id}}", edit, methods=["POST"])
    router.add_api_route(f"/customers/{{customer_id}}/{tab}/{{row_id}}/delete", delete, methods=["POST"])


for _tab in ACTIVITY_TABS:
    _register_row_routes(_tab)


@router.post("/customers/{customer_id}/contracts/{row_id}/renew", response_class=HTMLResponse)
def renew_contract(
    request: Request, session: DbSession, principal: WebUser, customer_id: int, row_id: int, form: FormFields
) -> Response:
    """Renew a contract: new end date and amount, kept as a dated entry."""
    values = pick(form, [s.name for s in RENEWAL_FIELDS])
    data: dict[str, Any] = {**values, "version": version_of(form)}
    zone = settings_of(request).timezone
    return _row_post(
        request,
        session,
        principal,
        customer_id,
        "contracts",
        row_id,
        "renew",
        lambda: service.renew_contract(session, principal, row_id, data, zone),
        values,
        "contract_renewed",
    )


@router.post("/customers/{customer_id}/contracts/{row_id}/terminate", response_class=HTMLResponse)
def terminate_contract(
    request: Request, session: DbSession, principal: WebUser, customer_id: int, row_id: int, form: FormFields
) -> Response:
    """Terminate a contract on a day, with the reason."""
    values = pick(form, ["terminated_on", "reason"])
    data: dict[str, Any] = {**values, "version": version_of(form)}
    return _row_post(
        request,
        session,
        principal,
        customer_id,
        "contracts",
        row_id,
        "terminate",
        lambda: service.terminate_contract(session, principal, row_id, data),
        values,
        "contract_terminated",
    )
