"""JSON routes for orders, contracts, interactions and engagement events."""

from __future__ import annotations

from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Query, Request, Response
from sqlalchemy.orm import Session

from custinfo.activity import service
from custinfo.activity.schemas import (
    ContractIn,
    ContractOut,
    ContractPage,
    EngagementIn,
    EngagementOut,
    EngagementPage,
    InteractionIn,
    InteractionOut,
    InteractionPage,
    OrderIn,
    OrderOut,
    OrderPage,
    RenewalIn,
    RenewalOut,
    TerminationIn,
)
from custinfo.auth.deps import ApiPrincipal, DbSession, settings_of
from custinfo.auth.policy import Principal
from custinfo.classification import service as classification
from custinfo.core.pagination import PageRows
from custinfo.idempotent import Once
from custinfo.protection.views import FieldView, present, view_for

Tagged = TypeVar("Tagged", OrderOut, ContractOut, InteractionOut, EngagementOut)
Paged = TypeVar("Paged", OrderPage, ContractPage, InteractionPage, EngagementPage)


def _page(
    session: Session,
    principal: Principal,
    found: PageRows[Any],
    entity: str,
    out_type: type[Tagged],
    page_type: type[Paged],
    size: int,
    page: int,
) -> Paged:
    """One page of a list, each record shown through the caller's field view."""
    rows, total, capped = found
    view = view_for(session, principal)
    items = [present(view, entity, r, out_type) for r in rows]
    return page_type(items=items, page=page, size=size, total=total, total_capped=capped)


def _shown(session: Session, principal: Principal, entity: str, row: Any, out_type: type[Tagged]) -> Tagged:
    """One record through the caller's field view with the customer's tags and code.

    Settled first, so that a write's response shows its re-classification.
    """
    out = present(view_for(session, principal), entity, row, out_type)
    out.customer_tags, out.customer_classification_code = classification.current_class(
        session, out.customer_id
    )
    return out


def _renewal_out(view: FieldView, renewal: Any) -> RenewalOut:
    """A renewal entry: its term and amounts through the contract fields' rules of the caller's view."""
    after = view.shape("contract", {"ends_on": renewal.ends_on, "amount": renewal.amount}, None)
    before = view.shape(
        "contract", {"ends_on": renewal.previous_ends_on, "amount": renewal.previous_amount}, None
    )
    return RenewalOut(
        id=renewal.id,
        renewed_on=renewal.renewed_on,
        renewed_by=renewal.created_by,
        previous_ends_on=before["ends_on"],
        ends_on=after["ends_on"],
        previous_amount=before["amount"],
        amount=after["amount"],
    )


def _with_renewals(session: Session, principal: Principal, contracts: list[ContractOut]) -> None:
    """Attach each contract's renewals (one query for the whole list)."""
    view = view_for(session, principal)
    found = service.renewals_of(session, [c.id for c in contracts])
    for contract in contracts:
        contract.renewals = [_renewal_out(view, r) for r in found.get(contract.id, [])]


def _contract_shown(session: Session, principal: Principal, contract: Any) -> ContractOut:
    """One contract with its renewals and the customer's (settled) tags and code."""
    out = _shown(session, principal, "contract", contract, ContractOut)
    _with_renewals(session, principal, [out])
    return out


router = APIRouter(tags=["activity"])

CustomerQuery = Annotated[int | None, Query(description="Only records of this customer", ge=1)]
PageQuery = Annotated[int, Query(ge=1, le=1_000_000, description="Page number, from 1")]
SizeQuery = Annotated[int, Query(ge=1, le=200, description="Records per page, at most 200")]
ExternalIdQuery = Annotated[
    str | None, Query(description="Only the record with this external id", max_length=100)
]
VersionQuery = Annotated[int | None, Query(description="The version you read (required; stale → 409)")]


def _from(natural: str) -> object:
    return Query(alias="from", description=f"Earliest {natural}, YYYY-MM-DD (inclusive)")


def _to(natural: str) -> object:
    return Query(alias="to", description=f"Latest {natural}, YYYY-MM-DD (inclusive)")


