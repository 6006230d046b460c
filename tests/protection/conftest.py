"""The protection fixture world: one customer of each position relative to sales_east1, with children."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy.orm import Session
from tests.factories import (
    make_contact,
    make_contract,
    make_customer,
    make_interaction,
    make_order,
)

from custinfo.activity.models import EngagementEvent
from custinfo.auth.models import User
from custinfo.core import uow
from custinfo.core.uow import DomainEvent
from custinfo.customers.identifiers import make_id_number
from custinfo.customers.models import NeedEntry

POSITIONS = ("own", "same_department", "other_department")
OWNERS = {"own": "sales_east1", "same_department": "sales_east2", "other_department": "sales_south1"}


@dataclass
class Record:
    """The ids of one position's customers and children, and the clear values planted in them."""

    individual: int
    company: int
    contact: int
    order: int
    contract: int
    interaction: int
    mobile: str
    id_number: str


# One user of each role in the `world` fixture, by role.
USERS = {
    "sales": "sales_east1",
    "service": "service1",
    "dept_head": "head_east",
    "data_steward": "steward",
    "admin": "admin",
    "marketing": "marketing",
    "auditor": "auditor",
}


@pytest.fixture
def records(session: Session, world: dict[str, User]) -> dict[str, Record]:
    """Per position: an individual (with L3 values and activity) and a company (with a contact)."""
    out = {}
    for n, (position, owner) in enumerate(OWNERS.items()):
        user = world[owner]
        mobile = f"1390000{n:04d}"
        id_number = make_id_number("110105", date(1980 + n, 5, 17), 10 + n)
        person = make_customer(
            session,
            user,
            kind="individual",
            name=f"王{position}",
            mobile=mobile,
            email=f"wang{n}@example.com",
            id_number=id_number,
            birth_date=date(1980 + n, 5, 17),
            address=f"上海市浦东新区张江路{n + 1}号",
        )
        company = make_customer(session, user, name=f"测试公司{position}")
        contact = make_contact(session, company, mobile=f"1370000{n:04d}")
        order = make_order(session, person, amount=Decimal("1234.50"))
        contract = make_contract(session, person)
        interaction = make_interaction(session, person, kind="complaint", topic="质量投诉", resolution="换货")
        session.add(
            NeedEntry(
                customer_id=person.id,
                core_need="product_purchase",
                urgency="high",
                budget_max=Decimal("90000.00"),
                recorded_at=datetime(2026, 1, 1, tzinfo=UTC),
            )
        )
        session.add(
            EngagementEvent(
                customer_id=person.id,
                occurred_at=datetime(2026, 1, 2, tzinfo=UTC),
                event_type="product_viewed",
                product="传感器",
            )
        )
        session.flush()
        out[position] = Record(
            person.id, company.id, contact.id, order.id, contract.id, interaction.id, mobile, id_number
        )
    session.commit()
    return out


@pytest.fixture
def captured() -> Iterator[list[DomainEvent]]:
    """Every domain event dispatched while the test runs (besides the real recorders)."""
    events: list[DomainEvent] = []

    def handler(_session: Any, event: DomainEvent) -> None:
        events.append(event)

    uow.subscribe(DomainEvent, handler)
    try:
        yield events
    finally:
        uow._subscribers[DomainEvent].remove(handler)
