"""Classification API over real HTTP: anonymous 401, forbidden 403, allowed, invalid 422; tags in write responses."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker
from tests.factories import make_customer, make_order

from custinfo.auth.models import User
from custinfo.classification import service
from custinfo.jobs import runner


def test_anonymous_is_401(client: TestClient) -> None:
    for path in (
        "/api/v1/tags",
        "/api/v1/rules",
        "/api/v1/classification/runs",
        "/api/v1/classification/report",
    ):
        assert client.get(path).status_code == 401


def test_run_needs_permission_and_lists(
    client: TestClient, login, session_factory: sessionmaker[Session]
) -> None:  # type: ignore[no-untyped-def]
    assert client.post("/api/v1/classification/runs", headers=login("sales_east1")).status_code == 403
    response = client.post(
        "/api/v1/classification/runs", headers=login("steward"), json={"as_of": "2026-06-30"}
    )
    assert response.status_code == 202, response.text  # queued as a `classify` job
    job = response.json()
    assert job["name"] == "classify" and job["status"] == "queued" and job["params"]["as_of"] == "2026-06-30"
    runner.run_queued(session_factory)
    job = client.get(f"/api/v1/jobs/runs/{job['id']}", headers=login("steward")).json()
    assert job["status"] == "succeeded" and job["link"].startswith("/classification/runs/")
    run = client.get(
        f"/api/v1/classification/runs/{job['result']['classification_run']}", headers=login("steward")
    ).json()
    assert run["mode"] == "full" and run["status"] == "done" and run["as_of"] == "2026-06-30"
    listed = client.get("/api/v1/classification/runs", headers=login("auditor")).json()
    assert listed["items"][0]["id"] == run["id"]
    assert client.get(f"/api/v1/classification/runs/{run['id']}", headers=login("auditor")).status_code == 200


def test_tags_rules_versions_diff(client: TestClient, login) -> None:  # type: ignore[no-untyped-def]
    headers = login("sales_east1")
    tags = client.get("/api/v1/tags", headers=headers).json()
    assert {"value_high", "vip", "life_churned"} <= {t["code"] for t in tags}
    rules = client.get("/api/v1/rules", headers=headers).json()
    assert rules["number"] == 1 and rules["is_active"]
    versions = client.get("/api/v1/rules/versions", headers=headers).json()
    assert versions[0]["id"] == rules["id"]
    assert client.get(f"/api/v1/rules/diff?a={rules['id']}&b={rules['id']}", headers=headers).json() == []
    assert client.get("/api/v1/rules/diff?a=x&b=1", headers=headers).status_code == 422


def test_preview_is_read_only_and_validated(client: TestClient, login, session: Session, world) -> None:  # type: ignore[no-untyped-def]
    owner = world["sales_east1"]
    assert isinstance(owner, User)
    customer = make_customer(session, owner=owner)
    make_order(session, customer, ordered_on=date(2026, 6, 1), amount=Decimal("450000.00"))
    session.commit()
    service.run_full(session, as_of=date(2026, 6, 30))
    session.commit()
    definition = client.get("/api/v1/rules", headers=login("steward")).json()["definition"]
    for rule in definition["rules"]:
        if rule["id"] == "value.high":
            rule["when"]["value"] = "400000.00"
    assert (
        client.post(
            "/api/v1/rules/preview", headers=login("sales_east1"), json={"definition": definition}
        ).status_code
        == 403
    )
    response = client.post(
        "/api/v1/rules/preview",
        headers=login("steward"),
        json={"definition": definition, "as_of": "2026-06-30"},
    )
    assert response.status_code == 200, response.text
    impact = {t["tag"]: t for t in response.json()["tags"]}
    assert impact["value_high"]["entering"] >= 1
    assert {"id": customer.id, "name": customer.name} in impact["value_high"]["entering_sample"]
    assert "value_high" not in {t.tag for t in service.customer_tags(session, _steward(), customer.id)}
    definition["rules"][0]["when"] = {"feature": "no_such_feature", "op": ">=", "value": 1}
    bad = client.post("/api/v1/rules/preview", headers=login("steward"), json={"definition": definition})
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "rules[0].when.feature"


def _steward():  # type: ignore[no-untyped-def]
    from custinfo.auth.policy import Principal

    return Principal(user_id=0, username="steward", role="data_steward", department_id=None)


def test_order_post_response_shows_new_tags(client: TestClient, login, session: Session, world) -> None:  # type: ignore[no-untyped-def]
    owner = world["sales_east1"]
    assert isinstance(owner, User)
    customer = make_customer(session, owner=owner)
    session.commit()
    headers = login("sales_east1")
    today = date.today()
    response = client.post(
        "/api/v1/orders",
        headers=headers,
        json={
            "customer_id": customer.id,
            "ordered_on": (today - timedelta(days=1)).isoformat(),
            "amount": "612300.00",
            "product": "PLC控制器",
            "quantity": 1,
        },
    )
    assert response.status_code == 201, response.text
    assert "value_high" in response.json()["customer_tags"]  # re-classified inside the POST itself
    detail = client.get(f"/api/v1/customers/{customer.id}", headers=headers).json()
    assert "value_high" in detail["tags"]
    assert detail["classification_code"].startswith("制造业-高价值")
    tags = client.get(f"/api/v1/customers/{customer.id}/tags", headers=headers).json()
    high = next(t for t in tags if t["tag"] == "value_high")
    assert high["explanation"] == "年合作金额 612,300.00 元 ≥ 500,000.00 元 → 高价值"
    listed = client.get("/api/v1/customers?tag=value_high", headers=headers).json()
    assert [c["id"] for c in listed["items"]] == [customer.id]
    coded = client.get(
        "/api/v1/customers", params={"classification_code": detail["classification_code"]}, headers=headers
    )
    assert customer.id in [c["id"] for c in coded.json()["items"]]
    members = client.get("/api/v1/tags/value_high/members", headers=headers).json()
    assert members["total"] == 1
    other = client.get(f"/api/v1/customers/{customer.id}/tags", headers=login("sales_south1"))
    assert other.status_code == 404
    report = client.get("/api/v1/classification/report", headers=headers).json()
    assert report[0]["level1"] == "制造业-高价值"