def _zone(request: Request) -> str:
    """The configured time zone: naive timestamps and date filters are local to it."""
    return settings_of(request).timezone


# --- orders ------------------------------------------------------------------------------------------


@router.get("/orders", response_model=OrderPage)
def list_orders(
    session: DbSession,
    principal: ApiPrincipal,
    customer_id: CustomerQuery = None,
    date_from: Annotated[str | None, _from("order date")] = None,
    date_to: Annotated[str | None, _to("order date")] = None,
    external_id: ExternalIdQuery = None,
    page: PageQuery = 1,
    size: SizeQuery = 20,
) -> OrderPage:
    """Orders of the customers in the caller's scope, newest first."""
    found = service.list_orders(
        session, principal, customer_id, date_from, date_to, page, size, external_id=external_id
    )
    return _page(session, principal, found, "order", OrderOut, OrderPage, size, page)


@router.get("/customers/{customer_id}/orders", response_model=OrderPage)
def customer_orders(
    customer_id: int,
    session: DbSession,
    principal: ApiPrincipal,
    date_from: Annotated[str | None, _from("order date")] = None,
    date_to: Annotated[str | None, _to("order date")] = None,
    page: PageQuery = 1,
    size: SizeQuery = 20,
) -> OrderPage:
    """Orders of one customer (404 if absent or outside the caller's scope)."""
    found = service.list_orders(
        session, principal, customer_id, date_from, date_to, page, size, customer_must_exist=True
    )
    return _page(session, principal, found, "order", OrderOut, OrderPage, size, page)


@router.post("/orders", response_model=OrderOut, status_code=201)
def create_order(body: OrderIn, session: DbSession, principal: ApiPrincipal, once: Once) -> Any:
    """Record an order of a customer in scope (once per Idempotency-Key: a retried push adds nothing)."""

    def create() -> OrderOut:
        data = body.model_dump(exclude_unset=True)
        order = service.create_order(session, principal, data)
        return _shown(session, principal, "order", order, OrderOut)

    return once.run(body, create)


@router.get("/orders/{order_id}", response_model=OrderOut)
def get_order(order_id: int, session: DbSession, principal: ApiPrincipal) -> OrderOut:
    """One order (404 if absent or its customer is outside the caller's scope)."""
    order = service.get_order(session, principal, order_id)
    return _shown(session, principal, "order", order, OrderOut)


@router.patch("/orders/{order_id}", response_model=OrderOut)
def update_order(order_id: int, body: OrderIn, session: DbSession, principal: ApiPrincipal) -> OrderOut:
    """Change some fields; send the `version` you read (a stale one is a 409)."""
    order = service.update_order(session, principal, order_id, body.model_dump(exclude_unset=True))
    return _shown(session, principal, "order", order, OrderOut)


@router.delete("/orders/{order_id}", status_code=204)
def delete_order(
    order_id: int, session: DbSession, principal: ApiPrincipal, version: VersionQuery = None
) -> Response:
    """Delete an order entered by mistake; the customer's history keeps it."""
    service.delete_order(session, principal, order_id, version)
    return Response(status_code=204)


# --- contracts ---------------------------------------------------------------------------------------


@router.get("/contracts", response_model=ContractPage)
def list_contracts(
    session: DbSession,
    principal: ApiPrincipal,
    customer_id: CustomerQuery = None,
    date_from: Annotated[str | None, _from("signing date")] = None,
    date_to: Annotated[str | None, _to("signing date")] = None,
    external_id: ExternalIdQuery = None,
    page: PageQuery = 1,
    size: SizeQuery = 20,
) -> ContractPage:
    """Contracts of the customers in the caller's scope, latest signed first."""
    found = service.list_contracts(
        session, principal, customer_id, date_from, date_to, page, size, external_id=external_id
    )
    result = _page(session, principal, found, "contract", ContractOut, ContractPage, size, page)
    _with_renewals(session, principal, result.items)
    return result


