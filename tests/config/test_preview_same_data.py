"""The rule-change preview compares the candidate and the active rules on the same data (issue 10, item 11)."""

from __future__ import annotations

import copy
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy.orm import Session
from tests.factories import make_customer, make_order

from custinfo.classification import service

AS_OF = date(2026, 6, 30)


def _by_tag(impact: service.Impact) -> dict[str, object]:
    return {t.tag: t for t in impact.tags}


def test_unchanged_rules_preview_no_change_even_after_data_drift(session: Session) -> None:
    customer = make_customer(session)
    make_order(session, customer, ordered_on=AS_OF - timedelta(days=200), amount=Decimal("100000.00"))
    service.run_full(session, as_of=AS_OF)
    # Drift: the customer now buys enough to be high value, but no run has happened since.
    make_order(session, customer, ordered_on=AS_OF - timedelta(days=100), amount=Decimal("600000.00"))
    session.flush()
    session.info.pop("reclassify", None)
    current = service.current_rule_set(session).definition
    impact = service.preview_rule_set(session, copy.deepcopy(current), AS_OF)
    assert impact.changed == []
    assert _by_tag(impact)["value_high"].current == _by_tag(impact)["value_high"].new  # type: ignore[attr-defined]


def test_a_threshold_change_shows_only_the_customers_it_moves(session: Session) -> None:
    moved = make_customer(session, name="门槛内公司")
    make_order(session, moved, ordered_on=AS_OF - timedelta(days=100), amount=Decimal("450000.00"))
    steady = make_customer(session, name="稳定高值公司")
    make_order(session, steady, ordered_on=AS_OF - timedelta(days=100), amount=Decimal("900000.00"))
    definition = copy.deepcopy(service.current_rule_set(session).definition)
    for rule in definition["rules"]:
        if rule["id"] == "value.high":
            rule["when"] = _lower(rule["when"])
    impact = _by_tag(service.preview_rule_set(session, definition, AS_OF))
    high = impact["value_high"]
    assert high.entering == 1 and high.leaving == 0  # type: ignore[attr-defined]
    assert [s["name"] for s in high.entering_sample] == ["门槛内公司"]  # type: ignore[attr-defined]
    assert high.new - high.current == 1  # type: ignore[attr-defined]


def _lower(node: dict[str, object]) -> dict[str, object]:
    """The condition with the 500,000 threshold lowered to 400,000."""
    if node.get("value") == "500000.00":
        return {**node, "value": "400000.00"}
    for key in ("all", "any"):
        if isinstance(node.get(key), list):
            return {key: [_lower(child) for child in node[key]]}  # type: ignore[union-attr]
    return node
