"""Tag quality figures on small crafted histories: size, coverage, churn, usage, error rate, anomalies, reminder."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

import pytest
from sqlalchemy.orm import Session
from tests.factories import make_customer, make_order

from custinfo.auth.models import User
from custinfo.auth.policy import Principal
from custinfo.classification import service as classification
from custinfo.classification.governance.models import Proposal, TagUsage
from custinfo.classification.models import TagAssignment
from custinfo.classification.tag_quality import service as quality
from custinfo.core.errors import Conflict, Invalid, NotFound, NotPermitted

TODAY = date.today()


def at(days_ago: int) -> datetime:
    return datetime.combine(TODAY - timedelta(days=days_ago), time(9), tzinfo=UTC)


def as_principal(user: User) -> Principal:
    return Principal(user.id, user.username, user.role, user.department_id)


def assign(session: Session, customer_id: int, tag: str, since: int, until: int | None = None) -> None:
    session.add(
        TagAssignment(
            customer_id=customer_id,
            tag_code=tag,
            source="manual" if tag == "vip" else "rule",
            valid_from=at(since),
            valid_to=at(until) if until is not None else None,
            assigned_by="test",
        )
    )


@pytest.fixture
def crafted(session: Session, world: dict[str, User]) -> list[int]:
    """Ten companies: nine ordinary and one high value for 200 days; VIP came and went, and came again."""
    ids = [make_customer(session, world["sales_east1"]).id for _ in range(10)]
    for cid in ids[:9]:
        assign(session, cid, "value_ordinary", since=200)
    assign(session, ids[9], "value_high", since=200)
    assign(session, ids[0], "vip", since=40, until=30)
    assign(session, ids[1], "vip", since=20)
    session.add_all(
        [
            TagUsage(tag_code="value_high", kind="filter", actor="a", occurred_at=at(5)),
            TagUsage(tag_code="value_high", kind="filter", actor="a", occurred_at=at(6)),
            TagUsage(tag_code="value_high", kind="export", actor="a", occurred_at=at(7)),
            TagUsage(
                tag_code="value_high", kind="filter", actor="a", occurred_at=at(120)
            ),  # before the window
        ]
    )
    session.flush()
    return ids


def row(report: quality.QualityReport, code: str) -> quality.TagQuality:
    return next(r for r in report.tags if r.code == code)


def test_size_coverage_churn_usage(session: Session, world: dict[str, User], crafted: list[int]) -> None:
    report = quality.quality_report(session, as_principal(world["steward"]), TODAY)
    ordinary, high, potential, vip = (
        row(report, c) for c in ("value_ordinary", "value_high", "value_potential", "vip")
    )
    assert (ordinary.size, ordinary.population, ordinary.coverage) == (9, 10, 0.9)
    assert (high.size, high.coverage) == (1, 0.1)
    assert high.usage == {"filter": 2, "segment": 0, "export": 1}
    assert (ordinary.entered, ordinary.left, ordinary.churn) == (0, 0, 0.0)
    assert potential.size == 0 and potential.anomalies == ["empty"]
    assert "swallows" in ordinary.anomalies  # 90% of the value tier
    assert (vip.size, vip.population, vip.entered, vip.left) == (1, 10, 2, 1)
    assert vip.churn == 3.0 and "flips" in vip.anomalies
    assert ("value_potential", "empty") in [(r.code, kind) for r, kind in report.anomalies]


def test_membership_on_a_past_date(session: Session, world: dict[str, User], crafted: list[int]) -> None:
    report = quality.quality_report(session, as_principal(world["head_east"]), TODAY - timedelta(days=35))
    vip = row(report, "vip")
    assert (vip.size, vip.entered, vip.left) == (1, 1, 0)  # on that day VIP had just come


def test_corrections_feed_the_error_rate(
    session: Session, world: dict[str, User], crafted: list[int]
) -> None:
    sales, steward = as_principal(world["sales_east1"]), as_principal(world["steward"])
    wrong = quality.report_correction(session, sales, crafted[9], "value_high", "只是一次性大单")
    with pytest.raises(Conflict):
        quality.report_correction(session, sales, crafted[9], "value_high", "再报一次")
    with pytest.raises(NotFound):
        quality.report_correction(session, sales, crafted[9], "no_such_tag", "x")
    with pytest.raises(NotFound):  # out of scope looks absent
        quality.report_correction(session, as_principal(world["sales_south1"]), crafted[9], "value_high", "x")
    with pytest.raises(Invalid):
        quality.report_correction(session, sales, crafted[8], "value_ordinary", " ")
    assert row(quality.quality_report(session, steward, TODAY), "value_high").open_corrections == 1

    with pytest.raises(NotPermitted):
        quality.resolve_correction(session, sales, wrong.id, "accepted", "x", "rule_fix")
    with pytest.raises(Invalid) as refused:
        quality.resolve_correction(session, steward, wrong.id, "accepted", "x", "manual_removal")
    assert refused.value.errors[0].rule == "correction.manual_only"
    quality.resolve_correction(session, steward, wrong.id, "accepted", "一次性大单不应计入", "rule_fix")
    high = row(quality.quality_report(session, steward, TODAY), "value_high")
    assert (high.corrections, high.accepted, high.open_corrections, high.error_rate) == (1, 1, 0, 1.0)
    with pytest.raises(Conflict):
        quality.resolve_correction(session, steward, wrong.id, "rejected", "改主意")


def test_accepted_manual_correction_becomes_a_removal_proposal(
    session: Session, world: dict[str, User], crafted: list[int]
) -> None:
    steward = as_principal(world["steward"])
    wrong = quality.report_correction(
        session, as_principal(world["head_east"]), crafted[1], "vip", "已不是大客户"
    )
    quality.resolve_correction(session, steward, wrong.id, "accepted", "同意移除", "manual_removal")
    proposal = session.get(Proposal, wrong.proposal_id)
    assert proposal is not None and proposal.kind == "manual_tag" and proposal.status == "pending"
    assert proposal.payload == {"customer_id": crafted[1], "tag_code": "vip", "add": False}
    rejected = quality.report_correction(
        session, as_principal(world["sales_east1"]), crafted[2], "value_ordinary", "x"
    )
    with pytest.raises(Invalid):  # a rejection needs a note
        quality.resolve_correction(session, steward, rejected.id, "rejected", "")
    quality.resolve_correction(session, steward, rejected.id, "rejected", "数据无误")
    assert rejected.status == "rejected" and rejected.proposal_id is None


def test_figures_and_corrections_count_only_the_callers_department(
    session: Session, world: dict[str, User], crafted: list[int]
) -> None:
    quality.report_correction(session, as_principal(world["sales_east1"]), crafted[3], "value_ordinary", "x")
    east = row(quality.quality_report(session, as_principal(world["head_east"])), "value_ordinary")
    assert (east.size, east.open_corrections) == (9, 1)
    for other in ("head_south", "auditor"):  # the crafted customers are all of the east department
        report = quality.quality_report(session, as_principal(world[other]))
        figures = row(report, "value_ordinary")
        assert (figures.size, figures.population, figures.open_corrections) == (0, 0, 0), other
        assert quality.list_corrections(session, as_principal(world[other])) == [], other
    assert len(quality.list_corrections(session, as_principal(world["head_east"]))) == 1


def test_reporters_see_only_their_own_corrections(
    session: Session, world: dict[str, User], crafted: list[int]
) -> None:
    quality.report_correction(session, as_principal(world["sales_east1"]), crafted[3], "value_ordinary", "x")
    quality.report_correction(session, as_principal(world["head_east"]), crafted[4], "value_ordinary", "y")
    assert len(quality.list_corrections(session, as_principal(world["sales_east1"]))) == 1
    assert len(quality.list_corrections(session, as_principal(world["steward"]))) == 2
    with pytest.raises(NotPermitted):
        quality.list_corrections(session, as_principal(world["marketing"]))


def test_quarterly_review_reminder(session: Session, world: dict[str, User], crafted: list[int]) -> None:
    first = quality.reminder(session, TODAY)
    assert first.last_reviewed_on is None and first.next_due_on == TODAY - timedelta(days=200 - 91)
    assert first.state == "overdue" and first.days_left == -109
    with pytest.raises(NotPermitted):
        quality.complete_review(session, as_principal(world["head_east"]))
    quality.complete_review(session, as_principal(world["steward"]), "Q3 复核", today=TODAY)
    assert quality.reminder(session, TODAY).state == "ok"
    assert quality.reminder(session, TODAY + timedelta(days=80)).state == "due_soon"
    assert quality.reminder(session, TODAY + timedelta(days=91)).state == "due"
    assert quality.reminder(session, TODAY + timedelta(days=92)).state == "overdue"


def test_quality_needs_its_permission(session: Session, world: dict[str, User]) -> None:
    for name in ("sales_east1", "service1", "marketing"):
        with pytest.raises(NotPermitted):
            quality.quality_report(session, as_principal(world[name]))


def test_the_first_full_run_is_a_baseline_not_churn(session: Session, world: dict[str, User]) -> None:
    customers = [make_customer(session, world["sales_east1"]) for _ in range(3)]
    for customer in customers:
        make_order(session, customer, ordered_on=TODAY - timedelta(days=20), amount=Decimal("1000.00"))
    classification.run_full(session)
    steward = as_principal(world["steward"])
    ordinary = row(quality.quality_report(session, steward), "value_ordinary")
    assert ordinary.size >= 3 and ordinary.entered == 0 and "flips" not in ordinary.anomalies

    make_order(session, customers[0], ordered_on=TODAY - timedelta(days=5), amount=Decimal("600000.00"))
    classification.run_full(session)
    report = quality.quality_report(session, steward)
    assert (row(report, "value_high").entered, row(report, "value_ordinary").left) == (1, 1)
