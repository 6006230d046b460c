"""Governance and tag quality over the JSON API: anonymous, forbidden, allowed and invalid for every endpoint."""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from tests.factories import make_customer, make_order

from custinfo.auth.models import User
from custinfo.classification import service as classification
from custinfo.classification.governance.models import TagUsage
from custinfo.jobs import runner

Login = Callable[[str], dict[str, str]]
NEW_TAG: dict[str, Any] = {
    "kind": "new_tag",
    "reason": "环保品类需求上升",
    "payload": {
        "code": "green_buyer",
        "category": "preference",
        "name_zh": "绿色采购",
        "name_en": "Green buyer",
    },
}


def create(client: TestClient, login: Login, body: dict[str, Any] | None = None) -> dict[str, Any]:
    response = client.post("/api/v1/proposals", json=body or NEW_TAG, headers=login("steward"))
    assert response.status_code == 201, response.text
    return dict(response.json())


def test_proposal_list_and_create(client: TestClient, login: Login) -> None:
    assert client.get("/api/v1/proposals").status_code == 401
    assert client.post("/api/v1/proposals", json=NEW_TAG).status_code == 401
    assert client.get("/api/v1/proposals", headers=login("sales_east1")).status_code == 403
    assert client.post("/api/v1/proposals", json=NEW_TAG, headers=login("head_east")).status_code == 403
    created = create(client, login)
    assert created["status"] == "pending" and created["steps"][0]["action"] == "proposed"
    listed = client.get("/api/v1/proposals?status=open", headers=login("head_east")).json()
    assert [p["id"] for p in listed["items"]] == [created["id"]] and listed["total"] == 1
    bad = client.post("/api/v1/proposals", json={**NEW_TAG, "reason": ""}, headers=login("steward"))
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "reason"
    bad = client.post(
        "/api/v1/proposals",
        json={**NEW_TAG, "payload": {**NEW_TAG["payload"], "code": "Bad Code"}},
        headers=login("steward"),
    )
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "payload.code"
    assert client.get("/api/v1/proposals?status=weird", headers=login("steward")).status_code == 422


def test_get_approve_and_refusals(client: TestClient, login: Login) -> None:
    proposal = create(client, login)
    url = f"/api/v1/proposals/{proposal['id']}"
    assert client.get(url).status_code == 401
    assert client.get(url, headers=login("service1")).status_code == 403
    assert client.get(url, headers=login("auditor")).status_code == 200
    assert client.get("/api/v1/proposals/999999", headers=login("steward")).status_code == 404
    assert client.post(f"{url}/approve", json={}).status_code == 401
    assert client.post(f"{url}/approve", json={}, headers=login("sales_east1")).status_code == 403
    self_approval = client.post(f"{url}/approve", json={}, headers=login("steward"))
    assert self_approval.status_code == 403
    assert client.post(f"{url}/approve", json={"extra": 1}, headers=login("head_east")).status_code == 422
    approved = client.post(f"{url}/approve", json={"comment": "同意"}, headers=login("head_east"))
    assert approved.status_code == 200, approved.text
    assert approved.json()["status"] == "approved" and approved.json()["result"] == {
        "tag_code": "green_buyer"
    }
    assert client.post(f"{url}/approve", json={}, headers=login("head_south")).status_code == 409


def test_reject_request_changes_resubmit(client: TestClient, login: Login) -> None:
    first = create(client, login)
    url = f"/api/v1/proposals/{first['id']}"
    assert client.post(f"{url}/reject", json={}).status_code == 401
    assert client.post(f"{url}/reject", json={"comment": "x"}, headers=login("marketing")).status_code == 403
    missing = client.post(f"{url}/reject", json={}, headers=login("head_east"))
    assert missing.status_code == 422 and missing.json()["errors"][0]["field"] == "comment"
    assert (
        client.post(f"{url}/reject", json={"comment": "不需要"}, headers=login("head_east")).json()["status"]
        == "rejected"
    )

    second = create(client, login, {**NEW_TAG, "payload": {**NEW_TAG["payload"], "code": "eco_buyer"}})
    url = f"/api/v1/proposals/{second['id']}"
    assert client.post(f"{url}/request-changes", json={"comment": "x"}).status_code == 401
    assert (
        client.post(f"{url}/request-changes", json={"comment": "x"}, headers=login("steward")).status_code
        == 403
    )
    assert client.post(f"{url}/request-changes", json={}, headers=login("head_east")).status_code == 422
    sent_back = client.post(
        f"{url}/request-changes", json={"comment": "英文名改一下"}, headers=login("head_east")
    )
    assert sent_back.json()["status"] == "changes_requested"

    revised: dict[str, Any] = {
        "payload": {**NEW_TAG["payload"], "code": "eco_buyer", "name_en": "Eco buyer"},
        "comment": "已改",
    }
    assert client.post(f"{url}/resubmit", json=revised).status_code == 401
    assert client.post(f"{url}/resubmit", json=revised, headers=login("head_east")).status_code == 403
    bad = {"payload": {**revised["payload"], "name_en": ""}}
    assert client.post(f"{url}/resubmit", json=bad, headers=login("steward")).status_code == 422
    again = client.post(f"{url}/resubmit", json=revised, headers=login("steward")).json()
    assert (
        again["status"] == "pending" and again["revision"] == 2 and again["payload"]["name_en"] == "Eco buyer"
    )
    done = client.post(f"{url}/approve", json={}, headers=login("head_south")).json()
    assert [s["action"] for s in done["steps"]] == ["proposed", "changes_requested", "revised", "approved"]


