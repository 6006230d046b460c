"""Every write that changes a feature input re-classifies its customer before the response is built."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from custinfo.classification.models import ClassificationRun, ClassificationState, TagAssignment
from custinfo.customers.identifiers import make_credit_code

API = "/api/v1"


def company(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "kind": "company",
        "name": "杭州示例制造有限公司",
        "credit_code": make_credit_code("91330100MA2CX4242"),
        "industry": "制造业",
        "source_channel": "trade_show",
        "purpose": "sales_service",
        "employee_count": 120,
    }
    body.update(overrides)
    return body


def now_of(client: TestClient, headers: dict[str, str], customer_id: int) -> dict[str, Any]:
    """The customer as a later, separate read sees it."""
    response = client.get(f"{API}/customers/{customer_id}", headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def test_each_write_returns_the_tags_and_code_it_caused(client: TestClient, login, session: Session) -> None:
    headers = login("sales_east1")

    created = client.post(f"{API}/customers", json=company(), headers=headers)
    assert created.status_code == 201, created.text
    customer = created.json()
    assert "industry_c" in customer["tags"]
    assert customer["classification_code"] and customer["classification_code"].startswith("制造业")
    assert now_of(client, headers, customer["id"])["tags"] == customer["tags"]

    moved = client.patch(
        f"{API}/customers/{customer['id']}",
        json={"industry": "建筑业", "version": customer["version"]},
        headers=headers,
    )
    assert moved.status_code == 200, moved.text
    changed = moved.json()
    assert "industry_e" in changed["tags"] and "industry_c" not in changed["tags"]
    assert changed["classification_code"].startswith("建筑业")

    need = client.post(
        f"{API}/customers/{customer['id']}/needs",
        json={"core_need": "technical_service", "urgency": "high"},
        headers=headers,
    )
    assert need.status_code == 201, need.text
    assert "need_technical" in need.json()["customer_tags"]
    assert need.json()["customer_classification_code"] != changed["classification_code"]
    assert (
        need.json()["customer_classification_code"]
        == now_of(client, headers, customer["id"])["classification_code"]
    )

    event = {
        "event_type": "new_product_viewed",
        "product": "新型传感器",
        "category": "传感器",
        "occurred_at": (datetime.now(UTC) - timedelta(hours=1)).isoformat(timespec="seconds"),
    }
    first = client.post(f"{API}/customers/{customer['id']}/engagement", json=event, headers=headers)
    assert first.status_code == 201, first.text
    assert "browse_new" not in first.json()["customer_tags"]
    second = client.post(f"{API}/customers/{customer['id']}/engagement", json=event, headers=headers)
    assert second.status_code == 201, second.text
    assert "browse_new" in second.json()["customer_tags"]
    latest = now_of(client, headers, customer["id"])
    assert second.json()["customer_tags"] == latest["tags"]
    assert second.json()["customer_classification_code"] == latest["classification_code"]


def test_one_incremental_run_per_customer_per_request(client: TestClient, login, session: Session) -> None:
    headers = login("sales_east1")
    before = session.scalar(select(func.count()).select_from(ClassificationRun)) or 0
    created = client.post(
        f"{API}/customers", json=company(credit_code=make_credit_code("91330100MA2CX4343")), headers=headers
    )
    assert created.status_code == 201, created.text
    after = session.scalar(select(func.count()).select_from(ClassificationRun)) or 0
    assert after - before == 1


def test_deleting_a_customer_deletes_its_tags_and_state(client: TestClient, login, session: Session) -> None:
    headers = login("sales_east1")
    created = client.post(
        f"{API}/customers", json=company(credit_code=make_credit_code("91330100MA2CX4545")), headers=headers
    )
    assert created.status_code == 201, created.text
    customer = created.json()
    assert customer["tags"]
    kept = client.post(
        f"{API}/customers", json=company(credit_code=make_credit_code("91330100MA2CX4646")), headers=headers
    ).json()

    def derived(customer_id: int) -> tuple[int, int]:
        session.expire_all()
        rows = session.scalar(
            select(func.count()).select_from(TagAssignment).where(TagAssignment.customer_id == customer_id)
        )
        states = session.scalar(
            select(func.count())
            .select_from(ClassificationState)
            .where(ClassificationState.customer_id == customer_id)
        )
        return int(rows or 0), int(states or 0)

    assert derived(customer["id"])[0] > 0 and derived(customer["id"])[1] == 1
    deleted = client.delete(
        f"{API}/customers/{customer['id']}",
        params={"version": customer["version"]},
        headers=login("head_east"),
    )
    assert deleted.status_code == 204, deleted.text
    assert derived(customer["id"]) == (0, 0)
    assert derived(kept["id"])[0] > 0 and derived(kept["id"])[1] == 1
