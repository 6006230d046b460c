"""The demo generator: deterministic, valid, and covering every class of REQUIREMENTS §2.1a.

Each backend gets its own fresh databases (generate() commits, so the shared
rolled-back test database cannot be used): SQLite files under tmp, and on
PostgreSQL separate databases created on the server of CUSTINFO_TEST_DATABASE_URL.
The classes are recomputed here from the stored rows with the §2.1a definitions,
independently of the generator's own archetype bookkeeping.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import Session

from custinfo.activity.models import Contract, EngagementEvent, Interaction, Order
from custinfo.auth.models import Department, User
from custinfo.core.db import make_engine
from custinfo.core.schema import upgrade
from custinfo.customers.identifiers import (
    birth_date_from_id_number,
    gender_from_id_number,
    normalize_email,
    normalize_mobile,
    validate_credit_code,
    validate_id_number,
)
from custinfo.customers.models import Contact, Customer, NeedEntry
from custinfo.customers.vocabulary import load_default_vocabularies
from custinfo.demo.archetypes import ARCHETYPES, FastRandom, split
from custinfo.demo.generator import DEMO_USERS, SALES_USERS, DemoSummary, demo_data_present, generate

AS_OF = date(2026, 3, 31)
N = 60
PASSWORD = "Demo2026-pass"
DEMO_DB_PREFIX = "custinfo_demo_test"


def _unavailable(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"PostgreSQL is required in CI: {reason}")
    pytest.skip(f"PostgreSQL tests skipped: {reason}")


class Databases:
    """Creates fresh migrated databases on one backend and removes them afterwards."""

    def __init__(self, backend: str, directory: Path) -> None:
        self.backend = backend
        self.directory = directory
        self.engines: list[Engine] = []
        self.server: Engine | None = None
        if backend == "postgresql":
            url = os.environ.get("CUSTINFO_TEST_DATABASE_URL")
            if not url:
                _unavailable("CUSTINFO_TEST_DATABASE_URL is not set (bash .ci/run sets it)")
            assert url is not None
            self.base_url = make_url(url)
            self.server = make_engine(url, isolation_level="AUTOCOMMIT")
            try:
                with self.server.connect():
                    pass
            except Exception as exc:
                _unavailable(f"cannot connect to the test server: {exc.__class__.__name__}")

    def new(self, name: str) -> Engine:
        """A fresh, migrated database called `name`."""
        if self.server is None:
            engine = make_engine(f"sqlite:///{self.directory / name}.db")
        else:
            # One set of databases per xdist worker, so parallel runs do not drop each other's.
            worker = os.environ.get("PYTEST_XDIST_WORKER", "solo")
            database = f"{DEMO_DB_PREFIX}_{worker}_{name}"
            with self.server.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
                conn.execute(text(f'CREATE DATABASE "{database}"'))
            engine = make_engine(self.base_url.set(database=database).render_as_string(hide_password=False))
        upgrade(engine)
        self.engines.append(engine)
        return engine

    def close(self) -> None:
        """Dispose every engine and drop the PostgreSQL databases."""
        for engine in self.engines:
            database = engine.url.database
            engine.dispose()
            if self.server is not None:
                with self.server.connect() as conn:
                    conn.execute(text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
        if self.server is not None:
            self.server.dispose()


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def databases(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Databases]:
    dbs = Databases(request.param, tmp_path_factory.mktemp(f"demo-{request.param}"))
    yield dbs
    dbs.close()


@pytest.fixture(scope="module")
def loaded(databases: Databases) -> tuple[Engine, DemoSummary]:
    """N demo customers generated once per backend."""
    engine = databases.new("main")
    return engine, generate(engine, N, seed=7, password=PASSWORD, as_of=AS_OF)


# --- §2.1a recomputed from the stored rows ---------------------------------------------------------------


@dataclass
class History:
    """One customer's stored history, as the classification features would see it."""

    kind: str
    orders: list[tuple[date, Decimal]] = field(default_factory=list)
    contracts: list[Contract] = field(default_factory=list)
    interactions: list[tuple[date, str]] = field(default_factory=list)


def _ago(when: date) -> int:
    return (AS_OF - when).days


