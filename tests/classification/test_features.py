"""Feature values from the one SQL definition: windows, exact ratios, age from the clear birth year, region tier."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session
from tests.factories import make_contract, make_customer, make_interaction, make_order

from custinfo.classification import engine, repository
from custinfo.classification.taxonomy import tag_index

AS_OF = date(2026, 6, 30)


def features(session: Session, customer_id: int) -> dict[str, Any]:
    version = repository.active_version(session)
    plan = engine.build_plan(version.definition, tag_index(session), AS_OF, one_customer=True)
    return dict(session.execute(plan.select, {"customer_id": customer_id}).mappings().one())


def test_order_windows_and_recency(session: Session) -> None:
    c = make_customer(session, kind="individual", name="窗口")
    for days, amount in (
        (0, "1.00"),
        (29, "2.00"),
        (30, "4.00"),
        (182, "8.00"),
        (183, "16.00"),
        (364, "32.00"),
        (365, "64.00"),
        (-1, "128.00"),
    ):
        make_order(session, c, ordered_on=AS_OF - timedelta(days=days), amount=Decimal(amount))
    f = features(session, c.id)
    assert f["annual_amount"] == 100 + 200 + 400 + 800 + 1600 + 3200  # day 365 and the future are out
    assert f["amount_recent"] == 100 + 200 + 400 + 800
    assert f["amount_earlier"] == 1600 + 3200 + 6400
    assert (f["orders_30d"], f["orders_90d"]) == (2, 3)
    assert (f["last_order_days"], f["first_order_days"]) == (0, 365)


def test_age_from_birth_year_kept_beside_the_encrypted_date(session: Session) -> None:
    c = make_customer(session, kind="individual", name="年龄", birth_date=date(2000, 12, 31))
    assert c.birth_year == 2000
    assert features(session, c.id)["age_years"] == 26


def test_region_tier_company_age_and_size(session: Session) -> None:
    rural = make_customer(
        session, region="广西壮族自治区桂林市阳朔县", founded_on=date(2021, 7, 1), employee_count=49
    )
    city = make_customer(session, region="广东省深圳市", founded_on=date(2021, 6, 30))
    f_rural, f_city = features(session, rural.id), features(session, city.id)
    assert (f_rural["region_tier"], f_city["region_tier"]) == ("rural", "tier1")
    assert (f_rural["company_age_years"], f_city["company_age_years"]) == (4, 5)


def test_contracts_and_interactions(session: Session) -> None:
    c = make_customer(session)
    make_contract(
        session,
        c,
        status="terminated",
        signed_on=AS_OF - timedelta(days=400),
        terminated_on=AS_OF - timedelta(days=100),
    )
    make_contract(session, c, status="negotiating", signed_on=None)
    for kind, days in (("complaint", 1), ("complaint", 2), ("visit", 10), ("call", 200)):
        make_interaction(
            session,
            c,
            kind=kind,
            satisfaction=2,
            occurred_at=datetime(2026, 6, 30, 3, tzinfo=UTC) - timedelta(days=days),
        )
    f = features(session, c.id)
    assert (f["active_contracts"], f["negotiating_contracts"], f["contract_ended_days"]) == (0, 1, 100)
    assert (f["interactions_365d"], f["complaints_365d"], f["contacts_90d"]) == (4, 2, 1)
    assert (f["satisfaction_sum"], f["satisfaction_count"]) == (8, 4)
