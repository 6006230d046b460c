"""Every rule parameter editable (numbers, yes/no, texts, lists), the readable version diff, and the
classification-code dimensions, through the editor's pure functions and real HTTP."""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session
from tests.web.test_pages import csrf_of, sign_in

from custinfo.auth.models import User
from custinfo.classification import editor
from custinfo.classification import service as classification
from custinfo.classification.governance.models import Proposal
from custinfo.core.errors import Invalid
from custinfo.defaults import load

SNAKE = re.compile(r"\b[a-z]+_[a-z_]+\b")


@pytest.fixture
def signed_in(client: TestClient, world: dict[str, User]) -> Callable[[str], TestClient]:
    def _sign_in(username: str) -> TestClient:
        client.cookies.clear()
        assert sign_in(client, username).status_code == 303
        return client

    return _sign_in


def test_every_parameter_type_is_an_editable_field() -> None:
    definition = load("rules.json")
    kinds = {f.name: f.kind for f in editor.editable_fields(definition)}
    assert kinds["p.annual_days"] == "number"
    assert kinds["p.include_contract_amounts"] == "bool"
    assert kinds["p.timezone"] == "text" and kinds["p.daily_run_at"] == "text"
    assert kinds["p.popular_products"] == "list" and kinds["p.online_channels"] == "list"
    assert kinds["p.region_tiers.tier1"] == "list"
    assert any(k == "text" and n.startswith("r.") for n, k in kinds.items())  # e.g. industry = 制造业


def test_apply_form_keeps_types_and_names_bad_fields() -> None:
    definition = load("rules.json")
    changed = editor.apply_form(
        definition,
        {
            "p.popular_products": "智能门锁\n新品A\n\n",
            "p.include_contract_amounts": "true",
            "p.region_tiers.tier1": "北京市\n上海市",
            "p.timezone": "Asia/Urumqi",
        },
    )
    assert changed["parameters"]["popular_products"] == ["智能门锁", "新品A"]
    assert changed["parameters"]["include_contract_amounts"] is True
    assert changed["parameters"]["region_tiers"]["tier1"] == ["北京市", "上海市"]
    assert changed["parameters"]["region_tiers"]["tier2"] == definition["parameters"]["region_tiers"]["tier2"]
    assert changed["parameters"]["timezone"] == "Asia/Urumqi"
    with pytest.raises(Invalid) as refused:
        editor.apply_form(
            definition, {"p.include_contract_amounts": "maybe", "p.annual_days": "x", "p.timezone": " "}
        )
    assert {e.field for e in refused.value.errors} == {
        "p.include_contract_amounts",
        "p.annual_days",
        "p.timezone",
    }


def test_validation_refuses_an_unknown_time_zone(session: Session) -> None:
    definition = copy.deepcopy(load("rules.json"))
    definition["parameters"]["timezone"] = "Mars/Olympus"
    definition["parameters"]["daily_run_at"] = "25:00"
    with pytest.raises(Invalid) as refused:
        classification.validate_definition(session, definition)
    fields = {(e.field, e.rule) for e in refused.value.errors}
    assert ("parameters.timezone", "config.timezone") in fields
    assert ("parameters.daily_run_at", "config.clock_time") in fields


class _Words:
    def t(self, key: str, **params: Any) -> str:
        return {"config.yes": "是", "config.no": "否", "config.cond.all": " 且 "}.get(key, key)

    def parameter(self, key: str) -> str:
        return {"popular_products": "热门产品", "include_contract_amounts": "计入合同金额"}.get(key, key)

    def feature(self, name: str) -> str:
        return {"annual_amount": "年合作金额"}.get(name, name)

    def tag(self, code: str) -> str:
        return {"value_high": "高价值"}.get(code, code)

    def dimension(self, code: str) -> str:
        return {"industry": "所属行业", "value_tier": "价值等级", "coop_stage": "合作阶段"}.get(code, code)

    def value(self, feature: str, value: Any) -> str:
        return str(value)


def test_the_diff_reads_as_words() -> None:
    a = load("rules.json")
    b = copy.deepcopy(a)
    b["parameters"]["popular_products"] = ["智能门锁", "新品A"]
    b["parameters"]["include_contract_amounts"] = True
    b["classification_code"]["level1"] = ["industry"]
    for rule in b["rules"]:
        if rule["id"] == "value.high":
            rule["when"]["value"] = "400000.00"
    rows = {(r.kind, r.item): (r.before, r.after) for r in editor.describe_changes(a, b, _Words())}
    assert rows[("parameter_changed", "热门产品")][1] == "智能门锁、新品A"
    assert rows[("parameter_changed", "计入合同金额")] == ("否", "是")
    assert rows[("rule_changed", "高价值 · 年合作金额 ≥")] == ("500,000.00", "400,000.00")
    assert rows[("code_changed", "config.code.level1")] == ("所属行业、价值等级", "所属行业")


