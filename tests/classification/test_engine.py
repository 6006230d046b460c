"""Default rules at and around their thresholds, full = incremental, provenance, as_of history."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from tests.factories import make_contract, make_customer, make_interaction, make_order

from custinfo.classification import service
from custinfo.classification.models import ClassificationState, TagAssignment
from custinfo.customers.models import Customer

AS_OF = date(2026, 6, 30)


def open_tags(session: Session, customer_id: int) -> set[str]:
    return set(
        session.scalars(
            select(TagAssignment.tag_code).where(
                TagAssignment.customer_id == customer_id, TagAssignment.valid_to.is_(None)
            )
        )
    )


def both(session: Session, customer: Customer) -> set[str]:
    """Tags after an incremental run, checked equal to those of a full run."""
    service.run_incremental(session, customer.id, as_of=AS_OF)
    incremental = open_tags(session, customer.id)
    service.run_full(session, as_of=AS_OF)
    full = open_tags(session, customer.id)
    assert incremental == full
    return full


def ago(days: int) -> date:
    return AS_OF - timedelta(days=days)


@pytest.mark.parametrize(
    ("amount", "tag"),
    [
        ("499999.99", "value_ordinary"),
        ("500000.00", "value_high"),
        ("500000.01", "value_high"),
        ("99999.99", "value_ordinary"),
    ],
)
def test_value_tier_at_threshold(session: Session, amount: str, tag: str) -> None:
    customer = make_customer(session)
    make_order(session, customer, ordered_on=ago(200), amount=Decimal(amount))
    tags = both(session, customer)
    assert tag in tags
    assert len(tags & {"value_high", "value_potential", "value_ordinary"}) == 1


@pytest.mark.parametrize(
    ("recent", "earlier", "tag"),
    [
        ("60000.00", "50000.00", "value_potential"),  # growth exactly 20%
        ("59995.00", "50000.00", "value_ordinary"),  # 19.99%
        ("100000.00", "0", "value_potential"),  # nothing earlier: growth counts as met
        ("50000.00", "60000.00", "value_ordinary"),
    ],
)
def test_potential_needs_growth(session: Session, recent: str, earlier: str, tag: str) -> None:
    customer = make_customer(session)
    make_order(session, customer, ordered_on=ago(10), amount=Decimal(recent))
    if Decimal(earlier):
        make_order(session, customer, ordered_on=ago(183), amount=Decimal(earlier))
    assert tag in both(session, customer)


@pytest.mark.parametrize(("orders", "tag"), [(3, "frequency_high"), (2, "frequency_medium")])
def test_purchase_frequency_three_vs_two_a_month(session: Session, orders: int, tag: str) -> None:
    customer = make_customer(session, kind="individual", name="张三")
    for n in range(orders):
        make_order(session, customer, ordered_on=ago(n * 10))  # days 0, 10, 20: inside 30 days
    assert tag in both(session, customer)


def test_purchase_frequency_low_and_window_edge(session: Session) -> None:
    customer = make_customer(session, kind="individual", name="李四")
    make_order(session, customer, ordered_on=ago(30))  # day 30 is outside the 30-day window
    make_order(session, customer, ordered_on=ago(95))
    assert "frequency_low" in both(session, customer)


@pytest.mark.parametrize(
    ("first", "last", "tag"),
    [
        (90, 90, "life_new"),
        (400, 90, "life_active"),
        (400, 91, "life_dormant"),
        (400, 180, "life_dormant"),
        (400, 181, "life_churned"),
        (None, None, "life_potential"),
    ],
)
def test_individual_lifecycle(session: Session, first: int | None, last: int | None, tag: str) -> None:
    customer = make_customer(session, kind="individual", name="王五")
    if first is not None and last is not None:
        make_order(session, customer, ordered_on=ago(first))
        make_order(session, customer, ordered_on=ago(last))
    tags = both(session, customer)
    assert tag in tags
    assert len({t for t in tags if t.startswith("life_")}) == 1


@pytest.mark.parametrize(("days", "tag"), [(90, "stage_potential"), (91, "stage_churned")])
def test_company_churn_after_terminate(session: Session, days: int, tag: str) -> None:
    customer = make_customer(session)
    make_contract(session, customer, status="terminated", signed_on=ago(500), terminated_on=ago(days))
    assert tag in both(session, customer)


@pytest.mark.parametrize(("days", "tag"), [(90, "stage_potential"), (91, "stage_churned")])
def test_company_churn_after_end(session: Session, days: int, tag: str) -> None:
    customer = make_customer(session)
    make_contract(session, customer, status="active", signed_on=ago(500), ends_on=ago(days))
    assert tag in both(session, customer)


def test_company_active_and_intent(session: Session) -> None:
    active = make_customer(session)
    make_contract(session, active, status="renewed", signed_on=ago(100), ends_on=AS_OF)
    intent = make_customer(session)
    make_interaction(session, intent, kind="visit", occurred_at=datetime(2026, 6, 1, 3, tzinfo=UTC))
    assert "stage_active" in both(session, active)
    assert "stage_intent" in both(session, intent)


@pytest.mark.parametrize(
    ("amount", "tag"),
    [
        ("100000.00", "amount_high"),
        ("99999.99", "amount_medium"),
        ("30000.00", "amount_medium"),
        ("29999.99", "amount_low"),
    ],
)
def test_individual_amount_tier(session: Session, amount: str, tag: str) -> None:
    customer = make_customer(session, kind="individual", name="赵六")
    make_order(session, customer, ordered_on=ago(364), amount=Decimal(amount))
    assert tag in both(session, customer)


def test_basic_tags_and_classification_code(session: Session) -> None:
    customer = make_customer(
        session,
        industry="制造业",
        employee_count=120,
        founded_on=date(2010, 1, 1),
        region="广东省深圳市",
        customer_type="partner",
    )
    make_order(session, customer, ordered_on=ago(5), amount=Decimal("612300.00"))
    make_contract(session, customer, status="active", signed_on=ago(30))
    tags = both(session, customer)
    assert {
        "industry_c",
        "size_medium",
        "company_age_gt10",
        "region_tier1",
        "type_partner",
        "value_high",
        "stage_active",
    } <= tags
    assert service.codes_of(session, [customer.id]) == {customer.id: "制造业-高价值-合作中"}
    state = session.get(ClassificationState, customer.id)
    assert state is not None and (state.level1, state.level2) == ("制造业-高价值", "合作中")


def test_explanation_and_provenance(session: Session, world: dict[str, object]) -> None:
    from custinfo.auth.policy import Principal

    customer = make_customer(session)
    make_order(session, customer, ordered_on=ago(5), amount=Decimal("612300.00"))
    run = service.run_full(session, as_of=AS_OF)
    steward = Principal(user_id=0, username="steward", role="data_steward", department_id=None)
    views = {v.tag: v for v in service.customer_tags(session, steward, customer.id)}
    high = views["value_high"]
    assert high.explanation == "年合作金额 612,300.00 元 ≥ 500,000.00 元 → 高价值"
    assert high.rule_id == "value.high" and high.rule_set_version == 1
    assert high.features is not None and high.features["annual_amount"] == 61230000
    assert high.assigned_by == f"run:{run.id}"
    english = {v.tag: v for v in service.customer_tags(session, steward, customer.id, language="en")}
    assert english["value_high"].explanation == "annual amount 612,300.00 yuan ≥ 500,000.00 yuan → High value"


def test_history_as_of(session: Session) -> None:
    customer = make_customer(session)
    order = make_order(session, customer, ordered_on=ago(5), amount=Decimal("612300.00"))
    service.run_full(session, as_of=AS_OF)
    assert "value_high" in open_tags(session, customer.id)
    session.delete(order)
    session.flush()
    service.run_full(session, as_of=AS_OF)
    assert "value_high" not in open_tags(session, customer.id)
    rows = session.scalars(
        select(TagAssignment).where(
            TagAssignment.customer_id == customer.id, TagAssignment.tag_code == "value_high"
        )
    ).all()
    assert len(rows) == 1 and rows[0].valid_to is not None


def test_a_full_run_reports_who_moved(session: Session) -> None:
    steady, growing = make_customer(session), make_customer(session)
    first = service.run_full(session, as_of=AS_OF)
    assert first.moved == 2 and [m["customer_id"] for m in first.moves_sample] == [steady.id, growing.id]
    make_order(session, growing, ordered_on=ago(5), amount=Decimal("612300.00"))
    second = service.run_full(session, as_of=AS_OF)
    assert second.moved == 1
    (move,) = second.moves_sample
    assert move["customer_id"] == growing.id and "value_high" in move["added"] and move["removed"]
    third = service.run_full(session, as_of=AS_OF)
    assert (third.moved, third.moves_sample, third.added, third.removed) == (0, [], 0, 0)