def classes_of(history: History) -> set[str]:
    """The §2.1a classes of one customer relative to AS_OF (default thresholds)."""
    result: set[str] = set()
    year = [(d, a) for d, a in history.orders if _ago(d) < 365]
    annual = sum((a for _, a in year), Decimal("0.00"))
    recent = sum((a for d, a in year if _ago(d) <= 182), Decimal("0.00"))
    earlier = annual - recent
    growth_ok = recent > 0 if earlier == 0 else recent / earlier - 1 >= Decimal("0.2")
    if annual >= Decimal("500000.00"):
        result.add("value:high")
    elif annual >= Decimal("100000.00"):
        result.add("value:potential" if growth_ok else "value:ordinary_band_no_growth")
    else:
        result.add("value:ordinary")
    in_30 = sum(1 for d, _ in history.orders if _ago(d) < 30)
    in_90 = sum(1 for d, _ in history.orders if _ago(d) < 90)
    if in_30 >= 3:
        result.add("frequency:high")
    elif in_30 >= 1 or in_90 >= 2:
        result.add("frequency:medium")
    else:
        result.add("frequency:low")
    complaints = sum(1 for d, kind in history.interactions if kind == "complaint" and _ago(d) < 90)
    if complaints >= 3:
        result.add("risk:complaint_heavy")
    result |= {f"contract:{c.status}" for c in history.contracts}
    if history.kind == "individual":
        result.add("amount:" + ("high" if annual >= 100_000 else "medium" if annual >= 30_000 else "low"))
        if not history.orders:
            result.add("lifecycle:potential")
        else:
            first = max(_ago(d) for d, _ in history.orders)
            last = min(_ago(d) for d, _ in history.orders)
            if first <= 90:
                result.add("lifecycle:new")
            elif last <= 90:
                result.add("lifecycle:active")
            elif last <= 180:
                result.add("lifecycle:dormant")
            else:
                result.add("lifecycle:churned")
    else:
        result.add("stage:" + _stage(history))
    return result


def _stage(history: History) -> str:
    running = [
        c
        for c in history.contracts
        if c.status in ("active", "renewed") and (c.ends_on is None or c.ends_on >= AS_OF)
    ]
    if running:
        return "active"
    ended = [
        c
        for c in history.contracts
        if (c.status == "terminated" and c.terminated_on and _ago(c.terminated_on) > 90)
        or (c.status in ("active", "renewed") and c.ends_on and _ago(c.ends_on) > 90)
    ]
    if ended:
        return "churned"
    talks = any(kind in ("visit", "consultation") and _ago(d) < 90 for d, kind in history.interactions)
    if talks or any(c.status == "negotiating" for c in history.contracts):
        return "intent"
    return "potential"


def histories(engine: Engine) -> dict[int, History]:
    """Every customer's history, read through the ORM types (money as Decimal, times aware UTC)."""
    with Session(engine) as session:
        result = {c.id: History(c.kind) for c in session.scalars(select(Customer))}
        for order in session.scalars(select(Order)):
            result[order.customer_id].orders.append((order.ordered_on, order.amount))
        for contract in session.scalars(select(Contract)):
            result[contract.customer_id].contracts.append(contract)
        for interaction in session.scalars(select(Interaction)):
            local = interaction.occurred_at.astimezone(UTC) + timedelta(hours=8)
            result[interaction.customer_id].interactions.append((local.date(), interaction.kind))
    return result


EXPECTED_CLASSES = {
    "value:high", "value:potential", "value:ordinary_band_no_growth", "value:ordinary",
    "frequency:high", "frequency:medium", "frequency:low",
    "amount:high", "amount:medium", "amount:low",
    "contract:negotiating", "contract:active", "contract:renewed", "contract:terminated",
    "stage:active", "stage:churned", "stage:intent", "stage:potential",
    "lifecycle:new", "lifecycle:active", "lifecycle:dormant", "lifecycle:churned", "lifecycle:potential",
    "risk:complaint_heavy",
}  # fmt: skip


# --- tests --------------------------------------------------------------------------------------------------


def test_every_class_of_2_1a_is_present(loaded: tuple[Engine, DemoSummary]) -> None:
    engine, _ = loaded
    found = set().union(*(classes_of(h) for h in histories(engine).values()))
    assert found >= EXPECTED_CLASSES, EXPECTED_CLASSES - found


def test_each_archetype_lands_in_its_classes(loaded: tuple[Engine, DemoSummary]) -> None:
    engine, summary = loaded
    stored = histories(engine)
    # The first customers take one archetype each, in ARCHETYPES order.
    for offset, archetype in enumerate(ARCHETYPES):
        got = classes_of(stored[summary.first_customer_id + offset])
        assert set(archetype.classes) <= got, (archetype.code, got)
    complainers = {a.code for a in ARCHETYPES if "risk:complaint_heavy" in a.classes}
    for offset, archetype in enumerate(ARCHETYPES):
        heavy = "risk:complaint_heavy" in classes_of(stored[summary.first_customer_id + offset])
        assert heavy == (archetype.code in complainers), archetype.code