def test_versions_page_shows_the_diff_without_codes(
    signed_in: Callable[[str], TestClient], session: Session, world: dict[str, User]
) -> None:
    current = classification.current_rule_set(session)
    b = copy.deepcopy(current.definition)
    b["parameters"]["online_channels"] = ["online", "app"]
    for rule in b["rules"]:
        if rule["id"] == "value.high":
            rule["when"]["value"] = "400000.00"
    classification.publish_rule_set(session, b, "门槛下调", "steward", "head_east")
    session.flush()
    client = signed_in("auditor")
    page = client.get("/classification/versions?a=1&b=2")
    assert page.status_code == 200
    diff = re.search(
        r'<section class="card data-card mb-3" id="version-diff">(.*?)</section>', page.text, re.S
    )
    assert diff is not None
    text = re.sub(r"<[^>]+>", " ", diff.group(1))
    assert "线上渠道" in text and "在线、应用" in text and "500,000.00" in text and "400,000.00" in text
    assert not SNAKE.search(text) and "{" not in text


def test_code_dimensions_page_and_api(
    signed_in: Callable[[str], TestClient],
    client: TestClient,
    login: Callable[[str], dict[str, str]],
    session: Session,
) -> None:
    assert client.get("/api/v1/settings/classification-code").status_code == 401
    now = client.get("/api/v1/settings/classification-code", headers=login("sales_east1"))
    assert now.status_code == 200 and [d["code"] for d in now.json()["level1"]] == ["industry", "value_tier"]
    body = {"level1": ["industry"], "level2": ["coop_stage"], "separator": "/", "reason": "简化编码"}
    assert (
        client.put("/api/v1/settings/classification-code", headers=login("admin"), json=body).status_code
        == 403
    )
    bad = client.put(
        "/api/v1/settings/classification-code", headers=login("steward"), json={**body, "level2": ["nope"]}
    )
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "level2[0]"
    proposed = client.put("/api/v1/settings/classification-code", headers=login("steward"), json=body)
    assert proposed.status_code == 202, proposed.text
    proposal = session.get(Proposal, proposed.json()["id"])
    assert proposal is not None and proposal.payload["definition"]["classification_code"] == {
        "level1": ["industry"],
        "level2": ["coop_stage"],
        "separator": "/",
    }
    assert signed_in("sales_east1").get("/settings/classification-code").status_code == 403
    web = signed_in("steward")
    page = web.get("/settings/classification-code")
    assert page.status_code == 200 and "所属行业" in page.text
    form = {
        "csrf_token": csrf_of(page.text),
        "level.industry": "level1",
        "position.industry": "x",
        "separator": "-",
    }
    refused = web.post("/settings/classification-code", data=form)
    assert refused.status_code == 422
    form.update(
        {
            "position.industry": "1",
            "level.lifecycle": "level2",
            "position.lifecycle": "1",
            "reason": "按生命周期",
        }
    )
    sent = web.post("/settings/classification-code", data=form, follow_redirects=False)
    assert sent.status_code == 303 and "/classification/proposals/" in sent.headers["location"]
    detail = web.get(sent.headers["location"]).text
    assert "一级维度" in detail or "Level 1" in detail


def test_governance_settings_under_the_settings_path(
    client: TestClient, login: Callable[[str], dict[str, str]]
) -> None:
    assert client.get("/api/v1/settings/governance").status_code == 401
    assert client.get("/api/v1/settings/governance", headers=login("sales_east1")).status_code == 403
    assert (
        client.patch(
            "/api/v1/settings/governance",
            headers=login("marketing"),
            json={"quality_review_cadence_days": 60},
        ).status_code
        == 403
    )
    changed = client.patch(
        "/api/v1/settings/governance", headers=login("admin"), json={"quality_review_cadence_days": 60}
    )
    assert changed.status_code == 200 and changed.json()["quality_review_cadence_days"] == 60
    bad = client.patch(
        "/api/v1/settings/governance", headers=login("admin"), json={"quality_review_cadence_days": 1}
    )
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "quality_review_cadence_days"


def test_a_steward_sets_the_cadence_but_not_the_reviewers(
    signed_in: Callable[[str], TestClient], client: TestClient, login: Callable[[str], dict[str, str]]
) -> None:
    steward = login("steward")
    roles = client.patch(
        "/api/v1/settings/governance", headers=steward, json={"reviewer_roles": ["dept_head", "data_steward"]}
    )
    assert roles.status_code == 403
    cadence = client.patch(
        "/api/v1/settings/governance", headers=steward, json={"quality_review_cadence_days": 30}
    )
    assert cadence.status_code == 200 and cadence.json()["quality_review_cadence_days"] == 30
    same_roles = client.patch(
        "/api/v1/settings/governance", headers=steward, json={"reviewer_roles": ["dept_head"]}
    )
    assert same_roles.status_code == 200
    assert (
        client.patch(
            "/api/v1/settings/governance", headers=login("admin"), json={"reviewer_roles": ["marketing"]}
        ).status_code
        == 200
    )
    web = signed_in("steward")
    page = web.get("/classification/settings")
    assert page.status_code == 200 and "审批角色由管理员设置" in page.text
    form = {
        "csrf_token": csrf_of(page.text),
        "quality_review_cadence_days": "45",
        "quality_review_due_soon_days": "14",
        "churn_window_days": "91",
        "anomaly_swallow_share": "0.9",
        "anomaly_flip_share": "0.2",
    }
    saved = web.post("/classification/settings", data=form, follow_redirects=False)
    assert saved.status_code == 303  # the reviewers the admin chose are kept, not reset by the unticked boxes
    after = client.get("/api/v1/settings/governance", headers=login("admin")).json()
    assert after["quality_review_cadence_days"] == 45 and after["reviewer_roles"] == ["marketing"]
