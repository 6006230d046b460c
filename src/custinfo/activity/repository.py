"""All SQL of the activity domain; every query joins the customers the principal may see.

The record scope is the policy's customer filter (`customer_scope`), so an order,
contract or interaction of a customer outside the caller's scope is never
listed and fetches as absent (404).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, TypeVar

from sqlalchemy import Select, func, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from custinfo.activity.models import Contract, ContractRenewal, EngagementEvent, Interaction, Order
from custinfo.auth.policy import Principal, customer_scope
from custinfo.core.errors import NotFound
from custinfo.core.pagination import PageParams, PageRows, fetch_page
from custinfo.customers.models import Customer

Row = TypeVar("Row", Order, Contract, Interaction, EngagementEvent)


@dataclass(frozen=True)
class ActivityFilter:
    """List filters: one customer, and a range on the record's natural date (both ends inclusive).

    For timestamped records (interactions, engagement) `start`/`end` are UTC
    instants and `end` is exclusive: the service turns local dates into them.
    """

    customer_id: int | None = None
    start: date | datetime | None = None
    end: date | datetime | None = None
    external_id: str | None = None


# The natural date of each kind of record: what `from`/`to` filter and lists sort on.
NATURAL_DATE: dict[type[Any], InstrumentedAttribute[Any]] = {
    Order: Order.ordered_on,
    Contract: Contract.signed_on,
    Interaction: Interaction.occurred_at,
    EngagementEvent: EngagementEvent.occurred_at,
}


def _visible(model: type[Row], principal: Principal) -> Select[Row]:
    return select(model).join(Customer, Customer.id == model.customer_id).where(customer_scope(principal))


def _filtered(model: type[Row], principal: Principal, filters: ActivityFilter) -> Select[Row]:
    stmt = _visible(model, principal)
    column = NATURAL_DATE[model]
    if filters.customer_id is not None:
        stmt = stmt.where(model.customer_id == filters.customer_id)
    if filters.external_id is not None and model is not EngagementEvent:
        stmt = stmt.where(getattr(model, "external_id") == filters.external_id)  # noqa: B009 - not on every Row
    if filters.start is not None:
        stmt = stmt.where(column >= filters.start)
    if filters.end is not None:
        exclusive = isinstance(filters.end, datetime)
        stmt = stmt.where(column < filters.end if exclusive else column <= filters.end)
    return stmt


def list_rows(
    session: Session, model: type[Row], principal: Principal, filters: ActivityFilter, params: PageParams
) -> PageRows[Row]:
    """One page (newest natural date first) and the match count, counted up to TOTAL_CAP."""
    newest_first = (NATURAL_DATE[model].desc().nulls_last(), model.id.desc())
    return fetch_page(session, _filtered(model, principal, filters), params, order_by=newest_first)


def id_with_external_id(
    session: Session, model: type[Order | Contract | Interaction], value: str, exclude_id: int | None
) -> int | None:
    """Id of any record of this kind (regardless of scope) with this external id."""
    stmt = select(model.id).where(model.external_id == value)
    if exclude_id is not None:
        stmt = stmt.where(model.id != exclude_id)
    return session.scalar(stmt.limit(1))


def get_row(session: Session, model: type[Row], principal: Principal, row_id: int, detail_key: str) -> Row:
    """One record whose customer is in scope; otherwise 404 (absent and hidden look the same)."""
    row = session.scalar(_visible(model, principal).where(model.id == row_id))
    if row is None:
        raise NotFound(detail_key, id=row_id)
    return row


def renewals_of(session: Session, contract_ids: Collection[int]) -> dict[int, list[ContractRenewal]]:
    """The renewals of these contracts (the caller fetched them in scope), oldest first, by contract."""
    found: dict[int, list[ContractRenewal]] = {contract_id: [] for contract_id in contract_ids}
    if not contract_ids:
        return found
    stmt = (
        select(ContractRenewal)
        .where(ContractRenewal.contract_id.in_(list(contract_ids)))
        .order_by(ContractRenewal.contract_id, ContractRenewal.renewed_on, ContractRenewal.id)
    )
    for renewal in session.scalars(stmt):
        found[renewal.contract_id].append(renewal)
    return found


@dataclass(frozen=True)
class Summary:
    """The figures of a customer's 360 summary that the activity domain knows."""

    annual_amount: Decimal
    last_order_on: date | None
    last_contact_at: datetime | None
    active_contract: Contract | None


def summary(session: Session, customer_id: int, since: date, today: date) -> Summary:
    """Orders after `since`, the last order and contact, and the running contract ending last."""
    # SUM keeps the Money type, so the total comes back in yuan
    total = session.scalar(
        select(func.sum(Order.amount)).where(Order.customer_id == customer_id, Order.ordered_on > since)
    )
    last_order = session.scalar(select(func.max(Order.ordered_on)).where(Order.customer_id == customer_id))
    last_contact = session.scalar(
        select(func.max(Interaction.occurred_at)).where(Interaction.customer_id == customer_id)
    )
    running = session.scalar(
        select(Contract)
        .where(
            Contract.customer_id == customer_id,
            Contract.status.in_(("active", "renewed")),
            (Contract.ends_on.is_(None)) | (Contract.ends_on >= today),
        )
        .order_by(Contract.ends_on.desc().nulls_first(), Contract.id.desc())
        .limit(1)
    )
    return Summary(total or Decimal("0.00"), last_order, last_contact, running)
