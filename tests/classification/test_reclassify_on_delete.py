"""Deleting an order, contract or interaction re-classifies its customer inside the deleting request."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session
from tests.factories import make_contract, make_customer, make_interaction, make_order

from custinfo.auth.models import User
from custinfo.classification import service
from custinfo.classification.models import ClassificationRun


def _tags(client: TestClient, headers: dict[str, str], customer_id: int) -> set[str]:
    response = client.get(f"/api/v1/customers/{customer_id}/tags", headers=headers)
    assert response.status_code == 200, response.text
    return {t["tag"] for t in response.json()}


def _event_runs(session: Session, customer_id: int) -> int:
    session.expire_all()
    return len(
        session.scalars(
            select(ClassificationRun.id).where(
                ClassificationRun.customer_id == customer_id, ClassificationRun.trigger == "event"
            )
        ).all()
    )


def test_deleting_order_contract_interaction_removes_their_tags(
    client: TestClient,
    login,
    session: Session,
    world,
) -> None:
    owner = world["sales_east1"]
    assert isinstance(owner, User)
    today = date.today()
    customer = make_customer(session, owner=owner)
    order = make_order(session, customer, ordered_on=today - timedelta(days=1), amount=Decimal("612300.00"))
    contract = make_contract(
        session, customer, status="active", signed_on=today - timedelta(days=30), ends_on=None
    )
    now = datetime.now(UTC)
    complaints = [
        make_interaction(session, customer, kind="complaint", occurred_at=now - timedelta(days=d))
        for d in (1, 2, 3)
    ]
    for d in (4, 5, 6):
        make_interaction(session, customer, kind="call", occurred_at=now - timedelta(days=d))
    service.run_incremental(session, customer.id, trigger="manual")
    session.commit()
    headers = login("sales_east1")
    runs = _event_runs(session, customer.id)  # the commit above re-classified once for the new rows
    before = _tags(client, headers, customer.id)
    assert {"value_high", "stage_active", "complaint_heavy"} <= before

    cases = [
        (f"/api/v1/orders/{order.id}", "value_high"),
        (f"/api/v1/contracts/{contract.id}", "stage_active"),
        (f"/api/v1/interactions/{complaints[0].id}", "complaint_heavy"),
    ]
    for n, (url, tag) in enumerate(cases, start=1):
        response = client.delete(url, params={"version": 1}, headers=headers)
        assert response.status_code == 204, response.text
        assert tag not in _tags(client, headers, customer.id)  # already gone: no run in between
        assert _event_runs(session, customer.id) == runs + n
