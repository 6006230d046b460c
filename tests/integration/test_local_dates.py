"""Date rules are judged in the configured zone: an order dated today is accepted at 01:30 Shanghai time."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session
from tests.factories import make_customer

from custinfo.core import clock

API = "/api/v1"
# 2026-03-01 17:30 UTC is 2026-03-02 01:30 in Shanghai: the UTC calendar still says 1 March.
EARLY_MORNING_IN_SHANGHAI = datetime(2026, 3, 1, 17, 30, tzinfo=UTC)


@pytest.fixture
def early_morning(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(clock, "now", lambda: EARLY_MORNING_IN_SHANGHAI)


def order(customer_id: int, ordered_on: str) -> dict[str, Any]:
    return {"customer_id": customer_id, "ordered_on": ordered_on, "amount": "10", "product": "传感器"}


def test_today_is_the_local_day(early_morning: None) -> None:
    assert clock.today().isoformat() == "2026-03-02"


def test_an_order_dated_local_today_is_accepted_before_8_am(
    client: TestClient, session: Session, token: Any, world: dict[str, Any], early_morning: None
) -> None:
    customer = make_customer(session, world["sales_east1"])
    session.commit()
    headers = {**token("sales_east1"), "Accept-Language": "zh-CN"}
    today = client.post(f"{API}/orders", json=order(customer.id, "2026-03-02"), headers=headers)
    assert today.status_code == 201, today.text
    tomorrow = client.post(f"{API}/orders", json=order(customer.id, "2026-03-03"), headers=headers)
    assert tomorrow.status_code == 422
    assert tomorrow.json()["errors"][0]["message"] == "下单日期: 不能晚于今天"


def test_an_impossible_date_is_named_as_such(
    client: TestClient, session: Session, token: Any, world: dict[str, Any]
) -> None:
    customer = make_customer(session, world["sales_east1"])
    session.commit()
    headers = {**token("sales_east1"), "Accept-Language": "zh-CN"}
    response = client.post(f"{API}/orders", json=order(customer.id, "2026-02-30"), headers=headers)
    assert response.status_code == 422
    assert "日期不存在" in response.json()["errors"][0]["message"]
    when = {"customer_id": customer.id, "kind": "call", "occurred_at": "2026-02-30T10:00:00"}
    response = client.post(f"{API}/interactions", json=when, headers=headers)
    assert response.status_code == 422
    assert "日期不存在" in response.json()["errors"][0]["message"]


def test_another_configured_zone_moves_the_day(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(clock, "now", lambda: EARLY_MORNING_IN_SHANGHAI)
    clock.use_zone("UTC")
    try:
        assert clock.today().isoformat() == "2026-03-01"
    finally:
        clock.use_zone("Asia/Shanghai")
