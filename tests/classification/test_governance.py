"""Tag governance: nothing takes effect before approval; reject, request changes, resubmit; no self-approval."""

from __future__ import annotations

import copy
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from tests.factories import make_customer, make_order, make_user

from custinfo.auth.models import User
from custinfo.auth.policy import Principal
from custinfo.classification import service as classification
from custinfo.classification.governance import service as governance
from custinfo.classification.governance.models import ProposalStep
from custinfo.classification.models import TagAssignment
from custinfo.core.errors import Conflict, Invalid, NotFound, NotPermitted
from custinfo.jobs import runner


def as_principal(user: User) -> Principal:
    return Principal(user.id, user.username, user.role, user.department_id)


def open_tags(session: Session, customer_id: int) -> set[str]:
    stmt = select(TagAssignment.tag_code).where(
        TagAssignment.customer_id == customer_id, TagAssignment.valid_to.is_(None)
    )
    return set(session.scalars(stmt))


def with_threshold(definition: dict[str, Any], rule_id: str, value: str) -> dict[str, Any]:
    changed = copy.deepcopy(definition)
    for rule in changed["rules"]:
        if rule["id"] == rule_id:
            rule["when"]["value"] = value
    return changed


@pytest.fixture
def cast(session: Session, world: dict[str, User]) -> dict[str, Principal]:
    return {name: as_principal(user) for name, user in world.items()}


@pytest.fixture
def steady_customer(session: Session, world: dict[str, User]) -> int:
    """A company with 450,000 yuan a year and no growth: ordinary value, high value if the bar drops to 400,000."""
    today = date.today()
    customer = make_customer(session, world["sales_east1"])
    make_order(session, customer, ordered_on=today - timedelta(days=30), amount=Decimal("225000.00"))
    make_order(session, customer, ordered_on=today - timedelta(days=250), amount=Decimal("225000.00"))
    classification.run_full(session)
    assert "value_ordinary" in open_tags(session, customer.id)
    return customer.id


def propose_lower_bar(session: Session, steward: Principal) -> Any:
    definition = with_threshold(
        classification.current_rule_set(session).definition, "value.high", "400000.00"
    )
    return governance.propose(
        session, steward, "rule_change", {"definition": definition}, reason="高价值门槛下调到 40 万"
    )


def retag(session: Session, factory: sessionmaker[Session]) -> None:
    """Run the `classify` job an approval queued (the runner's work in `serve`)."""
    session.commit()
    assert [run.status for run in runner.run_queued(factory)] == ["succeeded"]


def test_rule_change_takes_effect_only_when_approved(
    session: Session, session_factory: sessionmaker[Session], cast: dict[str, Principal], steady_customer: int
) -> None:
    proposal = propose_lower_bar(session, cast["steward"])
    assert proposal.status == "pending"
    impact = {row["tag"]: row for row in proposal.impact["tags"]}
    assert impact["value_high"]["entering"] >= 1
    assert steady_customer in [c["id"] for c in impact["value_high"]["entering_sample"]]
    before_version = classification.current_rule_set(session).number
    assert "value_high" not in open_tags(session, steady_customer)  # a proposal changes nothing

    approved = governance.approve(session, cast["head_east"], proposal.id, "同意")
    assert approved.status == "approved" and approved.decided_by == "head_east"
    assert classification.current_rule_set(session).number == before_version + 1
    assert approved.result == {"version": before_version + 1, "job_run": approved.result["job_run"]}
    assert "value_high" not in open_tags(session, steady_customer)  # re-tagging is queued, not done inline
    retag(session, session_factory)
    assert "value_high" in open_tags(session, steady_customer)
    assert [s.action for s in approved.steps] == ["proposed", "approved"]
    assert approved.steps[1].actor_role == "dept_head" and approved.steps[1].comment == "同意"


def test_reject_is_final_and_changes_nothing(
    session: Session, cast: dict[str, Principal], steady_customer: int
) -> None:
    proposal = propose_lower_bar(session, cast["steward"])
    version = classification.current_rule_set(session).number
    with pytest.raises(Invalid) as refused:
        governance.reject(session, cast["head_east"], proposal.id, "  ")
    assert refused.value.errors[0].field == "comment"
    governance.reject(session, cast["head_east"], proposal.id, "影响面过大")
    assert proposal.status == "rejected"
    assert classification.current_rule_set(session).number == version
    assert "value_high" not in open_tags(session, steady_customer)
    with pytest.raises(Conflict):
        governance.approve(session, cast["head_south"], proposal.id)
    with pytest.raises(Conflict):
        governance.revise(session, cast["steward"], proposal.id, None, comment="再试")