def test_summary_counts_match_the_tables(loaded: tuple[Engine, DemoSummary]) -> None:
    engine, summary = loaded
    assert summary.customers == N
    assert sum(summary.archetypes.values()) == N
    assert all(count >= 1 for count in summary.archetypes.values())
    assert {u.username for u in DEMO_USERS} == set(summary.users_created)
    models = (Customer, Contact, NeedEntry, Order, Contract, Interaction, EngagementEvent)
    with Session(engine) as session:
        for model in models:
            table = model.__tablename__
            assert session.scalar(select(func.count()).select_from(model)) == summary.rows[table], table
    # About ten orders and two interactions per customer on average, as asked.
    assert 8 * N <= summary.rows["orders"] <= 12 * N
    assert 1.5 * N <= summary.rows["interactions"] <= 3 * N
    with engine.connect() as connection:
        assert demo_data_present(connection)


def test_identifiers_contact_data_and_codes_are_valid(loaded: tuple[Engine, DemoSummary]) -> None:
    engine, _ = loaded
    vocabularies = load_default_vocabularies()
    coded = {
        "source_channel": "source_channel", "purpose": "purpose", "gender": "gender",
        "occupation": "occupation", "industry": "industry", "revenue_band": "revenue_band",
        "customer_type": "customer_type",
    }  # fmt: skip
    with Session(engine) as session:
        customers = list(session.scalars(select(Customer)))
        assert {c.kind for c in customers} == {"individual", "company"}
        individuals = [c for c in customers if c.kind == "individual"]
        assert 0.45 <= len(individuals) / len(customers) <= 0.75
        for customer in customers:
            for column, vocabulary in coded.items():
                value = getattr(customer, column)
                if value is not None:
                    assert vocabularies[vocabulary].canonical(value) == value, (column, value)
            if customer.mobile:
                assert normalize_mobile(customer.mobile) == customer.mobile
            if customer.email:
                assert normalize_email(customer.email) == customer.email
            if customer.kind == "company":
                assert customer.industry and customer.employee_count and customer.customer_type
                if customer.credit_code:
                    assert validate_credit_code(customer.credit_code) == customer.credit_code
                assert customer.id_number is None and customer.gender is None
            else:
                assert customer.credit_code is None and customer.industry is None
            if customer.id_number:
                assert validate_id_number(customer.id_number) == customer.id_number
                assert birth_date_from_id_number(customer.id_number) == customer.birth_date
                assert gender_from_id_number(customer.id_number) == customer.gender
        assert sum(1 for c in customers if c.credit_code) >= 0.9 * (len(customers) - len(individuals))
        assert any(c.id_number for c in individuals)
        contacts = list(session.scalars(select(Contact)))
        assert any(not c.in_post and c.left_on for c in contacts)
        assert all(c.in_post == (c.left_on is None) for c in contacts)
        for contact in contacts:
            if contact.mobile:
                normalize_mobile(contact.mobile)
        for need in session.scalars(select(NeedEntry)):
            assert vocabularies["core_need"].canonical(need.core_need) == need.core_need
            assert vocabularies["urgency"].canonical(need.urgency) == need.urgency
        for interaction in session.scalars(select(Interaction)):
            assert vocabularies["interaction_kind"].canonical(interaction.kind) == interaction.kind
            assert interaction.channel in vocabularies["interaction_channel"].codes
            assert interaction.satisfaction is None or 1 <= interaction.satisfaction <= 5
            assert interaction.provided_by in ("customer", "system")


def test_amounts_are_exact_two_place_decimals(loaded: tuple[Engine, DemoSummary]) -> None:
    engine, _ = loaded
    with Session(engine) as session:
        amounts = list(session.scalars(select(Order.amount))) + [
            a for a in session.scalars(select(Contract.amount)) if a is not None
        ]
        assert amounts and all(
            isinstance(a, Decimal) and a.as_tuple().exponent == -2 and a > 0 for a in amounts
        )
        raw = session.execute(text("SELECT amount FROM orders")).scalars().all()
        assert all(isinstance(value, int) for value in raw)  # integer fen in the database
        for order in session.scalars(select(Order)):
            assert order.quantity >= 1 and order.category and order.product