def test_rule_change_over_the_api_retags_only_after_approval(
    client: TestClient,
    login: Login,
    session: Session,
    session_factory: sessionmaker[Session],
    world: dict[str, User],
) -> None:
    today = date.today()
    customer = make_customer(session, world["sales_east1"])
    make_order(session, customer, ordered_on=today - timedelta(days=30), amount=Decimal("225000.00"))
    make_order(session, customer, ordered_on=today - timedelta(days=250), amount=Decimal("225000.00"))
    classification.run_full(session)
    session.commit()
    definition = copy.deepcopy(classification.current_rule_set(session).definition)
    for rule in definition["rules"]:
        if rule["id"] == "value.high":
            rule["when"]["value"] = "400000.00"
    body = {"kind": "rule_change", "reason": "门槛下调", "payload": {"definition": definition}}
    proposal = create(client, login, body)
    entering = {t["tag"]: t["entering"] for t in proposal["impact"]["tags"]}
    assert entering["value_high"] == 1

    def tags() -> set[str]:
        response = client.get(f"/api/v1/customers/{customer.id}", headers=login("steward"))
        return set(response.json()["tags"])

    before = tags()
    assert "value_high" not in before
    approved = client.post(f"/api/v1/proposals/{proposal['id']}/approve", json={}, headers=login("head_east"))
    assert approved.json()["result"]["job_run"] and "value_high" not in tags()  # the re-tag is queued
    runner.run_queued(session_factory)
    assert "value_high" in tags()


def test_corrections_endpoints(
    client: TestClient, login: Login, session: Session, world: dict[str, User]
) -> None:
    customer = make_customer(session, world["sales_east1"])
    session.commit()
    url = f"/api/v1/customers/{customer.id}/tags/value_ordinary/corrections"
    assert client.post(url, json={"reason": "x"}).status_code == 401
    assert client.post(url, json={"reason": "x"}, headers=login("marketing")).status_code == 403
    assert client.post(url, json={"reason": "x"}, headers=login("sales_south1")).status_code == 404
    assert client.post(url, json={"reason": ""}, headers=login("sales_east1")).status_code == 422
    created = client.post(url, json={"reason": "年额只是预付"}, headers=login("sales_east1"))
    assert created.status_code == 201 and created.json()["status"] == "open"
    assert client.post(url, json={"reason": "again"}, headers=login("sales_east1")).status_code == 409

    assert client.get("/api/v1/corrections").status_code == 401
    assert client.get("/api/v1/corrections", headers=login("marketing")).status_code == 403
    assert len(client.get("/api/v1/corrections?status=open", headers=login("steward")).json()) == 1
    assert client.get("/api/v1/corrections?status=nope", headers=login("steward")).status_code == 422

    resolve = f"/api/v1/corrections/{created.json()['id']}/resolve"
    body = {"decision": "accepted", "outcome": "rule_fix", "note": "预付款不计入年额"}
    assert client.post(resolve, json=body).status_code == 401
    assert client.post(resolve, json=body, headers=login("sales_east1")).status_code == 403
    assert client.post(resolve, json={"decision": "maybe"}, headers=login("steward")).status_code == 422
    assert (
        client.post("/api/v1/corrections/999999/resolve", json=body, headers=login("steward")).status_code
        == 404
    )
    done = client.post(resolve, json=body, headers=login("steward"))
    assert done.status_code == 200 and done.json()["outcome"] == "rule_fix"


def test_quality_endpoint_and_filter_usage(client: TestClient, login: Login, session: Session) -> None:
    assert client.get("/api/v1/tags/quality").status_code == 401
    assert client.get("/api/v1/tags/quality", headers=login("sales_east1")).status_code == 403
    assert client.get("/api/v1/tags/quality?as_of=yesterday", headers=login("auditor")).status_code == 422
    assert client.get("/api/v1/customers?tag=value_high", headers=login("sales_east1")).status_code == 200
    report = client.get("/api/v1/tags/quality", headers=login("auditor"))
    assert report.status_code == 200
    body = report.json()
    high = next(t for t in body["tags"] if t["code"] == "value_high")
    assert high["usage"]["filter"] == 1
    assert body["reminder"]["state"] in ("ok", "due_soon", "due", "overdue")
    assert session.scalar(select(func.count(TagUsage.id)).where(TagUsage.actor == "sales_east1")) == 1


def test_governance_settings_over_the_api(client: TestClient, login: Login) -> None:
    assert client.get("/api/v1/governance/settings").status_code == 401
    assert client.get("/api/v1/governance/settings", headers=login("sales_east1")).status_code == 403
    shown = client.get("/api/v1/governance/settings", headers=login("steward"))
    assert shown.status_code == 200 and shown.json()["reviewer_roles"] == ["dept_head"]
    change = {"reviewer_roles": ["dept_head", "data_steward"], "quality_review_cadence_days": 60}
    assert (
        client.patch("/api/v1/governance/settings", json=change, headers=login("steward")).status_code == 403
    )
    bad = client.patch(
        "/api/v1/governance/settings",
        json={"quality_review_cadence_days": 5, "anomaly_flip_share": "x", "reviewer_roles": ["admin"]},
        headers=login("admin"),
    )
    assert bad.status_code == 422
    assert {(e["field"], e["rule"]) for e in bad.json()["errors"]} == {
        ("quality_review_cadence_days", "integer.range"),
        ("anomaly_flip_share", "number.format"),
        ("reviewer_roles", "vocabulary.unknown"),
    }
    saved = client.patch("/api/v1/governance/settings", json=change, headers=login("admin"))
    assert saved.status_code == 200, saved.text
    assert saved.json()["quality_review_cadence_days"] == 60
    after = client.get("/api/v1/governance/settings", headers=login("steward")).json()
    assert after["reviewer_roles"] == ["data_steward", "dept_head"]