def test_request_changes_then_resubmit_then_approve(
    session: Session, session_factory: sessionmaker[Session], cast: dict[str, Principal], steady_customer: int
) -> None:
    proposal = propose_lower_bar(session, cast["steward"])
    governance.request_changes(session, cast["head_east"], proposal.id, "请改为 45 万")
    assert proposal.status == "changes_requested"
    with pytest.raises(Conflict):  # sent back: nothing to decide until resubmitted
        governance.approve(session, cast["head_east"], proposal.id)
    with pytest.raises(NotPermitted):  # only the proposer revises
        governance.revise(session, cast["admin"], proposal.id, None)

    definition = with_threshold(
        classification.current_rule_set(session).definition, "value.high", "450000.00"
    )
    governance.revise(
        session, cast["steward"], proposal.id, {"definition": definition}, comment="已改为 45 万"
    )
    assert proposal.status == "pending" and proposal.revision == 2
    assert proposal.payload["definition"] == definition
    governance.add_comment(session, cast["head_east"], proposal.id, "看过了")
    governance.approve(session, cast["head_east"], proposal.id)
    retag(session, session_factory)
    assert "value_high" in open_tags(session, steady_customer)  # 450,000 ≥ 450,000
    assert [s.action for s in proposal.steps] == [
        "proposed",
        "changes_requested",
        "revised",
        "commented",
        "approved",
    ]
    assert [s.revision for s in proposal.steps] == [1, 1, 2, 2, 2]


def test_nobody_approves_their_own_proposal(
    session: Session, cast: dict[str, Principal], world: dict[str, User]
) -> None:
    governance.update_settings(session, cast["admin"], {"reviewer_roles": ["dept_head", "data_steward"]})
    proposal = governance.propose(
        session,
        cast["steward"],
        "new_tag",
        {"code": "green_buyer", "category": "preference", "name_zh": "绿色采购", "name_en": "Green buyer"},
        reason="环保品类需求上升",
    )
    with pytest.raises(NotPermitted) as refused:
        governance.approve(session, cast["steward"], proposal.id)
    assert refused.value.detail_key == "proposal.self_review"
    other_steward = as_principal(make_user(session, "steward2", "data_steward"))
    governance.approve(session, other_steward, proposal.id)  # a configured business role reviews
    assert classification.get_tag(session, "green_buyer").name_zh == "绿色采购"


def test_reviewers_are_dept_head_and_configured_roles(session: Session, cast: dict[str, Principal]) -> None:
    assert governance.reviewer_roles(session) == ["dept_head"]
    proposal = propose_lower_bar(session, cast["steward"])
    for name in ("sales_east1", "service1", "marketing", "auditor", "admin"):
        with pytest.raises(NotPermitted):
            governance.approve(session, cast[name], proposal.id)
    with pytest.raises(NotPermitted):
        governance.update_settings(session, cast["steward"], {"reviewer_roles": ["marketing"]})
    governance.update_settings(session, cast["admin"], {"reviewer_roles": ["marketing"]})
    assert governance.can_review(session, cast["marketing"])
    with pytest.raises(NotPermitted):
        governance.propose(session, cast["head_east"], "reactivate", {"version": 1}, "x")


def test_settings_are_checked_whole_before_any_is_written(
    session: Session, cast: dict[str, Principal]
) -> None:
    before = governance.settings(session)
    with pytest.raises(Invalid) as refused:
        governance.update_settings(
            session,
            cast["admin"],
            {
                "reviewer_roles": ["auditor"],
                "quality_review_cadence_days": "0",
                "anomaly_flip_share": "lots",
                "colour": "blue",
                "churn_window_days": 120,
            },
        )
    rules = {(e.field, e.rule) for e in refused.value.errors}
    assert rules == {
        ("reviewer_roles", "vocabulary.unknown"),
        ("quality_review_cadence_days", "integer.range"),
        ("anomaly_flip_share", "number.format"),
        ("colour", "vocabulary.unknown"),
    }
    assert governance.settings(session) == before  # the valid churn window was not saved either
    saved = governance.update_settings(
        session, cast["admin"], {"churn_window_days": "120", "anomaly_flip_share": 0.25}
    )
    assert saved["churn_window_days"] == 120 and saved["anomaly_flip_share"] == 0.25