def test_owners_are_the_sales_users_with_their_departments(loaded: tuple[Engine, DemoSummary]) -> None:
    engine, _ = loaded
    with Session(engine) as session:
        rows = session.execute(
            select(User.username, User.department_id, Customer.department_id).join(
                User, User.id == Customer.owner_id
            )
        ).all()
        assert len(rows) == N
        assert {username for username, _, _ in rows} == set(SALES_USERS)
        assert all(user_dept == customer_dept for _, user_dept, customer_dept in rows)
        departments = set(session.scalars(select(Department.name)))
        assert {"华东销售部", "华南销售部"} <= departments


def test_stored_times_compare_like_orm_written_ones(loaded: tuple[Engine, DemoSummary]) -> None:
    """Bulk-written timestamps use the ORM's storage format, so SQL range filters agree with Python."""
    engine, _ = loaded
    cut = datetime(2026, 1, 1, 3, 0, tzinfo=UTC)
    with Session(engine) as session:
        moments = list(session.scalars(select(Interaction.occurred_at)))
        in_sql = session.scalar(select(func.count()).where(Interaction.occurred_at >= cut))
        assert in_sql == sum(1 for m in moments if m >= cut)
        assert all(m.tzinfo is not None and m.date() < AS_OF + timedelta(days=1) for m in moments)
        events = list(session.scalars(select(EngagementEvent)))
        assert events and all(e.provided_by == "system" for e in events)


def test_new_rows_after_the_bulk_load_get_fresh_ids(loaded: tuple[Engine, DemoSummary]) -> None:
    engine, summary = loaded
    with Session(engine) as session:
        order = Order(
            customer_id=summary.first_customer_id,
            ordered_on=AS_OF,
            amount=Decimal("12.30"),
            product="硒鼓",
            category="耗材配件",
        )
        session.add(order)
        session.flush()
        assert order.id == summary.rows["orders"] + 1
        session.rollback()


def test_same_seed_same_data_also_from_the_child_process(
    loaded: tuple[Engine, DemoSummary], databases: Databases
) -> None:
    engine, _ = loaded
    again = databases.new("again")
    generate(again, N, seed=7, password=PASSWORD, as_of=AS_OF, child_process=True)
    other = databases.new("other")
    generate(other, N, seed=8, password=PASSWORD, as_of=AS_OF)

    def content(e: Engine) -> tuple[list[Any], list[Any]]:
        with Session(e) as session:
            customers = session.execute(
                select(Customer.name, Customer.mobile, Customer.id_number, Customer.credit_code).order_by(
                    Customer.id
                )
            ).all()
            orders = session.execute(select(Order.ordered_on, Order.amount).order_by(Order.id)).all()
        return customers, orders

    assert content(again) == content(engine)
    assert content(other)[0] != content(engine)[0]


def test_loading_again_adds_after_the_existing_rows(databases: Databases) -> None:
    engine = databases.new("twice")
    first = generate(engine, 25, seed=3, password=PASSWORD, as_of=AS_OF)
    second = generate(engine, 25, seed=3, password=PASSWORD, as_of=AS_OF)
    assert second.first_customer_id == 26 and second.users_created == []
    with Session(engine) as session:
        assert session.scalar(select(func.count()).select_from(Customer)) == 50
        codes = [c for c in session.scalars(select(Customer.credit_code)) if c]
        numbers = [n for n in session.scalars(select(Customer.id_number)) if n]
        assert len(codes) == len(set(codes)) and len(numbers) == len(set(numbers))
        orders = session.scalar(select(func.count()).select_from(Order))
    assert orders == first.rows["orders"] + second.rows["orders"]


@pytest.mark.parametrize("total,parts", [(1, 1), (100, 3), (52_000_000, 14), (7, 7)])
def test_split_adds_up_exactly(total: int, parts: int) -> None:
    amounts = split(FastRandom(1), total, parts)
    assert sum(amounts) == total and len(amounts) == parts and all(a >= 1 for a in amounts)


def test_fast_random_stays_in_range() -> None:
    rng = FastRandom(5)
    draws = [rng.randint(3, 5) for _ in range(2000)]
    assert set(draws) == {3, 4, 5}
    assert {rng.randrange(4) for _ in range(500)} == {0, 1, 2, 3}
    assert {rng.randrange(1, 10, 4) for _ in range(500)} == {1, 5, 9}
    assert {rng.choice("ab") for _ in range(100)} == {"a", "b"}


def test_archetype_weights_split_sixty_forty() -> None:
    individual = sum(a.weight for a in ARCHETYPES if a.kind == "individual")
    assert individual == pytest.approx(0.6) and sum(a.weight for a in ARCHETYPES) == pytest.approx(1.0)
    assert len({a.code for a in ARCHETYPES}) == len(ARCHETYPES) <= 50