@router.get("/customers/{customer_id}/contracts", response_model=ContractPage)
def customer_contracts(
    customer_id: int,
    session: DbSession,
    principal: ApiPrincipal,
    date_from: Annotated[str | None, _from("signing date")] = None,
    date_to: Annotated[str | None, _to("signing date")] = None,
    page: PageQuery = 1,
    size: SizeQuery = 20,
) -> ContractPage:
    """Contracts of one customer (404 if absent or outside the caller's scope)."""
    found = service.list_contracts(
        session, principal, customer_id, date_from, date_to, page, size, customer_must_exist=True
    )
    result = _page(session, principal, found, "contract", ContractOut, ContractPage, size, page)
    _with_renewals(session, principal, result.items)
    return result


@router.post("/contracts", response_model=ContractOut, status_code=201)
def create_contract(body: ContractIn, session: DbSession, principal: ApiPrincipal, once: Once) -> Any:
    """Record a contract of a customer in scope (once per Idempotency-Key)."""

    def create() -> ContractOut:
        contract = service.create_contract(session, principal, body.model_dump(exclude_unset=True))
        return _contract_shown(session, principal, contract)

    return once.run(body, create)


@router.get("/contracts/{contract_id}", response_model=ContractOut)
def get_contract(contract_id: int, session: DbSession, principal: ApiPrincipal) -> ContractOut:
    """One contract (404 if absent or its customer is outside the caller's scope)."""
    contract = service.get_contract(session, principal, contract_id)
    return _contract_shown(session, principal, contract)


@router.patch("/contracts/{contract_id}", response_model=ContractOut)
def update_contract(
    contract_id: int, body: ContractIn, session: DbSession, principal: ApiPrincipal
) -> ContractOut:
    """Change a contract (renew, terminate…); send the `version` you read (a stale one is a 409)."""
    contract = service.update_contract(session, principal, contract_id, body.model_dump(exclude_unset=True))
    return _contract_shown(session, principal, contract)


@router.post("/contracts/{contract_id}/renew", response_model=ContractOut)
def renew_contract(
    contract_id: int, body: RenewalIn, request: Request, session: DbSession, principal: ApiPrincipal
) -> ContractOut:
    """Renew a running contract (new end date and amount); the renewal is kept as a dated entry."""
    data = body.model_dump(exclude_unset=True)
    contract = service.renew_contract(session, principal, contract_id, data, _zone(request))
    return _contract_shown(session, principal, contract)


@router.post("/contracts/{contract_id}/terminate", response_model=ContractOut)
def terminate_contract(
    contract_id: int, body: TerminationIn, session: DbSession, principal: ApiPrincipal
) -> ContractOut:
    """Terminate a contract on a day, with the reason."""
    contract = service.terminate_contract(
        session, principal, contract_id, body.model_dump(exclude_unset=True)
    )
    return _contract_shown(session, principal, contract)


@router.delete("/contracts/{contract_id}", status_code=204)
def delete_contract(
    contract_id: int, session: DbSession, principal: ApiPrincipal, version: VersionQuery = None
) -> Response:
    """Delete a contract entered by mistake (end a real one with `status: terminated`)."""
    service.delete_contract(session, principal, contract_id, version)
    return Response(status_code=204)


# --- interactions ------------------------------------------------------------------------------------


@router.get("/interactions", response_model=InteractionPage)
def list_interactions(
    request: Request,
    session: DbSession,
    principal: ApiPrincipal,
    customer_id: CustomerQuery = None,
    date_from: Annotated[str | None, _from("local date of occurred_at")] = None,
    date_to: Annotated[str | None, _to("local date of occurred_at")] = None,
    external_id: ExternalIdQuery = None,
    page: PageQuery = 1,
    size: SizeQuery = 20,
) -> InteractionPage:
    """Interactions with the customers in the caller's scope, newest first."""
    found = service.list_interactions(
        session,
        principal,
        _zone(request),
        customer_id,
        date_from,
        date_to,
        page,
        size,
        external_id=external_id,
    )
    return _page(session, principal, found, "interaction", InteractionOut, InteractionPage, size, page)


