"""Rules as data: validation (pure), versions (publish, diff, re-activate), manual tags."""

from __future__ import annotations

import copy
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy.orm import Session
from tests.factories import make_customer, make_order

from custinfo.auth.policy import Principal
from custinfo.classification import service
from custinfo.classification.rules import TagInfo, diff, validate
from custinfo.classification.taxonomy import defaults
from custinfo.core.errors import Invalid

AS_OF = date(2026, 6, 30)
STEWARD = Principal(user_id=0, username="steward", role="data_steward", department_id=None)
TAGS = {
    t["code"]: TagInfo(t["code"], t["dimension"], t["source"], t["name_zh"], t["name_en"])
    for t in defaults("taxonomy.json")["tags"]
}


def definition() -> dict[str, Any]:
    return copy.deepcopy(defaults("rules.json"))


def test_defaults_are_valid() -> None:
    checked = validate(definition(), TAGS)
    assert {r["tag"] for r in checked["rules"]} == {code for code, t in TAGS.items() if t.source == "rule"}


@pytest.mark.parametrize(
    ("mutate", "field", "rule"),
    [
        (lambda d: d["rules"][0].update(tag="nope"), "rules[0].tag", "classification.unknown_tag"),
        (lambda d: d["rules"][0].update(tag="vip"), "rules[0].tag", "classification.manual_tag"),
        (
            lambda d: d["rules"][1].update(id=d["rules"][0]["id"]),
            "rules[1].id",
            "classification.duplicate_rule",
        ),
        (
            lambda d: d["rules"][0].update(when={"feature": "age_years", "op": "~", "value": 1}),
            "rules[0].when.op",
            "classification.unknown_op",
        ),
        (
            lambda d: d["rules"][0].update(when={"feature": "age_years", "op": ">", "value": "x"}),
            "rules[0].when.value",
            "classification.number_expected",
        ),
        (
            lambda d: d["rules"][0].update(when={"feature": "kind", "op": ">", "value": "a"}),
            "rules[0].when.op",
            "classification.numeric_only",
        ),
        (
            lambda d: d["rules"][0].update(when={"sql": "DROP TABLE customers"}),
            "rules[0].when.feature",
            "classification.unknown_feature",
        ),
        (lambda d: d["parameters"].update(annual_days=0), "parameters.annual_days", "integer.range"),
        (
            lambda d: d["classification_code"].update(level1=["nope"]),
            "classification_code.level1[0]",
            "classification.unknown_dimension",
        ),
    ],
)
def test_invalid_definitions_name_field_and_rule(mutate: Any, field: str, rule: str) -> None:
    d = definition()
    mutate(d)
    with pytest.raises(Invalid) as caught:
        validate(d, TAGS)
    assert (field, rule) in {(e.field, e.rule) for e in caught.value.errors}


def test_diff_names_changed_rules_and_parameters() -> None:
    a, b = definition(), definition()
    b["rules"][0]["when"]["value"] = [19, 25]
    b["parameters"]["short_days"] = 31
    b["rules"].pop()
    kinds = {(c.kind, c.key) for c in diff(a, b)}
    assert ("rule_changed", a["rules"][0]["id"]) in kinds
    assert ("parameter_changed", "short_days") in kinds
    assert ("rule_removed", a["rules"][-1]["id"]) in kinds


def test_publish_retags_and_reactivate_restores(session: Session) -> None:
    customer = make_customer(session)
    make_order(session, customer, ordered_on=AS_OF - timedelta(days=3), amount=Decimal("450000.00"))
    service.run_full(session, as_of=AS_OF)
    first = service.current_rule_set(session)
    assert "value_high" not in _tags(session, customer.id)
    changed = definition()
    next(r for r in changed["rules"] if r["id"] == "value.high")["when"]["value"] = "400000.00"
    second = service.publish_rule_set(session, changed, "门槛下调 / lower threshold", "steward", "head_east")
    assert second.number == first.number + 1 and second.is_active and second.approved_by == "head_east"
    assert "value_high" not in _tags(session, customer.id)  # re-tagging is a queued job, not done here
    service.run_full(session, as_of=AS_OF)
    assert "value_high" in _tags(session, customer.id)
    assert [c.key for c in service.diff_versions(session, first.id, second.id)] == ["value.high"]
    third = service.activate_version(session, first.id, "恢复 / restore", "steward", "head_east")
    assert third.based_on_id == first.id and third.definition == first.definition
    service.run_full(session, as_of=AS_OF)
    assert "value_high" not in _tags(session, customer.id)
    with pytest.raises(Invalid):
        service.publish_rule_set(session, changed, " ", "steward", "head_east")


def test_manual_tag_with_reason_and_removal(session: Session) -> None:
    customer = make_customer(session)
    run = service.set_manual_tag(session, customer.id, "vip", True, "年度战略客户", "steward", "head_east")
    assert run.mode == "incremental" and run.trigger == "manual"
    views = {v.tag: v for v in service.customer_tags(session, STEWARD, customer.id)}
    assert views["vip"].explanation == "人工标记：年度战略客户，经 steward/head_east → VIP客户"
    with pytest.raises(Invalid):
        service.set_manual_tag(session, customer.id, "value_high", True, "x", "steward", "head_east")
    service.set_manual_tag(session, customer.id, "vip", False, "降级", "steward", "head_east")
    assert "vip" not in _tags(session, customer.id)


def _tags(session: Session, customer_id: int) -> set[str]:
    return {v.tag for v in service.customer_tags(session, STEWARD, customer_id)}