def test_manual_vip_goes_through_review(
    session: Session, cast: dict[str, Principal], world: dict[str, User]
) -> None:
    east = make_customer(session, world["sales_east1"])
    proposal = governance.propose(
        session,
        cast["steward"],
        "manual_tag",
        {"customer_id": east.id, "tag_code": "vip", "add": True},
        "年度大客户",
    )
    assert "vip" not in open_tags(session, east.id)
    with pytest.raises(NotFound):  # the south head cannot see an east customer, so cannot decide on it
        governance.approve(session, cast["head_south"], proposal.id)
    governance.approve(session, cast["head_east"], proposal.id)
    assert "vip" in open_tags(session, east.id)

    removal = governance.propose(
        session,
        cast["steward"],
        "manual_tag",
        {"customer_id": east.id, "tag_code": "vip", "add": False},
        "合作降级",
    )
    governance.approve(session, cast["head_east"], removal.id)
    assert "vip" not in open_tags(session, east.id)


def test_reactivate_an_earlier_version(
    session: Session, session_factory: sessionmaker[Session], cast: dict[str, Principal], steady_customer: int
) -> None:
    first = classification.current_rule_set(session).number
    governance.approve(session, cast["head_east"], propose_lower_bar(session, cast["steward"]).id)
    retag(session, session_factory)
    assert "value_high" in open_tags(session, steady_customer)
    with pytest.raises(Invalid) as refused:
        governance.propose(session, cast["steward"], "reactivate", {"version": first + 1}, "已经生效")
    assert refused.value.errors[0].rule == "rule_set.already_active"
    proposal = governance.propose(session, cast["steward"], "reactivate", {"version": first}, "恢复原门槛")
    assert "value_high" in open_tags(session, steady_customer)
    governance.approve(session, cast["head_east"], proposal.id)
    assert proposal.result == {
        "version": first + 2,
        "reactivated": first,
        "job_run": proposal.result["job_run"],
    }
    retag(session, session_factory)
    assert "value_high" not in open_tags(session, steady_customer)


def test_stale_rule_change_must_be_revised(
    session: Session, cast: dict[str, Principal], steady_customer: int
) -> None:
    older = propose_lower_bar(session, cast["steward"])
    newer = propose_lower_bar(session, cast["steward"])
    governance.approve(session, cast["head_east"], newer.id)
    with pytest.raises(Conflict) as refused:
        governance.approve(session, cast["head_east"], older.id)
    assert refused.value.detail_key == "proposal.stale_base"


@pytest.mark.parametrize(
    ("kind", "payload", "field", "rule"),
    [
        (
            "new_tag",
            {"code": "Bad Code", "category": "value", "name_zh": "x", "name_en": "x"},
            "payload.code",
            "tag.code_format",
        ),
        (
            "new_tag",
            {"code": "vip", "category": "value", "name_zh": "x", "name_en": "x"},
            "payload.code",
            "tag.code_taken",
        ),
        (
            "new_tag",
            {"code": "ok_code", "category": "nope", "name_zh": "x", "name_en": "x"},
            "payload.category",
            "vocabulary.unknown",
        ),
        (
            "manual_tag",
            {"customer_id": 1, "tag_code": "value_high"},
            "payload.tag_code",
            "vocabulary.unknown",
        ),
        ("manual_tag", {"tag_code": "vip"}, "payload.customer_id", "field.required"),
        ("reactivate", {"version": 999}, "payload.version", "rule_set.unknown_version"),
        ("rule_change", {"definition": {}}, "payload.definition", "field.required"),
        ("surprise", {}, "kind", "vocabulary.unknown"),
    ],
)
def test_invalid_proposals_name_field_and_rule(
    session: Session, cast: dict[str, Principal], kind: str, payload: dict[str, Any], field: str, rule: str
) -> None:
    with pytest.raises(Invalid) as refused:
        governance.propose(session, cast["steward"], kind, payload, "原因")
    assert (refused.value.errors[0].field, refused.value.errors[0].rule) == (field, rule)
    assert session.scalar(select(ProposalStep.id).limit(1)) is None  # nothing half-saved