@router.get("/customers/{customer_id}/interactions", response_model=InteractionPage)
def customer_interactions(
    customer_id: int,
    request: Request,
    session: DbSession,
    principal: ApiPrincipal,
    date_from: Annotated[str | None, _from("local date of occurred_at")] = None,
    date_to: Annotated[str | None, _to("local date of occurred_at")] = None,
    page: PageQuery = 1,
    size: SizeQuery = 20,
) -> InteractionPage:
    """Interactions with one customer (404 if absent or outside the caller's scope)."""
    found = service.list_interactions(
        session,
        principal,
        _zone(request),
        customer_id,
        date_from,
        date_to,
        page,
        size,
        customer_must_exist=True,
    )
    return _page(session, principal, found, "interaction", InteractionOut, InteractionPage, size, page)


@router.post("/interactions", response_model=InteractionOut, status_code=201)
def create_interaction(
    body: InteractionIn, request: Request, session: DbSession, principal: ApiPrincipal, once: Once
) -> Any:
    """Record a visit, call, consultation, complaint or after-sales contact (once per Idempotency-Key)."""

    def create() -> InteractionOut:
        data = body.model_dump(exclude_unset=True)
        interaction = service.create_interaction(session, principal, data, _zone(request))
        return _shown(session, principal, "interaction", interaction, InteractionOut)

    return once.run(body, create)


@router.get("/interactions/{interaction_id}", response_model=InteractionOut)
def get_interaction(interaction_id: int, session: DbSession, principal: ApiPrincipal) -> InteractionOut:
    """One interaction (404 if absent or its customer is outside the caller's scope)."""
    interaction = service.get_interaction(session, principal, interaction_id)
    return _shown(session, principal, "interaction", interaction, InteractionOut)


@router.patch("/interactions/{interaction_id}", response_model=InteractionOut)
def update_interaction(
    interaction_id: int, body: InteractionIn, request: Request, session: DbSession, principal: ApiPrincipal
) -> InteractionOut:
    """Change an interaction (e.g. its resolution); send the `version` you read (a stale one is a 409)."""
    data = body.model_dump(exclude_unset=True)
    interaction = service.update_interaction(session, principal, interaction_id, data, _zone(request))
    return _shown(session, principal, "interaction", interaction, InteractionOut)


@router.delete("/interactions/{interaction_id}", status_code=204)
def delete_interaction(
    interaction_id: int, session: DbSession, principal: ApiPrincipal, version: VersionQuery = None
) -> Response:
    """Delete an interaction entered by mistake; the customer's history keeps it."""
    service.delete_interaction(session, principal, interaction_id, version)
    return Response(status_code=204)


# --- engagement --------------------------------------------------------------------------------------


@router.get("/customers/{customer_id}/engagement", response_model=EngagementPage)
def list_engagement(
    customer_id: int,
    request: Request,
    session: DbSession,
    principal: ApiPrincipal,
    date_from: Annotated[str | None, _from("local date of occurred_at")] = None,
    date_to: Annotated[str | None, _to("local date of occurred_at")] = None,
    page: PageQuery = 1,
    size: SizeQuery = 20,
) -> EngagementPage:
    """Browsing events of one customer, newest first (404 if absent or outside the caller's scope)."""
    found = service.list_engagement(
        session, principal, _zone(request), customer_id, date_from, date_to, page, size
    )
    return _page(session, principal, found, "engagement", EngagementOut, EngagementPage, size, page)


@router.post("/customers/{customer_id}/engagement", response_model=EngagementOut, status_code=201)
def record_engagement(
    customer_id: int,
    body: EngagementIn,
    request: Request,
    session: DbSession,
    principal: ApiPrincipal,
    once: Once,
) -> Any:
    """Append a browsing event; events are never changed or deleted (once per Idempotency-Key)."""

    def create() -> EngagementOut:
        data = body.model_dump(exclude_unset=True)
        event = service.record_engagement(session, principal, customer_id, data, _zone(request))
        return _shown(session, principal, "engagement", event, EngagementOut)

    return once.run(body, create)
