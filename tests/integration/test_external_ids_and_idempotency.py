"""external_id on customers, orders, contracts, interactions and the Idempotency-Key header, over real HTTP."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session
from tests.factories import DEFAULT_PASSWORD, make_customer

from custinfo.activity import repository as activity_repository
from custinfo.activity.models import Contract, Interaction, Order
from custinfo.core import clock
from custinfo.core.idempotency import IdempotencyRecord
from custinfo.customers.models import Customer

API = "/api/v1"


@pytest.fixture
def customers(session: Session, world: dict[str, Any]) -> dict[str, Customer]:
    """One customer of sales_east1 (华东, external id SHOP-C-1) and one of sales_south1 (华南)."""
    mine = make_customer(session, world["sales_east1"], external_id="SHOP-C-1")
    theirs = make_customer(session, world["sales_south1"], external_id="SHOP-C-2")
    session.commit()
    return {"mine": mine, "theirs": theirs}


def count(session: Session, model: type[Any]) -> int:
    return session.scalar(select(func.count()).select_from(model)) or 0


def order_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "customer_external_id": "SHOP-C-1",
        "external_id": "WEB-1001",
        "ordered_on": "2026-01-15",
        "amount": "1234.50",
        "product": "工业传感器",
        "quantity": 3,
    }
    body.update(overrides)
    return body


def with_key(headers: dict[str, str], key: str) -> dict[str, str]:
    return {**headers, "Idempotency-Key": key}


# --- Idempotency-Key ----------------------------------------------------------------------------------


def test_a_retried_push_with_the_same_key_creates_one_order(
    client: TestClient, session: Session, token: Any, customers: dict[str, Customer]
) -> None:
    headers = with_key(token("sales_east1"), "push-2026-0001")
    first = client.post(f"{API}/orders", json=order_body(), headers=headers)
    assert first.status_code == 201, first.text
    assert first.headers["Idempotent-Replayed"] == "false"
    retry = client.post(f"{API}/orders", json=order_body(), headers=headers)
    assert retry.status_code == 201
    assert retry.headers["Idempotent-Replayed"] == "true"
    assert retry.json() == first.json()
    assert count(session, Order) == 1
    assert first.json()["customer_id"] == customers["mine"].id
    assert first.json()["external_id"] == "WEB-1001"
    # the kept answer is the resource as the API shows it (money as a two-place string, tags included)
    assert client.get(f"{API}/orders/{first.json()['id']}", headers=headers).json() == first.json()
    assert first.json()["amount"] == "1234.50"


def test_the_same_key_with_another_body_is_refused_naming_the_header(
    client: TestClient, session: Session, token: Any, customers: dict[str, Customer]
) -> None:
    headers = with_key(token("sales_east1"), "push-2026-0002")
    assert client.post(f"{API}/orders", json=order_body(), headers=headers).status_code == 201
    other = client.post(f"{API}/orders", json=order_body(amount="99.00"), headers=headers)
    assert other.status_code == 422
    assert {e["field"] for e in other.json()["errors"]} == {"Idempotency-Key"}
    assert count(session, Order) == 1


def test_the_same_key_on_another_path_is_another_request(
    client: TestClient, session: Session, token: Any, customers: dict[str, Customer]
) -> None:
    headers = with_key(token("sales_east1"), "push-2026-0003")
    assert client.post(f"{API}/orders", json=order_body(), headers=headers).status_code == 201
    body = {"customer_id": customers["mine"].id, "status": "negotiating"}
    assert client.post(f"{API}/contracts", json=body, headers=headers).status_code == 422
    assert count(session, Contract) == 0


def test_keys_belong_to_their_caller(
    client: TestClient, session: Session, token: Any, customers: dict[str, Customer]
) -> None:
    key = "push-2026-0004"
    assert (
        client.post(
            f"{API}/orders", json=order_body(), headers=with_key(token("sales_east1"), key)
        ).status_code
        == 201
    )
    # another caller with the same key is not replayed the first caller's answer
    second = client.post(
        f"{API}/orders", json=order_body(external_id="WEB-1002"), headers=with_key(token("head_east"), key)
    )
    assert second.status_code == 201, second.text
    assert second.headers["Idempotent-Replayed"] == "false"
    assert count(session, Order) == 2


def test_a_failed_creation_keeps_no_key_and_may_be_retried(
    client: TestClient, session: Session, token: Any, customers: dict[str, Customer]
) -> None:
    headers = with_key(token("sales_east1"), "push-2026-0005")
    assert client.post(f"{API}/orders", json=order_body(amount="-1"), headers=headers).status_code == 422
    assert count(session, IdempotencyRecord) == 0
    assert client.post(f"{API}/orders", json=order_body(), headers=headers).status_code == 201


@pytest.mark.parametrize("key", ["short", "has space in it", "x" * 201, 'key"with"quotes'])
def test_a_malformed_key_is_refused(
    client: TestClient, session: Session, token: Any, customers: dict[str, Customer], key: str
) -> None:
    response = client.post(f"{API}/orders", json=order_body(), headers=with_key(token("sales_east1"), key))
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "Idempotency-Key"
    assert count(session, Order) == 0


def test_an_expired_key_is_forgotten(
    client: TestClient, session: Session, token: Any, customers: dict[str, Customer], monkeypatch: Any
) -> None:
    headers = with_key(token("sales_east1"), "push-2026-0006")
    assert client.post(f"{API}/orders", json=order_body(), headers=headers).status_code == 201
    monkeypatch.setattr(clock, "now", lambda: datetime.now(UTC).replace(year=datetime.now(UTC).year + 1))
    again = client.post(f"{API}/orders", json=order_body(external_id="WEB-1003"), headers=headers)
    assert again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "false"


def test_the_kept_answer_is_encrypted_on_disk(
    client: TestClient, session: Session, token: Any, customers: dict[str, Customer]
) -> None:
    headers = with_key(token("sales_east1"), "push-2026-0007")
    assert (
        client.post(f"{API}/orders", json=order_body(product="独特产品名"), headers=headers).status_code
        == 201
    )
    raw = session.execute(text("SELECT body FROM idempotency_keys")).scalar_one()
    assert "独特产品名" not in raw and "WEB-1001" not in raw


def test_every_creating_post_accepts_the_key(
    client: TestClient, session: Session, token: Any, customers: dict[str, Customer]
) -> None:
    # customers, contacts, needs, contracts, interactions, engagement, access requests: same mechanism
    headers = with_key(token("sales_east1"), "cust-2026-0001")
    body = {
        "kind": "company",
        "name": "幂等测试公司",
        "source_channel": "visit",
        "purpose": "sales_service",
        "external_id": "ERP-9",
    }
    first = client.post(f"{API}/customers", json=body, headers=headers)
    assert first.status_code == 201, first.text
    again = client.post(f"{API}/customers", json=body, headers=headers)
    assert again.headers["Idempotent-Replayed"] == "true"
    assert (
        session.scalar(select(func.count()).select_from(Customer).where(Customer.name == "幂等测试公司")) == 1
    )
    interaction = {
        "customer_external_id": "SHOP-C-1",
        "kind": "call",
        "occurred_at": "2026-03-01T10:00:00+08:00",
    }
    h2 = with_key(token("sales_east1"), "call-2026-0001")
    assert client.post(f"{API}/interactions", json=interaction, headers=h2).status_code == 201
    assert (
        client.post(f"{API}/interactions", json=interaction, headers=h2).headers["Idempotent-Replayed"]
        == "true"
    )
    assert count(session, Interaction) == 1


def test_the_header_is_documented_on_creating_posts(client: TestClient) -> None:
    spec = client.get(f"{API}/openapi.json").json()
    for path in ("/api/v1/orders", "/api/v1/customers", "/api/v1/contracts", "/api/v1/interactions"):
        names = {p["name"] for p in spec["paths"][path]["post"].get("parameters", [])}
        assert "Idempotency-Key" in names, path


def test_every_creating_api_route_goes_through_the_idempotency_dependency(client: TestClient) -> None:
    from fastapi.routing import APIRoute

    from custinfo.idempotent import idempotent_creation

    def uses(dependant: Any) -> bool:
        return any(d.call is idempotent_creation or uses(d) for d in dependant.dependencies)

    missing = [
        route.path
        for route in client.app.routes  # type: ignore[attr-defined]
        if isinstance(route, APIRoute)
        and route.path.startswith(API)
        and "POST" in route.methods
        and route.status_code in (201, 202)
        and not uses(route.dependant)
    ]
    assert missing == []


# --- external_id ----------------------------------------------------------------------------------------


def test_anonymous_and_forbidden_cannot_use_external_ids(
    client: TestClient, token: Any, customers: dict[str, Customer]
) -> None:
    assert client.post(f"{API}/orders", json=order_body()).status_code == 401
    assert client.post(f"{API}/orders", json=order_body(), headers=token("marketing")).status_code == 403
    assert client.get(f"{API}/customers?external_id=SHOP-C-1").status_code == 401


def test_an_order_names_its_customer_by_external_id_only_in_scope(
    client: TestClient, session: Session, token: Any, customers: dict[str, Customer]
) -> None:
    theirs = client.post(
        f"{API}/orders", json=order_body(customer_external_id="SHOP-C-2"), headers=token("sales_east1")
    )
    assert theirs.status_code == 404
    unknown = client.post(
        f"{API}/orders", json=order_body(customer_external_id="NOPE"), headers=token("sales_east1")
    )
    assert unknown.status_code == 404
    clash = client.post(
        f"{API}/orders",
        json=order_body(customer_id=customers["theirs"].id),
        headers=token("admin"),
    )
    assert clash.status_code == 422
    assert clash.json()["errors"][0]["field"] == "customer_external_id"
    assert count(session, Order) == 0


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("orders", order_body()),
        ("contracts", {"customer_external_id": "SHOP-C-1", "external_id": "K-1", "status": "negotiating"}),
        (
            "interactions",
            {
                "customer_external_id": "SHOP-C-1",
                "external_id": "I-1",
                "kind": "call",
                "occurred_at": "2026-03-01T10:00:00",
            },
        ),
    ],
)
def test_external_ids_are_unique_per_kind_and_filterable(
    client: TestClient, token: Any, customers: dict[str, Customer], path: str, body: dict[str, Any]
) -> None:
    headers = token("sales_east1")
    created = client.post(f"{API}/{path}", json=body, headers=headers)
    assert created.status_code == 201, created.text
    duplicate = client.post(f"{API}/{path}", json=body, headers=headers)
    assert duplicate.status_code == 409
    assert duplicate.json()["errors"][0]["field"] == "external_id"
    found = client.get(f"{API}/{path}", params={"external_id": body["external_id"]}, headers=headers).json()
    assert [item["id"] for item in found["items"]] == [created.json()["id"]]
    other = client.get(
        f"{API}/{path}", params={"external_id": body["external_id"]}, headers=token("sales_south1")
    )
    assert other.json()["items"] == []
    # a change to another record's external id is the same conflict
    second = client.post(f"{API}/{path}", json={**body, "external_id": "SECOND"}, headers=headers).json()
    clash = client.patch(
        f"{API}/{path}/{second['id']}",
        json={"external_id": body["external_id"], "version": second["version"]},
        headers=headers,
    )
    assert clash.status_code == 409


def test_customer_external_id_is_unique_validated_and_filterable(
    client: TestClient, token: Any, customers: dict[str, Customer]
) -> None:
    headers = token("sales_east1")
    body = {"kind": "company", "name": "外部编号公司", "source_channel": "visit", "purpose": "sales_service"}
    taken = client.post(f"{API}/customers", json={**body, "external_id": "SHOP-C-2"}, headers=headers)
    assert taken.status_code == 409
    assert taken.json()["errors"][0]["field"] == "external_id"
    bad = client.post(f"{API}/customers", json={**body, "external_id": "has space"}, headers=headers)
    assert bad.status_code == 422
    assert bad.json()["errors"][0] == {**bad.json()["errors"][0], "field": "external_id"}
    listed = client.get(f"{API}/customers", params={"external_id": "SHOP-C-1"}, headers=headers).json()
    assert [c["id"] for c in listed["items"]] == [customers["mine"].id]
    assert listed["items"][0]["external_id"] == "SHOP-C-1"
    assert (
        client.get(f"{API}/customers", params={"external_id": "SHOP-C-2"}, headers=headers).json()["items"]
        == []
    )


def test_external_ids_are_shown_read_only_and_never_erased_by_a_form(
    client: TestClient, session: Session, world: Any, token: Any, customers: dict[str, Customer]
) -> None:
    mine = customers["mine"]
    made = client.post(f"{API}/orders", json=order_body(), headers=token("sales_east1"))
    assert made.status_code == 201
    client.cookies.clear()
    page = client.get("/login")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert csrf
    data = {"csrf_token": csrf.group(1), "username": "sales_east1", "password": DEFAULT_PASSWORD, "next": ""}
    assert client.post("/login", data=data, follow_redirects=False).status_code == 303
    profile = client.get(f"/customers/{mine.id}").text
    assert "SHOP-C-1" in profile and 'name="external_id"' not in profile
    orders = client.get(f"/customers/{mine.id}?tab=orders").text
    assert "WEB-1001" in orders and 'name="external_id"' not in orders
    form = client.get(f"/customers/{mine.id}/edit").text
    assert 'name="external_id"' not in form
    values = dict(re.findall(r'<input[^>]*name="([a-z_]+)"[^>]*?value="([^"]*)"', form))
    for name, block in re.findall(r'<select[^>]*name="([a-z_]+)"(.*?)</select>', form, re.S):
        chosen = re.search(r'<option value="([^"]*)" selected', block)
        values[name] = chosen.group(1) if chosen else ""
    values["region"] = "福州市"
    saved = client.post(f"/customers/{mine.id}/edit", data=values, follow_redirects=False)
    assert saved.status_code == 303, saved.text
    session.expire_all()
    stored = session.get(Customer, mine.id)
    assert stored is not None and stored.region == "福州市" and stored.external_id == "SHOP-C-1"


def test_a_race_past_the_uniqueness_check_is_a_409_not_a_500(
    client: TestClient,
    token: Any,
    session: Session,
    customers: dict[str, Customer],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Two pushes of one external id at the same moment both pass the check; the unique index
    # refuses the second. Simulated by a check that sees nothing, as the second request's would.
    monkeypatch.setattr(activity_repository, "id_with_external_id", lambda *args, **kwargs: None)
    headers = token("sales_east1")
    first = client.post(f"{API}/orders", json=order_body(), headers=headers)
    assert first.status_code == 201, first.text
    second = client.post(f"{API}/orders", json=order_body(amount="1.00"), headers=headers)
    assert second.status_code == 409, second.text
    assert "同时" in second.json()["detail"] or "same moment" in second.json()["detail"]
    assert "WEB-1001" not in second.text  # the value stays out of the answer
    assert count(session, Order) == 1
