"""HTML of the activity domain: the orders, contracts and interactions tabs of the customer 360 page.

Each tab lists one page of the customer's records and has an add form drawn
from the same field specs the service validates with; a refused save shows
the tab again with each message under its input.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from custinfo.activity import service
from custinfo.activity.fields import CONTRACT_FIELDS, ORDER_FIELDS, interaction_fields
from custinfo.auth.deps import DbSession, language_of, settings_of
from custinfo.auth.policy import Permission, Principal, can
from custinfo.auth.web import FormFields, WebUser, web_user
from custinfo.core.fields import FieldSpec
from custinfo.core.pagination import PageRows, page_count
from custinfo.customers.web import tab_post
from custinfo.protection.views import shape_row, view_for
from custinfo.web.forms import FormField, form_field, pick
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

    `lister` and `creator` are the service's list and create functions; a `zoned` tab's take the
    time zone too (before the customer id, after the data).
    """

    name: str
    record: str  # the field-view entity of its rows
    permission: Permission
    specs: Callable[[str], tuple[FieldSpec, ...]]
    lister: Callable[..., PageRows[Any]]
    creator: Callable[..., Any]
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
        ),
        ActivityTab(
            "contracts",
            "contract",
            Permission.CONTRACT_WRITE,
            lambda _zone: CONTRACT_FIELDS,
            service.list_contracts,
            service.create_contract,
        ),
        ActivityTab(
            "interactions",
            "interaction",
            Permission.INTERACTION_CREATE,
            interaction_fields,
            service.list_interactions,
            service.create_interaction,
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
    return {
        "items": [shape_row(view, spec.record, item) for item in items],
        "total": total,
        "capped": capped,
        "page": page,
        "pages": page_count(total, TAB_PAGE_SIZE),
        "activity_fields": activity_form_fields(name, language_of(tab.request), zone),
        "can_write": can(tab.principal, spec.permission),
    }


TABS = (
    CustomerTab("orders", 50, partial(_activity_tab, "orders")),
    CustomerTab("contracts", 60, partial(_activity_tab, "contracts")),
    CustomerTab("interactions", 70, partial(_activity_tab, "interactions")),
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
