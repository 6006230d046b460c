"""Plain factory functions: make_x(session, **overrides) → a persisted row."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from custinfo.activity.models import Contract, Interaction, Order
from custinfo.auth.models import Department, User
from custinfo.customers.identifiers import make_credit_code
from custinfo.customers.models import Contact, Customer
from custinfo.security.passwords import hash_password

DEFAULT_PASSWORD = "Passw0rd-test-7Qiu"  # strong enough for the password policy (zxcvbn score 3+)
_HASH = hash_password(DEFAULT_PASSWORD)
_seq = itertools.count(1)


def make_department(session: Session, name: str) -> Department:
    department = session.scalar(select(Department).where(Department.name == name))
    if department is None:
        department = Department(name=name)
        session.add(department)
        session.flush()
    return department


def make_user(session: Session, username: str, role: str, department: str | None = None) -> User:
    user = User(
        username=username,
        display_name=username,
        password_hash=_HASH,
        role=role,
        department_id=make_department(session, department).id if department else None,
    )
    session.add(user)
    session.flush()
    return user


def unique_credit_code() -> str:
    n = next(_seq)
    return make_credit_code(f"91310000{n:09d}")


def make_customer(session: Session, owner: User | None = None, **overrides: Any) -> Customer:
    kind = overrides.pop("kind", "company")
    values: dict[str, Any] = {
        "kind": kind,
        "name": f"测试客户{next(_seq)}",
        "source_channel": "visit",
        "purpose": "sales_service",
    }
    if kind == "company":
        values.update(credit_code=unique_credit_code(), industry="制造业")
    values.update(overrides)
    if owner is not None:
        values.setdefault("owner_id", owner.id)
        values.setdefault("department_id", owner.department_id)
    customer = Customer(**values)
    session.add(customer)
    session.flush()
    return customer


def make_contact(session: Session, customer: Customer, **overrides: Any) -> Contact:
    contact = Contact(customer_id=customer.id, **{"name": "李联系", "in_post": True, **overrides})
    session.add(contact)
    session.flush()
    return contact


def make_order(session: Session, customer: Customer, **overrides: Any) -> Order:
    values: dict[str, Any] = {
        "ordered_on": date(2026, 1, 15),
        "amount": Decimal("1000.00"),
        "product": "工业传感器",
        "category": "传感器",
        "quantity": 1,
    }
    values.update(overrides)
    order = Order(customer_id=customer.id, **values)
    session.add(order)
    session.flush()
    return order


def make_contract(session: Session, customer: Customer, **overrides: Any) -> Contract:
    values: dict[str, Any] = {
        "status": "active",
        "signed_on": date(2026, 1, 1),
        "amount": Decimal("50000.00"),
    }
    values.update(overrides)
    contract = Contract(customer_id=customer.id, **values)
    session.add(contract)
    session.flush()
    return contract


def make_interaction(session: Session, customer: Customer, **overrides: Any) -> Interaction:
    values: dict[str, Any] = {
        "kind": "call",
        "channel": "phone",
        "occurred_at": datetime(2026, 2, 1, 8, tzinfo=UTC),
    }
    values.update(overrides)
    interaction = Interaction(customer_id=customer.id, **values)
    session.add(interaction)
    session.flush()
    return interaction
