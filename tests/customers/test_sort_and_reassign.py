"""Sorting the customer list and giving many customers to another owner, through real HTTP."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session
from tests.factories import make_customer
from tests.web.test_pages import csrf_of, sign_in

from custinfo.audit.models import AuditEntry
from custinfo.customers.models import Customer

API = "/api/v1"


@pytest.fixture
def east(session: Session, world: dict[str, Any]) -> list[Customer]:
    """Three customers of sales_east1, named out of order."""
    made = [
        make_customer(session, world["sales_east1"], name=name, kind=kind)
        for name, kind in (("乙公司", "company"), ("甲公司", "company"), ("丙个人", "individual"))
    ]
    session.commit()
    return made


# --- sorting -----------------------------------------------------------------------------------------


def test_the_api_sorts_by_a_known_key_and_refuses_others(
    client: TestClient, token: Any, east: list[Customer]
) -> None:
    headers = token("sales_east1")
    names = sorted(c.name for c in east)
    asc = client.get(f"{API}/customers?sort=name", headers=headers).json()["items"]
    assert [c["name"] for c in asc] == names
    desc = client.get(f"{API}/customers?sort=-name", headers=headers).json()["items"]
    assert [c["name"] for c in desc] == names[::-1]
    kinds = client.get(f"{API}/customers?sort=kind", headers=headers).json()["items"]
    assert [c["kind"] for c in kinds] == ["company", "company", "individual"]
    default = client.get(f"{API}/customers", headers=headers).json()["items"]
    assert [c["id"] for c in default] == sorted((c.id for c in east), reverse=True)
    for bad in ("password", "-", "name;drop", "--name"):
        refused = client.get(f"{API}/customers", params={"sort": bad}, headers=headers)
        assert refused.status_code == 422, bad
        assert refused.json()["errors"][0]["field"] == "sort"
    assert client.get(f"{API}/customers?sort=name").status_code == 401


def test_the_page_sorts_by_header_keeps_filters_and_ignores_unknown_keys(
    client: TestClient, east: list[Customer]
) -> None:
    client.cookies.clear()
    sign_in(client, "sales_east1")
    page = client.get("/customers?kind=company&sort=-name")
    assert page.status_code == 200
    text = page.text
    assert text.index("甲公司") < text.index("乙公司") and "丙个人" not in text  # by code point, descending
    assert 'aria-sort="descending"' in text
    assert (
        "kind=company" in text.split('aria-sort="descending"')[1].split("</th>")[0]
    )  # the header keeps the filter
    assert 'name="sort" value="-name"' in text  # and the filter form keeps the order
    ignored = client.get("/customers?sort=secret_column")
    assert ignored.status_code == 200 and "已按默认顺序" in ignored.text


# --- bulk reassign -----------------------------------------------------------------------------------


def reassign(client: TestClient, headers: dict[str, str], **body: Any) -> Any:
    return client.post(f"{API}/customers/reassign", json=body, headers=headers)


def test_reassign_needs_a_head_or_an_admin(client: TestClient, token: Any, east: list[Customer]) -> None:
    ids = [c.id for c in east]
    assert (
        client.post(
            f"{API}/customers/reassign", json={"customer_ids": ids, "owner": "sales_east2"}
        ).status_code
        == 401
    )
    for username in ("sales_east1", "steward", "service1", "auditor", "marketing"):
        response = reassign(client, token(username), customer_ids=ids, owner="sales_east2")
        assert response.status_code == 403, username


def test_a_head_moves_customers_within_the_department_all_audited(
    client: TestClient, token: Any, session: Session, east: list[Customer], world: dict[str, Any]
) -> None:
    ids = [c.id for c in east]
    versions = {str(c.id): c.version for c in east}
    response = reassign(client, token("head_east"), customer_ids=ids, owner="sales_east2", versions=versions)
    assert response.status_code == 200, response.text
    assert response.json()["count"] == 3 and response.json()["owner"] == "sales_east2"
    session.expire_all()
    owners = session.scalars(select(Customer.owner_id).where(Customer.id.in_(ids))).all()
    assert set(owners) == {world["sales_east2"].id}
    entries = session.scalars(
        select(AuditEntry).where(AuditEntry.action == "customer.update", AuditEntry.customer_id.in_(ids))
    ).all()
    assert {e.customer_id for e in entries} == set(ids) and len(entries) == 3
    # the previous owner no longer sees them; the new one does
    listed = client.get(f"{API}/customers", headers=token("sales_east2")).json()["items"]
    assert set(ids) <= {c["id"] for c in listed}


def test_reassign_is_all_or_nothing(
    client: TestClient, token: Any, session: Session, east: list[Customer], world: dict[str, Any]
) -> None:
    south = make_customer(session, world["sales_south1"])
    session.commit()
    ids = [c.id for c in east]
    head = token("head_east")
    assert reassign(client, head, customer_ids=[*ids, south.id], owner="sales_east2").status_code == 404
    assert reassign(client, head, customer_ids=[*ids, 99_999_999], owner="sales_east2").status_code == 404
    stale = {str(east[0].id): east[0].version + 3}
    assert reassign(client, head, customer_ids=ids, owner="sales_east2", versions=stale).status_code == 409
    other_department = reassign(client, head, customer_ids=ids, owner="sales_south1")
    assert other_department.status_code == 422 and other_department.json()["errors"][0]["field"] == "owner"
    for body in (
        {"customer_ids": [], "owner": "sales_east2"},
        {"customer_ids": ids},
        {"customer_ids": ["x"], "owner": "sales_east2"},
        {"customer_ids": list(range(1, 600)), "owner": "sales_east2"},
        {"customer_ids": ids, "owner": "nobody"},
    ):
        assert reassign(client, head, **body).status_code == 422, body
    session.expire_all()
    assert set(session.scalars(select(Customer.owner_id).where(Customer.id.in_(ids)))) == {
        world["sales_east1"].id
    }
    # an admin may move them across departments
    moved = reassign(client, token("admin"), customer_ids=[south.id], owner="sales_east1")
    assert moved.status_code == 200, moved.text


def test_the_list_offers_reassign_to_heads_with_their_own_sales_users(
    client: TestClient, session: Session, east: list[Customer], world: dict[str, Any]
) -> None:
    client.cookies.clear()
    sign_in(client, "sales_east1")
    assert 'name="customer"' not in client.get("/customers").text
    client.cookies.clear()
    sign_in(client, "head_east")
    page = client.get("/customers?sort=name")
    assert 'data-check-all="customer"' in page.text
    options = page.text.split('id="reassign-owner"')[1].split("</select>")[0]
    assert "sales_east2" in options and "sales_south1" not in options and "head_east" not in options
    data = {
        "csrf_token": csrf_of(page.text),
        "owner": "sales_east2",
        "back": "/customers?sort=name",
        "customer": [f"{c.id}:{c.version}" for c in east[:2]],
    }
    done = client.post("/customers/reassign", data=data, follow_redirects=False)
    assert done.status_code == 303
    assert done.headers["location"].startswith("/customers?sort=name&reassign=done&count=2")
    assert "已将 2 位客户转交" in client.get(done.headers["location"]).text
    session.expire_all()
    assert session.get(Customer, east[0].id).owner_id == world["sales_east2"].id  # type: ignore[union-attr]
    assert session.get(Customer, east[2].id).owner_id == world["sales_east1"].id  # type: ignore[union-attr]
    again = client.post("/customers/reassign", data={**data, "owner": "sales_east1"}, follow_redirects=False)
    assert "reassign=stale" in again.headers["location"]  # the versions the page showed are old now
    nothing = client.post("/customers/reassign", data={**data, "customer": []}, follow_redirects=False)
    assert "reassign=none" in nothing.headers["location"]
    outside = client.post(
        "/customers/reassign", data={**data, "back": "https://evil.example/"}, follow_redirects=False
    )
    assert outside.headers["location"].startswith("/customers?")
