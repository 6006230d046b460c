"""Explanations in words (issue 10 item 5): values by label, missed thresholds, the latest evaluation."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from tests.factories import make_customer, make_order

from custinfo.activity.models import EngagementEvent
from custinfo.auth.policy import Principal
from custinfo.classification import explain, service
from custinfo.classification.engine.products import product_lists
from custinfo.classification.explain import holds, missed, value_label
from custinfo.classification.models import ClassificationEvaluation

AS_OF = date(2026, 6, 30)
STEWARD = Principal(user_id=0, username="steward", role="data_steward", department_id=None)


def _views(session: Session, customer_id: int, language: str = "zh_CN") -> dict[str, service.AssignmentView]:
    return {v.tag: v for v in service.customer_tags(session, STEWARD, customer_id, None, language)}


def test_values_are_told_by_their_labels(session: Session) -> None:
    customer = make_customer(session, region="浙江省杭州市")
    service.run_full(session, as_of=AS_OF)
    views = _views(session, customer.id)
    assert views["region_tier2"].explanation == "地域等级为二线城市 → 二线城市"
    assert "tier2" not in views["region_tier2"].explanation
    stage = views["stage_potential"].explanation
    assert "客户类型为企业客户" in stage and "company" not in stage
    english = _views(session, customer.id, "en")
    assert english["region_tier2"].explanation.startswith("region tier is tier-2 city → ")
    assert value_label("core_need", "technical_service", "zh_CN") == "技术服务"
    assert value_label("core_need", "technical_service", "en") == "Technical service"


def test_a_fallback_rule_says_which_thresholds_were_missed(session: Session) -> None:
    customer = make_customer(session)
    make_order(session, customer, ordered_on=AS_OF - timedelta(days=30), amount=Decimal("60000.00"))
    make_order(session, customer, ordered_on=AS_OF - timedelta(days=250), amount=Decimal("60000.00"))
    service.run_full(session, as_of=AS_OF)
    why = _views(session, customer.id)["value_ordinary"].explanation
    assert why == "年合作金额 120,000.00 元 < 500,000.00 元，近6个月增长率 0% < 20% → 普通客户"
    english = _views(session, customer.id, "en")["value_ordinary"].explanation
    assert (
        english == "annual amount 120,000.00 yuan < 500,000.00 yuan; 6-month growth 0% < 20% → Ordinary value"
    )


def test_missed_and_holds_on_kept_figures() -> None:
    figures = {"annual_amount": 12_000_000, "amount_recent": 100, "amount_earlier": 100}
    rule = {
        "all": [
            {"feature": "annual_amount", "op": ">=", "value": "100000.00"},
            {"feature": "growth", "op": ">=", "value": "0.20"},
        ]
    }
    assert holds(rule, figures) is False
    assert missed(rule, figures, "zh_CN") == ["近6个月增长率 0% < 20%"]
    assert holds({"feature": "orders_30d", "op": ">=", "value": 1}, figures) is None  # not kept
    between = {"feature": "age_years", "op": "between", "value": [18, 25]}
    assert missed(between, {"age_years": 40}, "zh_CN") == ["年龄 40 岁 > 25 岁"]


def test_a_confirmed_tag_shows_the_latest_figures_with_the_earlier_in_its_history(session: Session) -> None:
    customer = make_customer(session)
    make_order(session, customer, ordered_on=AS_OF - timedelta(days=10), amount=Decimal("500000.00"))
    service.run_full(session, as_of=AS_OF)
    first = _views(session, customer.id)["value_high"]
    assert first.explanation == "年合作金额 500,000.00 元 ≥ 500,000.00 元 → 高价值" and first.history == []
    make_order(session, customer, ordered_on=AS_OF - timedelta(days=5), amount=Decimal("100000.00"))
    later = AS_OF + timedelta(days=1)
    service.run_full(session, as_of=later)
    view = _views(session, customer.id)["value_high"]
    assert view.explanation == "年合作金额 600,000.00 元 ≥ 500,000.00 元 → 高价值"
    assert view.evaluated_as_of == later and view.as_of == AS_OF  # still the same assignment
    assert [(e.as_of, e.explanation) for e in view.history] == [
        (AS_OF, "年合作金额 500,000.00 元 ≥ 500,000.00 元 → 高价值")
    ]
    assert view.features == {"annual_amount": 60_000_000, "amount_recent": 60_000_000, "amount_earlier": 0}
    # a re-run over the same figures writes no new history
    before = session.scalar(select(func.count()).select_from(ClassificationEvaluation))
    service.run_full(session, as_of=later + timedelta(days=1))
    assert session.scalar(select(func.count()).select_from(ClassificationEvaluation)) == before


def test_the_incremental_run_refreshes_the_figures_too(session: Session) -> None:
    customer = make_customer(session)
    make_order(session, customer, ordered_on=AS_OF - timedelta(days=10), amount=Decimal("500000.00"))
    service.run_incremental(session, customer.id, as_of=AS_OF)
    make_order(session, customer, ordered_on=AS_OF - timedelta(days=5), amount=Decimal("100000.00"))
    service.run_incremental(session, customer.id, as_of=AS_OF)
    view = _views(session, customer.id)["value_high"]
    assert view.explanation.startswith("年合作金额 600,000.00 元")
    assert [e.explanation for e in view.history] == ["年合作金额 500,000.00 元 ≥ 500,000.00 元 → 高价值"]


def test_popular_and_new_products_come_from_the_orders(session: Session) -> None:
    buyer = make_customer(session)
    for days in (3, 10, 20, 40, 60):
        make_order(
            session, buyer, ordered_on=AS_OF - timedelta(days=days), product="自研网关", category="网关"
        )
    make_order(session, buyer, ordered_on=AS_OF - timedelta(days=400), product="老款网关", category="网关")
    make_order(session, buyer, ordered_on=AS_OF - timedelta(days=10), product="新款面板", category="面板")
    viewer = make_customer(session)
    for product in ("自研网关", "自研网关", "自研网关", "新款面板", "新款面板", "老款网关"):
        session.add(
            EngagementEvent(
                customer_id=viewer.id,
                occurred_at=datetime(2026, 6, 29, 3, tzinfo=UTC),
                event_type="product_view",
                product=product,
                category="网关",
                is_new_product=False,
            )
        )
    session.flush()
    popular, new = product_lists(session, {"quarter_days": 90, "popular_top_n": 1}, AS_OF)
    assert popular == ["自研网关"] and new == ["新款面板", "自研网关"]
    service.run_full(session, as_of=AS_OF)
    views = _views(session, viewer.id)
    # ten products are popular by default: both products ordered lately count
    assert views["browse_popular"].explanation == "近90天热门产品浏览次数 5 次 ≥ 3 次 → 关注热门产品"
    assert views["browse_new"].explanation.startswith("近90天新品浏览次数 5 次")
    service.run_incremental(session, viewer.id, as_of=AS_OF)  # the same lists for one customer
    assert {"browse_popular", "browse_new"} <= set(_views(session, viewer.id))


def test_a_rule_gone_from_its_version_is_told_without_its_id(session: Session) -> None:
    customer = make_customer(session)
    service.run_full(session, as_of=AS_OF)
    view = service.customer_tags(session, STEWARD, customer.id)[0]
    view.rule_id = "occupation.commerce_service_gone"
    [told] = explain.attach(session, [view], "zh_CN")
    assert told.explanation.startswith("给出此标签的规则已不在规则版本 v") and "_" not in told.explanation
