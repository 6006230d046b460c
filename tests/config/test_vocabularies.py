"""Editable vocabularies: API and pages, versions, retirement, validation, audit, and what validation reads."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session
from tests.web.test_pages import csrf_of, sign_in

from custinfo.audit.models import AuditEntry
from custinfo.auth.models import User
from custinfo.customers.vocabulary import current_vocabularies

Headers = Callable[[str], dict[str, str]]


@pytest.fixture
def signed_in(client: TestClient, world: dict[str, User]) -> Callable[[str], TestClient]:
    def _sign_in(username: str) -> TestClient:
        client.cookies.clear()
        assert sign_in(client, username).status_code == 303
        return client

    return _sign_in


def _terms(body: dict[str, Any]) -> list[dict[str, Any]]:
    return [{k: t[k] for k in ("code", "zh", "en", "retired", "synonyms")} for t in body["terms"]]


def test_reading_needs_a_sign_in_and_is_open_to_every_role(client: TestClient, login: Headers) -> None:
    assert client.get("/api/v1/vocabularies").status_code == 401
    listed = client.get("/api/v1/vocabularies", headers=login("sales_east1"))
    assert listed.status_code == 200
    industry = next(v for v in listed.json() if v["name"] == "industry")
    assert industry["label"] == "行业" and industry["version"] == 1
    one = client.get("/api/v1/vocabularies/industry", headers=login("marketing")).json()
    assert any(t["code"] == "制造业" for t in one["terms"])
    assert client.get("/api/v1/vocabularies/nope", headers=login("steward")).status_code == 404


def test_a_steward_relabels_adds_and_retires_in_a_new_audited_version(
    client: TestClient, login: Headers, session: Session
) -> None:
    body = client.get("/api/v1/vocabularies/customer_type", headers=login("steward")).json()
    terms = _terms(body)
    terms[0]["zh"] = "代理经销商"
    terms[0]["synonyms"] = ["分销商"]
    terms[2]["retired"] = True
    terms.append(
        {
            "code": "integrator",
            "zh": "系统集成商",
            "en": "System integrator",
            "retired": False,
            "synonyms": [],
        }
    )
    payload = {"version": 1, "terms": terms, "reason": "渠道调整"}
    assert client.put("/api/v1/vocabularies/customer_type", json=payload).status_code == 401
    assert (
        client.put(
            "/api/v1/vocabularies/customer_type", headers=login("sales_east1"), json=payload
        ).status_code
        == 403
    )
    saved = client.put("/api/v1/vocabularies/customer_type", headers=login("steward"), json=payload)
    assert saved.status_code == 200, saved.text
    assert saved.json()["version"] == 2
    # in force at once for validation and labels
    vocabulary = current_vocabularies()["customer_type"]
    assert vocabulary.label("distributor", "zh_CN") == "代理经销商"
    assert vocabulary.canonical("分销商") == "distributor"
    assert vocabulary.canonical("系统集成商") == "integrator"
    assert "partner" not in vocabulary.codes
    # a second save from the old version is stale
    stale = client.put("/api/v1/vocabularies/customer_type", headers=login("admin"), json=payload)
    assert stale.status_code == 409
    versions = client.get("/api/v1/vocabularies/customer_type/versions", headers=login("steward")).json()
    assert [v["number"] for v in versions] == [2, 1] and versions[0]["reason"] == "渠道调整"
    entry = session.scalars(
        select(AuditEntry).where(AuditEntry.action == "configuration_changed").order_by(AuditEntry.seq.desc())
    ).first()
    assert entry is not None and entry.target_id == "customer_type" and entry.actor == "steward"
    assert entry.details["after"]["retired"] == ["合作伙伴"]


def test_a_retired_value_is_refused_on_entry_but_still_labelled(client: TestClient, login: Headers) -> None:
    terms = _terms(client.get("/api/v1/vocabularies/customer_type", headers=login("steward")).json())
    terms[2]["retired"] = True
    saved = client.put(
        "/api/v1/vocabularies/customer_type", headers=login("steward"), json={"version": 1, "terms": terms}
    )
    assert saved.status_code == 200
    created = client.post(
        "/api/v1/customers",
        headers=login("sales_east1"),
        json={
            "kind": "company",
            "name": "停用取值测试公司",
            "customer_type": "partner",
            "source_channel": "visit",
            "purpose": "sales_service",
        },
    )
    assert created.status_code == 422, created.text
    assert any(e["field"] == "customer_type" for e in created.json()["errors"])
    assert current_vocabularies()["customer_type"].label("partner", "zh_CN") == "合作伙伴"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda t: t.pop(0), "terms"),  # a term cannot be deleted
        (lambda t: t.__setitem__(0, {**t[0], "zh": " "}), "terms[0].zh"),
        (lambda t: t.append({**t[0], "synonyms": []}), "terms[3].code"),  # duplicate code
        (lambda t: t[1]["synonyms"].append(t[0]["zh"]), "terms[1].synonyms"),  # ambiguous
        (lambda t: None, "terms"),  # unchanged
    ],
)
def test_bad_edits_name_the_term_and_the_rule(
    client: TestClient, login: Headers, change: Callable[[list[dict[str, Any]]], Any], field: str
) -> None:
    terms = _terms(client.get("/api/v1/vocabularies/customer_type", headers=login("steward")).json())
    change(terms)
    answer = client.put(
        "/api/v1/vocabularies/customer_type", headers=login("steward"), json={"version": 1, "terms": terms}
    )
    assert answer.status_code == 422, answer.text
    assert field in [e["field"] for e in answer.json()["errors"]]
    assert client.get("/api/v1/vocabularies/customer_type", headers=login("steward")).json()["version"] == 1


def test_fixed_vocabularies_take_labels_but_no_new_values(client: TestClient, login: Headers) -> None:
    terms = _terms(client.get("/api/v1/vocabularies/contract_status", headers=login("admin")).json())
    terms.append({"code": "paused", "zh": "暂停", "en": "Paused", "retired": False, "synonyms": []})
    refused = client.put(
        "/api/v1/vocabularies/contract_status", headers=login("admin"), json={"version": 1, "terms": terms}
    )
    assert refused.status_code == 422
    terms.pop()
    terms[0]["zh"] = "商务洽谈中"
    assert (
        client.put(
            "/api/v1/vocabularies/contract_status",
            headers=login("admin"),
            json={"version": 1, "terms": terms},
        ).status_code
        == 200
    )


def test_pages_list_edit_and_refuse(signed_in: Callable[[str], TestClient]) -> None:
    sales = signed_in("sales_east1")
    assert sales.get("/settings").status_code == 403
    assert sales.get("/settings/vocabularies/industry").status_code == 403
    client = signed_in("steward")
    landing = client.get("/settings")
    assert landing.status_code == 200 and 'data-area="vocabularies"' in landing.text
    assert 'data-area="governance"' in landing.text and 'data-area="rules"' in landing.text
    listing = client.get("/settings/vocabularies")
    assert listing.status_code == 200 and "企业客户类型" in listing.text
    page = client.get("/settings/vocabularies/customer_type")
    assert page.status_code == 200 and "经销商" in page.text
    form = {
        "csrf_token": csrf_of(page.text),
        "version": "1",
        "terms[0].code": "distributor",
        "terms[0].zh": "经销商",
        "terms[0].en": "Distributor",
        "terms[0].synonyms": "代理商\n分销商",
        "terms[1].code": "end_customer",
        "terms[1].zh": "终端客户",
        "terms[1].en": "End customer",
        "terms[2].code": "partner",
        "terms[2].zh": "",
        "terms[2].en": "Partner",
        "reason": "补充同义词",
    }
    refused = client.post("/settings/vocabularies/customer_type", data=form)
    assert refused.status_code == 422 and "is-invalid" in refused.text
    form["terms[2].zh"] = "合作伙伴"
    form["terms[3].code"] = "integrator"
    form["terms[3].zh"] = "系统集成商"
    form["terms[3].en"] = "Integrator"
    saved = client.post("/settings/vocabularies/customer_type", data=form, follow_redirects=False)
    assert saved.status_code == 303
    shown = client.get(saved.headers["location"])
    assert "系统集成商" in shown.text and "补充同义词" in shown.text and "v2" in shown.text
    assert current_vocabularies()["customer_type"].canonical("代理商") == "distributor"
