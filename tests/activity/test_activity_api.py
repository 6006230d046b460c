"""Orders, contracts, interactions and engagement through real HTTP: auth, scope, rules, locking, history."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from tests.factories import make_contract, make_customer, make_interaction, make_order

from custinfo.activity.models import Contract, EngagementEvent, Interaction, Order
from custinfo.core import clock
from custinfo.customers.models import Customer

API = "/api/v1"
TOMORROW = (clock.today() + timedelta(days=2)).isoformat()


@pytest.fixture
def customers(session: Session, world: dict[str, Any]) -> dict[str, Customer]:
    """One customer of sales_east1 (华东) and one of sales_south1 (华南)."""
    mine = make_customer(session, world["sales_east1"])
    theirs = make_customer(session, world["sales_south1"])
    session.commit()
    return {"mine": mine, "theirs": theirs}


def count(session: Session, model: type[Any]) -> int:
    return session.scalar(select(func.count()).select_from(model)) or 0


def rules(response: Any) -> set[tuple[str, str]]:
    assert response.status_code == 422, response.text
    return {(e["field"], e["rule"]) for e in response.json()["errors"]}


def order_body(customer_id: int | None, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "customer_id": customer_id,
        "ordered_on": "2026-01-15",
        "amount": "1234.50",
        "product": "工业传感器",
        "category": "传感器",
        "quantity": 3,
    }
    body.update(overrides)
    return body


def contract_body(customer_id: int, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "customer_id": customer_id,
        "title": "2026 年度供货合同",
        "signed_on": "2026-01-05",
        "starts_on": "2026-02-01",
        "ends_on": "2027-01-31",
        "amount": "500000",
        "status": "active",
    }
    body.update(overrides)
    return body


def interaction_body(customer_id: int, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "customer_id": customer_id,
        "kind": "complaint",
        "channel": "phone",
        "occurred_at": "2026-03-01T14:30:00+08:00",
        "topic": "交货延迟",
        "satisfaction": 2,
    }
    body.update(overrides)
    return body


# --- authentication and permissions -------------------------------------------------------------------

ENDPOINTS = [
    ("get", "/orders"),
    ("post", "/orders"),
    ("get", "/orders/1"),
    ("patch", "/orders/1"),
    ("delete", "/orders/1"),
    ("get", "/customers/1/orders"),
    ("get", "/contracts"),
    ("post", "/contracts"),
    ("get", "/contracts/1"),
    ("patch", "/contracts/1"),
    ("delete", "/contracts/1"),
    ("get", "/customers/1/contracts"),
    ("get", "/interactions"),
    ("post", "/interactions"),
    ("get", "/interactions/1"),
    ("patch", "/interactions/1"),
    ("delete", "/interactions/1"),
    ("get", "/customers/1/interactions"),
    ("get", "/customers/1/engagement"),
    ("post", "/customers/1/engagement"),
]


@pytest.mark.parametrize(("method", "path"), ENDPOINTS)
def test_anonymous_is_401(client: TestClient, method: str, path: str) -> None:
    kwargs: dict[str, Any] = {"json": {}} if method in ("post", "patch") else {}
    response = client.request(method.upper(), f"{API}{path}", **kwargs)
    assert response.status_code == 401
    assert response.json()["status"] == 401


def test_roles_without_the_permission_are_403(
    client: TestClient, login, customers: dict[str, Customer]
) -> None:
    mine = customers["mine"].id
    auditor, marketing, service1 = login("auditor"), login("marketing"), login("service1")
    for path in ("/orders", "/contracts", "/interactions", f"/customers/{mine}/engagement"):
        assert client.get(f"{API}{path}", headers=auditor).status_code == 403, path
    assert client.post(f"{API}/orders", json=order_body(mine), headers=marketing).status_code == 403
    assert client.post(f"{API}/orders", json=order_body(mine), headers=auditor).status_code == 403
    assert client.post(f"{API}/contracts", json=contract_body(mine), headers=marketing).status_code == 403
    assert client.post(f"{API}/contracts", json=contract_body(mine), headers=service1).status_code == 403
    assert (
        client.post(f"{API}/interactions", json=interaction_body(mine), headers=marketing).status_code == 403
    )
    event = {"occurred_at": "2026-03-01T10:00:00+08:00", "event_type": "product_viewed"}
    assert client.post(f"{API}/customers/{mine}/engagement", json=event, headers=auditor).status_code == 403
    # service staff may record interactions with the customers of their department
    created = client.post(f"{API}/interactions", json=interaction_body(mine), headers=service1)
    assert created.status_code == 201, created.text
    # … and may read orders there, but not write them
    assert client.get(f"{API}/orders", headers=service1).status_code == 200


def test_forbidden_comes_before_validation_and_nothing_is_written(
    client: TestClient, login, session: Session, customers: dict[str, Customer]
) -> None:
    response = client.post(f"{API}/orders", json={"amount": "x"}, headers=login("marketing"))
    assert response.status_code == 403
    assert count(session, Order) == 0


# --- orders -------------------------------------------------------------------------------------------


def test_order_create_read_update_delete(client: TestClient, login, customers: dict[str, Customer]) -> None:
    headers = login("sales_east1")
    mine = customers["mine"].id
    created = client.post(
        f"{API}/orders", json=order_body(mine, amount="12.5", quantity=None), headers=headers
    )
    assert created.status_code == 201, created.text
    order = created.json()
    assert order["amount"] == "12.50"  # a decimal string with two places, never a float
    assert order["quantity"] == 1 and order["provided_by"] == "system" and order["version"] == 1
    assert order["customer_id"] == mine and order["ordered_on"] == "2026-01-15"
    url = f"{API}/orders/{order['id']}"
    assert client.get(url, headers=headers).json() == order

    changed = client.patch(
        url,
        json={"amount": "¥1,234.5", "quantity": "2", "provided_by": "客户提供", "version": 1},
        headers=headers,
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["amount"] == "1234.50"
    assert changed.json()["quantity"] == 2 and changed.json()["provided_by"] == "customer"
    assert changed.json()["version"] == 2

    assert client.delete(url, headers=login("marketing")).status_code == 403
    assert client.delete(url, params={"version": 1}, headers=headers).status_code == 409
    assert client.delete(url, params={"version": 2}, headers=headers).status_code == 204
    assert client.get(url, headers=headers).status_code == 404


def test_order_amount_precision_and_json_numbers(
    client: TestClient, login, customers: dict[str, Customer]
) -> None:
    headers = login("sales_east1")
    mine = customers["mine"].id
    response = client.post(f"{API}/orders", json=order_body(mine, amount="0.005"), headers=headers)
    assert rules(response) == {("amount", "money.precision")}
    message = response.json()["errors"][0]["message"]
    assert message.startswith("金额（元）") and "两位小数" in message
    response = client.post(f"{API}/orders", json=order_body(mine, amount=12.5), headers=headers)
    assert rules(response) == {("amount", "money.float")}
    whole = client.post(f"{API}/orders", json=order_body(mine, amount=300), headers=headers)
    assert whole.status_code == 201 and whole.json()["amount"] == "300.00"
    free = client.post(f"{API}/orders", json=order_body(mine, amount="0"), headers=headers)
    assert free.status_code == 201 and free.json()["amount"] == "0.00"


def test_order_invalid_input_names_every_field_and_saves_nothing(
    client: TestClient, login, session: Session, customers: dict[str, Customer]
) -> None:
    headers = {**login("sales_east1"), "Accept-Language": "en"}
    mine = customers["mine"].id
    response = client.post(
        f"{API}/orders",
        json={"customer_id": mine, "ordered_on": TOMORROW, "amount": "-1", "quantity": 0, "provided_by": "x"},
        headers=headers,
    )
    assert rules(response) == {
        ("ordered_on", "date.future"),
        ("amount", "money.negative"),
        ("quantity", "integer.range"),
        ("provided_by", "vocabulary.unknown"),
        ("product", "field.required"),
    }
    messages = {e["field"]: e["message"] for e in response.json()["errors"]}
    assert messages["quantity"] == "Quantity: must be between 1 and 1000000000"
    assert rules(client.post(f"{API}/orders", json=order_body(None), headers=headers)) == {
        ("customer_id", "field.required")
    }
    bad_date = client.post(f"{API}/orders", json=order_body(mine, ordered_on="2026-02-30"), headers=headers)
    assert rules(bad_date) == {("ordered_on", "date.nonexistent")}
    assert bad_date.json()["errors"][0]["message"] == "Order date: no such date (e.g. 30 February)"
    unknown = client.post(f"{API}/orders", json={**order_body(mine), "colour": "red"}, headers=headers)
    assert rules(unknown) == {("colour", "field.unknown")}
    assert count(session, Order) == 0


def test_order_update_rules(
    client: TestClient, login, session: Session, customers: dict[str, Customer], world: dict[str, Any]
) -> None:
    order = make_order(session, customers["mine"])
    other = make_customer(session, world["sales_east1"])
    session.commit()
    headers = login("sales_east1")
    url = f"{API}/orders/{order.id}"
    assert rules(client.patch(url, json={"category": "仪表"}, headers=headers)) == {
        ("version", "field.required")
    }
    assert rules(client.delete(url, headers=headers)) == {("version", "field.required")}
    assert rules(
        client.patch(url, json={"product": " ", "quantity": None, "version": 1}, headers=headers)
    ) == {
        ("product", "field.required"),
        ("quantity", "field.required"),
    }
    assert rules(client.patch(url, json={"customer_id": other.id, "version": 1}, headers=headers)) == {
        ("customer_id", "field.immutable")
    }
    first = client.patch(url, json={"category": "仪表", "version": 1}, headers=headers)
    assert first.status_code == 200 and first.json()["version"] == 2
    stale = client.patch(url, json={"category": "阀门", "version": 1}, headers=headers)
    assert stale.status_code == 409 and stale.json()["status"] == 409
    assert client.get(url, headers=headers).json()["category"] == "仪表"


def test_orders_outside_the_record_scope_are_404_and_never_listed(
    client: TestClient, login, session: Session, customers: dict[str, Customer]
) -> None:
    mine = make_order(session, customers["mine"], product="我的订单")
    theirs = make_order(session, customers["theirs"], product="他们的订单")
    session.commit()
    east1 = login("sales_east1")
    theirs_id = customers["theirs"].id
    assert client.get(f"{API}/orders/{theirs.id}", headers=east1).status_code == 404
    assert client.patch(f"{API}/orders/{theirs.id}", json={"quantity": 9}, headers=east1).status_code == 404
    assert client.delete(f"{API}/orders/{theirs.id}", headers=east1).status_code == 404
    assert client.get(f"{API}/customers/{theirs_id}/orders", headers=east1).status_code == 404
    created = client.post(f"{API}/orders", json=order_body(theirs_id), headers=east1)
    assert created.status_code == 404  # not 422: the customer is invisible, not invalid
    assert client.post(f"{API}/orders", json=order_body(987654321), headers=east1).status_code == 404
    listed = client.get(f"{API}/orders", headers=east1).json()
    assert [o["product"] for o in listed["items"]] == ["我的订单"] and listed["total"] == 1
    filtered = client.get(f"{API}/orders", params={"customer_id": theirs_id}, headers=east1).json()
    assert filtered["items"] == [] and filtered["total"] == 0
    # the same record is visible to those whose scope covers it
    south = login("sales_south1")
    assert client.get(f"{API}/orders/{theirs.id}", headers=south).status_code == 200
    assert client.get(f"{API}/orders/{mine.id}", headers=south).status_code == 404
    ids = {o["id"] for o in client.get(f"{API}/orders", headers=login("head_east")).json()["items"]}
    assert ids == {mine.id}
    ids = {o["id"] for o in client.get(f"{API}/orders", headers=login("admin")).json()["items"]}
    assert {mine.id, theirs.id} <= ids
    assert client.get(f"{API}/orders/{mine.id}", headers=login("sales_east2")).status_code == 404


def test_order_lists_filter_sort_and_page(
    client: TestClient, login, session: Session, customers: dict[str, Customer], world: dict[str, Any]
) -> None:
    customer = customers["mine"]
    second = make_customer(session, world["sales_east1"])
    for day in (5, 10, 20):
        make_order(session, customer, ordered_on=date(2026, 1, day), product=f"p{day}")
    make_order(session, second, ordered_on=date(2026, 1, 15), product="other")
    session.commit()
    headers = login("sales_east1")

    def products(path: str = "/orders", **params: Any) -> list[str]:
        response = client.get(f"{API}{path}", params=params, headers=headers)
        assert response.status_code == 200, response.text
        return [o["product"] for o in response.json()["items"]]

    assert products() == ["p20", "other", "p10", "p5"]
    assert products(customer_id=customer.id) == ["p20", "p10", "p5"]
    assert products(f"/customers/{customer.id}/orders") == ["p20", "p10", "p5"]
    assert products(**{"from": "2026-01-10", "to": "2026-01-15"}) == ["other", "p10"]
    assert products(f"/customers/{customer.id}/orders", **{"from": "2026-01-06"}) == ["p20", "p10"]
    page = client.get(f"{API}/orders", params={"size": 3, "page": 2}, headers=headers).json()
    assert page == {**page, "page": 2, "size": 3, "total": 4, "total_capped": False}
    assert [o["product"] for o in page["items"]] == ["p5"]
    too_big = client.get(f"{API}/orders", params={"size": 201}, headers=headers)
    assert too_big.status_code == 422 and too_big.json()["errors"][0]["field"] == "size"
    assert rules(client.get(f"{API}/orders", params={"from": "last week"}, headers=headers)) == {
        ("from", "date.format")
    }


def test_history_records_order_changes(client: TestClient, login, customers: dict[str, Customer]) -> None:
    headers = login("sales_east1")
    mine = customers["mine"].id
    order = client.post(f"{API}/orders", json=order_body(mine), headers=headers).json()
    client.patch(f"{API}/orders/{order['id']}", json={"amount": "99", "version": 1}, headers=headers)
    client.delete(f"{API}/orders/{order['id']}", params={"version": 2}, headers=headers)
    history = client.get(f"{API}/customers/{mine}/history", headers=headers).json()
    orders = [h for h in history if h["entity"] == "order"]
    assert [(h["action"], h["entity_id"]) for h in orders] == [
        ("delete", order["id"]),
        ("update", order["id"]),
        ("create", order["id"]),
    ]
    created = orders[2]
    assert created["actor"] == "sales_east1"
    assert created["changes"]["amount"] == [None, "1234.50"]
    assert created["changes"]["product"] == [None, "工业传感器"]
    assert created["changes"]["ordered_on"] == [None, "2026-01-15"]
    assert orders[1]["changes"] == {"amount": ["1234.50", "99.00"]}


# --- contracts ----------------------------------------------------------------------------------------


def test_contract_lifecycle(client: TestClient, login, customers: dict[str, Customer]) -> None:
    headers = login("sales_east1")
    mine = customers["mine"].id
    created = client.post(f"{API}/contracts", json=contract_body(mine, status="生效"), headers=headers)
    assert created.status_code == 201, created.text
    contract = created.json()
    assert contract["status"] == "active" and contract["amount"] == "500000.00"
    assert contract["terminated_on"] is None and contract["version"] == 1
    url = f"{API}/contracts/{contract['id']}"
    assert client.get(url, headers=headers).json() == contract

    renewed = client.patch(
        url, json={"status": "renewed", "ends_on": "2028-01-31", "version": 1}, headers=headers
    )
    assert renewed.status_code == 200, renewed.text
    assert renewed.json()["status"] == "renewed" and renewed.json()["version"] == 2
    # terminating needs the date, checked against the state after the change
    assert rules(client.patch(url, json={"status": "terminated", "version": 2}, headers=headers)) == {
        ("terminated_on", "contract.terminated_on_required")
    }
    ended = client.patch(
        url, json={"status": "terminated", "terminated_on": "2026-06-30", "version": 2}, headers=headers
    )
    assert ended.status_code == 200 and ended.json()["terminated_on"] == "2026-06-30"
    stale = client.patch(url, json={"title": "x", "version": 2}, headers=headers)
    assert stale.status_code == 409
    assert client.delete(url, params={"version": 3}, headers=login("marketing")).status_code == 403
    assert client.delete(url, params={"version": 3}, headers=headers).status_code == 204
    assert client.get(url, headers=headers).status_code == 404


def test_contract_rules(client: TestClient, login, session: Session, customers: dict[str, Customer]) -> None:
    headers = {**login("sales_east1"), "Accept-Language": "en"}
    mine = customers["mine"].id

    def post(**overrides: Any) -> Any:
        return client.post(f"{API}/contracts", json=contract_body(mine, **overrides), headers=headers)

    assert rules(post(signed_on=None)) == {("signed_on", "contract.signed_on_required")}
    assert rules(post(status="renewed", signed_on="")) == {("signed_on", "contract.signed_on_required")}
    assert rules(post(status="terminated")) == {("terminated_on", "contract.terminated_on_required")}
    assert rules(post(terminated_on="2026-06-30")) == {
        ("terminated_on", "contract.terminated_on_not_terminated")
    }
    assert rules(post(status="terminated", terminated_on="2025-12-31")) == {
        ("terminated_on", "contract.terminated_before_signed")
    }
    response = post(starts_on="2026-02-01", ends_on="2026-01-31")
    assert rules(response) == {("ends_on", "contract.ends_before_start")}
    assert response.json()["errors"][0]["message"] == "Ends on: cannot be before the start date"
    assert rules(post(status="draft", amount="1.234", signed_on=TOMORROW)) == {
        ("status", "vocabulary.unknown"),
        ("amount", "money.precision"),
        ("signed_on", "date.future"),
    }
    assert rules(post(status=None)) == {("status", "field.required")}
    negotiating = post(status="negotiating", signed_on=None, amount=None)
    assert negotiating.status_code == 201 and negotiating.json()["amount"] is None
    assert count(session, Contract) == 1


def test_contracts_outside_scope_and_lists(
    client: TestClient, login, session: Session, customers: dict[str, Customer]
) -> None:
    make_contract(session, customers["mine"], title="A", signed_on=date(2026, 1, 1))
    make_contract(session, customers["mine"], title="B", signed_on=date(2025, 6, 1))
    make_contract(session, customers["mine"], title="C", status="negotiating", signed_on=None)
    theirs = make_contract(session, customers["theirs"], title="T")
    session.commit()
    east1 = login("sales_east1")
    assert client.get(f"{API}/contracts/{theirs.id}", headers=east1).status_code == 404
    assert client.patch(f"{API}/contracts/{theirs.id}", json={"title": "x"}, headers=east1).status_code == 404
    assert client.get(f"{API}/customers/{customers['theirs'].id}/contracts", headers=east1).status_code == 404
    body = contract_body(customers["theirs"].id)
    assert client.post(f"{API}/contracts", json=body, headers=east1).status_code == 404
    titles = [c["title"] for c in client.get(f"{API}/contracts", headers=east1).json()["items"]]
    assert titles == ["A", "B", "C"]  # latest signed first, unsigned last
    dated = client.get(f"{API}/contracts", params={"from": "2025-12-01"}, headers=east1).json()
    assert [c["title"] for c in dated["items"]] == ["A"]
    nested = client.get(f"{API}/customers/{customers['mine'].id}/contracts", headers=east1).json()
    assert nested["total"] == 3


# --- interactions -------------------------------------------------------------------------------------


def test_interaction_lifecycle_and_time_zones(
    client: TestClient, login, session: Session, customers: dict[str, Customer]
) -> None:
    headers = login("sales_east1")
    mine = customers["mine"].id
    created = client.post(
        f"{API}/interactions",
        json=interaction_body(mine, occurred_at="2026-03-01 14:30", provided_by=None, channel="电话"),
        headers=headers,
    )
    assert created.status_code == 201, created.text
    interaction = created.json()
    # a naive time is Asia/Shanghai local time, stored and returned in UTC
    assert interaction["occurred_at"] == "2026-03-01T06:30:00Z"
    assert interaction["kind"] == "complaint" and interaction["channel"] == "phone"
    assert interaction["provided_by"] == "customer" and interaction["satisfaction"] == 2
    stored = session.get_one(Interaction, interaction["id"])
    assert stored.occurred_at == datetime(2026, 3, 1, 6, 30, tzinfo=UTC)
    url = f"{API}/interactions/{interaction['id']}"
    assert client.get(url, headers=headers).json() == interaction

    resolved = client.patch(
        url, json={"resolution": "已补发货物", "satisfaction": "4", "version": 1}, headers=headers
    )
    assert resolved.status_code == 200, resolved.text
    assert resolved.json()["satisfaction"] == 4 and resolved.json()["version"] == 2
    assert client.patch(url, json={"topic": "x", "version": 1}, headers=headers).status_code == 409
    offset = client.patch(url, json={"occurred_at": "2026-03-01T06:00:00Z", "version": 2}, headers=headers)
    assert offset.json()["occurred_at"] == "2026-03-01T06:00:00Z"
    assert client.delete(url, params={"version": 1}, headers=headers).status_code == 409
    assert client.delete(url, params={"version": 3}, headers=headers).status_code == 204
    assert client.get(url, headers=headers).status_code == 404
    history = client.get(f"{API}/customers/{mine}/history", headers=headers).json()
    assert [h["action"] for h in history if h["entity"] == "interaction"] == [
        "delete",
        "update",
        "update",
        "create",
    ]


def test_interaction_rules(
    client: TestClient, login, session: Session, customers: dict[str, Customer]
) -> None:
    headers = login("sales_east1")
    mine = customers["mine"].id
    future = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    response = client.post(
        f"{API}/interactions",
        json=interaction_body(mine, kind="聊天", satisfaction=6, channel="telepathy", occurred_at=future),
        headers=headers,
    )
    assert rules(response) == {
        ("kind", "vocabulary.unknown"),
        ("satisfaction", "integer.range"),
        ("channel", "vocabulary.unknown"),
        ("occurred_at", "datetime.future"),
    }
    assert rules(
        client.post(f"{API}/interactions", json=interaction_body(mine, occurred_at="昨天"), headers=headers)
    ) == {("occurred_at", "datetime.format")}
    assert rules(
        client.post(f"{API}/interactions", json={"customer_id": mine, "satisfaction": 0}, headers=headers)
    ) == {("kind", "field.required"), ("occurred_at", "field.required"), ("satisfaction", "integer.range")}
    assert count(session, Interaction) == 0
    synonyms = client.post(
        f"{API}/interactions",
        json=interaction_body(mine, kind="上门拜访", provided_by="系统日志"),
        headers=headers,
    )
    assert synonyms.status_code == 201
    assert synonyms.json()["kind"] == "visit" and synonyms.json()["provided_by"] == "system"


def test_interactions_outside_scope_and_local_date_filters(
    client: TestClient, login, session: Session, customers: dict[str, Customer]
) -> None:
    # Shanghai is UTC+8: the local day 2026-03-01 runs from 02-28 16:00 to 03-01 16:00 UTC
    mine = customers["mine"]
    first = make_interaction(session, mine, occurred_at=datetime(2026, 2, 28, 16, 0, tzinfo=UTC))
    last = make_interaction(session, mine, occurred_at=datetime(2026, 3, 1, 15, 59, tzinfo=UTC))
    make_interaction(session, mine, occurred_at=datetime(2026, 2, 28, 15, 59, tzinfo=UTC))
    make_interaction(session, mine, occurred_at=datetime(2026, 3, 1, 16, 0, tzinfo=UTC))
    theirs = make_interaction(session, customers["theirs"])
    session.commit()
    east1 = login("sales_east1")
    day = client.get(f"{API}/interactions", params={"from": "2026-03-01", "to": "2026-03-01"}, headers=east1)
    assert [i["id"] for i in day.json()["items"]] == [last.id, first.id] and day.json()["total"] == 2
    assert client.get(f"{API}/interactions/{theirs.id}", headers=east1).status_code == 404
    assert client.get(f"{API}/interactions/{theirs.id}", headers=login("head_east")).status_code == 404
    assert client.get(f"{API}/interactions/{theirs.id}", headers=login("head_south")).status_code == 200
    assert client.delete(f"{API}/interactions/{theirs.id}", headers=east1).status_code == 404
    theirs_url = f"{API}/customers/{customers['theirs'].id}/interactions"
    assert client.get(theirs_url, headers=east1).status_code == 404
    body = interaction_body(customers["theirs"].id)
    assert client.post(f"{API}/interactions", json=body, headers=login("service1")).status_code == 404
    listed = client.get(f"{API}/interactions", headers=east1).json()
    assert theirs.id not in {i["id"] for i in listed["items"]} and listed["total"] == 4
    mine_url = f"{API}/customers/{customers['mine'].id}/interactions"
    assert client.get(mine_url, headers=east1).json()["total"] == 4


# --- engagement ---------------------------------------------------------------------------------------


def test_engagement_events_are_appended_and_scoped(
    client: TestClient, login, session: Session, customers: dict[str, Customer]
) -> None:
    headers = login("sales_east1")
    url = f"{API}/customers/{customers['mine'].id}/engagement"
    first = client.post(
        url,
        json={
            "occurred_at": "2026-03-01T10:00:00",
            "event_type": "new_product_viewed",
            "product": "智能阀门",
        },
        headers=headers,
    )
    assert first.status_code == 201, first.text
    event = first.json()
    assert event["is_new_product"] is True and event["provided_by"] == "system"
    assert event["occurred_at"] == "2026-03-01T02:00:00Z" and event["customer_id"] == customers["mine"].id
    second = client.post(
        url,
        json={
            "occurred_at": "2026-03-02T10:00:00+08:00",
            "event_type": "category_viewed",
            "category": "阀门",
            "dwell_seconds": "95",
        },
        headers=login("service1"),
    )
    assert second.status_code == 201 and second.json()["is_new_product"] is False
    log = client.get(url, headers=headers).json()
    assert [e["event_type"] for e in log["items"]] == ["category_viewed", "new_product_viewed"]
    assert log["total"] == 2 and log["items"][0]["dwell_seconds"] == 95
    dated = client.get(url, params={"to": "2026-03-01"}, headers=headers).json()
    assert [e["id"] for e in dated["items"]] == [event["id"]]
    bad = client.post(
        url, json={"event_type": "clicked", "dwell_seconds": -1, "is_new_product": "maybe"}, headers=headers
    )
    assert rules(bad) == {
        ("event_type", "vocabulary.unknown"),
        ("dwell_seconds", "integer.range"),
        ("is_new_product", "boolean.format"),
        ("occurred_at", "field.required"),
    }
    assert client.patch(f"{url}/{event['id']}", json={}, headers=headers).status_code in (404, 405)
    assert count(session, EngagementEvent) == 2
    theirs = f"{API}/customers/{customers['theirs'].id}/engagement"
    assert client.get(theirs, headers=headers).status_code == 404
    body = {"occurred_at": "2026-03-01T10:00:00+08:00", "event_type": "product_viewed"}
    assert client.post(theirs, json=body, headers=headers).status_code == 404
    assert client.get(f"{API}/customers/987654321/engagement", headers=login("admin")).status_code == 404


# --- contract of the API ------------------------------------------------------------------------------


def test_openapi_documents_every_activity_field(client: TestClient) -> None:
    spec = client.get(f"{API}/openapi.json").json()
    schemas = spec["components"]["schemas"]
    for name in (
        "OrderIn",
        "OrderOut",
        "OrderPage",
        "ContractIn",
        "ContractOut",
        "ContractPage",
        "InteractionIn",
        "InteractionOut",
        "InteractionPage",
        "EngagementIn",
        "EngagementOut",
        "EngagementPage",
    ):
        for field, prop in schemas[name]["properties"].items():
            assert prop.get("description"), f"{name}.{field}"
    # Nullable since issue 4: a field the caller may not see comes back null (listed in hidden_fields).
    amount = schemas["OrderOut"]["properties"]["amount"]
    assert {"type": "string"} in amount["anyOf"] and {"type": "null"} in amount["anyOf"]
    expected = {
        "OrderOut": {"id", "customer_id", "ordered_on", "amount", "product", "category", "quantity"},
        "ContractOut": {"id", "customer_id", "signed_on", "starts_on", "ends_on", "amount", "status"},
        "InteractionOut": {"id", "customer_id", "kind", "channel", "occurred_at", "topic", "resolution"},
    }
    for name, fields in expected.items():
        assert fields <= set(schemas[name]["properties"]), name
    paths = spec["paths"]
    assert {"get", "post"} <= set(paths["/api/v1/orders"])
    assert {"get", "patch", "delete"} <= set(paths["/api/v1/contracts/{contract_id}"])
    assert {"get", "post"} <= set(paths["/api/v1/customers/{customer_id}/engagement"])
    ok = paths["/api/v1/interactions"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert ok["$ref"].endswith("/InteractionPage")
