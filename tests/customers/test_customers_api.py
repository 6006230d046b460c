"""Customers through real HTTP: auth, permissions, scope, validation, locking, history."""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from tests.factories import DEFAULT_PASSWORD, make_customer

from custinfo.audit.models import ChangeRecord
from custinfo.customers.identifiers import make_id_number
from custinfo.customers.models import Customer

API = "/api/v1"
VALID_CODE = "91350100M000100Y43"


def company(**overrides: Any) -> dict[str, Any]:
    body = {
        "kind": "company",
        "name": "福建测试机械有限公司",
        "credit_code": VALID_CODE,
        "industry": "生产业",
        "source_channel": "trade_show",
        "purpose": "sales_service",
        "employee_count": 120,
    }
    body.update(overrides)
    return body


def customer_count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Customer)) or 0


def test_anonymous_is_401_with_problem_details(client: TestClient) -> None:
    response = client.get(f"{API}/customers")
    assert response.status_code == 401
    body = response.json()
    assert body["status"] == 401 and body["title"] and "type" in body
    assert response.headers["www-authenticate"] == "Bearer"


def test_unknown_paths_and_methods_are_problem_details(client: TestClient) -> None:
    missing = client.get(f"{API}/no-such-thing")
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"
    assert missing.json()["status"] == 404
    wrong_method = client.delete(f"{API}/auth/token")
    assert wrong_method.status_code == 405 and wrong_method.json()["status"] == 405


def test_roles_without_customer_access_are_403(client: TestClient, login) -> None:
    assert client.get(f"{API}/customers", headers=login("auditor")).status_code == 403
    assert client.post(f"{API}/customers", json=company(), headers=login("marketing")).status_code == 403
    assert client.post(f"{API}/customers", json=company(), headers=login("service1")).status_code == 403


def test_sales_creates_company_with_standardised_values(client: TestClient, login) -> None:
    response = client.post(
        f"{API}/customers",
        json=company(name="  福建测试机械有限公司 ", mobile="+86 138-0013-8000", email="Info@Example.COM"),
        headers=login("sales_east1"),
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["name"] == "福建测试机械有限公司"
    assert body["industry"] == "制造业"  # synonym mapped on write
    assert body["mobile"] == "13800138000"
    assert body["email"] == "info@example.com"
    assert body["owner"] == "sales_east1" and body["department"] == "华东销售部"
    assert body["company_size"] == "medium"
    assert body["version"] == 1
    # Created and classified in the same request: the response already carries tags and code.
    assert "industry_c" in body["tags"] and body["classification_code"].startswith("制造业")
    assert body["created_by"] == "sales_east1"


def test_invalid_input_names_every_field_and_rule_and_saves_nothing(
    client: TestClient, login, session: Session
) -> None:
    before = customer_count(session)
    response = client.post(
        f"{API}/customers",
        json=company(
            credit_code="91350100M000100Y44", mobile="12345", email="not-an-email", industry="造船魔法"
        ),
        headers=login("sales_east1"),
    )
    assert response.status_code == 422
    errors = {e["field"]: e for e in response.json()["errors"]}
    assert errors["credit_code"]["rule"] == "credit_code.check_char"
    assert errors["mobile"]["rule"] == "mobile.invalid"
    assert errors["email"]["rule"] == "email.invalid"
    assert errors["industry"]["rule"] == "vocabulary.unknown"
    assert errors["credit_code"]["message"].startswith("统一社会信用代码")
    assert customer_count(session) == before


def test_messages_follow_the_callers_language(client: TestClient, login) -> None:
    headers = {**login("sales_east1"), "Accept-Language": "en-US,en;q=0.9"}
    response = client.post(f"{API}/customers", json=company(credit_code="X"), headers=headers)
    assert response.status_code == 422
    message = response.json()["errors"][0]["message"]
    assert message.startswith("Unified social credit code") and "GB 32100" in message


def test_missing_required_fields_and_wrong_kind_fields(client: TestClient, login) -> None:
    response = client.post(
        f"{API}/customers",
        json={"kind": "company", "name": "", "id_number": "11010519491231002X"},
        headers=login("sales_east1"),
    )
    assert response.status_code == 422
    rules = {(e["field"], e["rule"]) for e in response.json()["errors"]}
    assert ("name", "field.required") in rules
    assert ("source_channel", "field.required") in rules
    assert ("id_number", "field.not_for_kind") in rules
    response = client.post(f"{API}/customers", json={"kind": "robot"}, headers=login("sales_east1"))
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "kind"
    response = client.post(
        f"{API}/customers", json={**company(), "colour": "red"}, headers=login("sales_east1")
    )
    assert response.status_code == 422 and response.json()["errors"][0]["rule"] == "field.unknown"


def test_individual_birth_date_and_gender_come_from_the_id_number(client: TestClient, login) -> None:
    body = {
        "kind": "individual",
        "name": "王小明",
        "id_number": "11010519491231002x",
        "source_channel": "visit",
        "purpose": "sales_service",
    }
    # Who sees an ID number masked cannot enter one (the duplicate check would confirm guesses, issue 9):
    # the data steward, who may reveal it, enters it for the owner.
    refused = client.post(f"{API}/customers", json=body, headers=login("sales_east1"))
    assert refused.status_code == 422 and refused.json()["errors"][0]["rule"] == "field.l3_entry"
    response = client.post(
        f"{API}/customers", json={**body, "owner": "sales_east1"}, headers=login("steward")
    )
    assert response.status_code == 201, response.text
    created = client.get(f"{API}/customers/{response.json()['id']}", headers=login("sales_east1")).json()
    # L3 fields come back masked to sales (issue 4); an admin's audited reveal shows the stored values.
    assert created["id_number"] == "110105********002X"
    assert created["birth_date"] == "1949-**-**" and created["gender"] == "female"
    reveal = f"{API}/customers/{created['id']}/reveal"
    admin = login("admin")
    assert (
        client.get(reveal, params={"field": "id_number"}, headers=admin).json()["value"]
        == "11010519491231002X"
    )
    assert client.get(reveal, params={"field": "birth_date"}, headers=admin).json()["value"] == "1949-12-31"
    another = make_id_number("110105", date(1949, 12, 31), 3)
    mismatch = {**body, "id_number": another, "birth_date": "1950-01-01", "name": "王二"}
    response = client.post(f"{API}/customers", json=mismatch, headers=login("steward"))
    assert response.status_code == 422
    assert response.json()["errors"][0]["rule"] == "id_number.birth_mismatch"


def test_duplicate_credit_code_is_409(client: TestClient, login) -> None:
    assert client.post(f"{API}/customers", json=company(), headers=login("sales_east1")).status_code == 201
    response = client.post(f"{API}/customers", json=company(name="另一家"), headers=login("sales_south1"))
    assert response.status_code == 409
    assert response.json()["errors"][0] == {
        "field": "credit_code",
        "rule": "field.duplicate",
        "message": response.json()["errors"][0]["message"],
    }


def test_optimistic_locking(client: TestClient, login) -> None:
    headers = login("sales_east1")
    created = client.post(f"{API}/customers", json=company(), headers=headers).json()
    url = f"{API}/customers/{created['id']}"
    first = client.patch(url, json={"region": "福州市", "version": 1}, headers=headers)
    assert first.status_code == 200 and first.json()["version"] == 2
    stale = client.patch(url, json={"region": "厦门市", "version": 1}, headers=headers)
    assert stale.status_code == 409
    assert client.get(url, headers=headers).json()["region"] == "福州市"
    # An edit that does not say which version it read would overwrite blindly: 422 naming `version`.
    blind = client.patch(url, json={"region": "厦门市"}, headers=headers)
    assert blind.status_code == 422
    assert [(e["field"], e["rule"]) for e in blind.json()["errors"]] == [("version", "field.required")]
    assert client.delete(url, headers=login("head_east")).status_code == 422


def test_update_validates_and_refuses_kind_change(client: TestClient, login) -> None:
    headers = login("sales_east1")
    created = client.post(f"{API}/customers", json=company(), headers=headers).json()
    url = f"{API}/customers/{created['id']}"
    kind = client.patch(url, json={"kind": "individual", "version": 1}, headers=headers)
    assert kind.status_code == 422 and kind.json()["errors"][0]["rule"] == "field.immutable"
    response = client.patch(url, json={"name": "  ", "version": 1}, headers=headers)
    assert response.status_code == 422 and response.json()["errors"][0]["rule"] == "field.required"
    assert client.get(url, headers=headers).json()["version"] == 1


def test_record_scope_hides_other_owners_customers(
    client: TestClient, login, session: Session, world
) -> None:
    mine = make_customer(session, world["sales_east1"], mobile="13911112222")
    theirs = make_customer(session, world["sales_south1"], mobile="13933334444")
    session.commit()
    east1 = login("sales_east1")
    assert client.get(f"{API}/customers/{mine.id}", headers=east1).status_code == 200
    assert client.get(f"{API}/customers/{theirs.id}", headers=east1).status_code == 404
    assert (
        client.patch(
            f"{API}/customers/{theirs.id}", json={"region": "x", "version": 1}, headers=east1
        ).status_code
        == 404
    )
    listed = client.get(f"{API}/customers", params={"q": "13933334444"}, headers=east1).json()
    assert listed["items"] == [] and listed["total"] == 0
    ids = {c["id"] for c in client.get(f"{API}/customers", headers=login("head_east")).json()["items"]}
    assert mine.id in ids and theirs.id not in ids
    ids = {c["id"] for c in client.get(f"{API}/customers", headers=login("admin")).json()["items"]}
    assert {mine.id, theirs.id} <= ids
    assert client.get(f"{API}/customers/{mine.id}", headers=login("sales_east2")).status_code == 404


def test_list_search_filters_and_paging(client: TestClient, login, session: Session, world) -> None:
    owner = world["sales_east1"]
    make_customer(session, owner, name="杭州远景科技有限公司", industry="信息传输、软件和信息技术服务业")
    target = make_customer(session, owner, name="宁波海港物流有限公司", industry="交通运输、仓储和邮政业")
    make_customer(
        session, owner, kind="individual", name="赵敏", mobile="13700001111", email="zm@example.com"
    )
    session.commit()
    headers = login("sales_east1")

    def names(**params: Any) -> list[str]:
        response = client.get(f"{API}/customers", params=params, headers=headers)
        assert response.status_code == 200, response.text
        return [c["name"] for c in response.json()["items"]]

    assert names(q="海港") == ["宁波海港物流有限公司"]
    assert names(q="13700001111") == ["赵敏"]
    assert names(q="1370000") == ["赵敏"]  # a prefix of the mobile
    assert names(q="+86 137-0000-1111") == ["赵敏"]
    assert names(q="1379") == []
    assert names(q="zm@example.com") == ["赵敏"]
    assert names(q=target.credit_code) == ["宁波海港物流有限公司"]
    assert names(q="100%_") == []
    assert names(kind="individual") == ["赵敏"]
    assert names(industry="交通运输、仓储和邮政业") == ["宁波海港物流有限公司"]
    assert names(owner="sales_east2") == []
    page = client.get(f"{API}/customers", params={"size": 2, "page": 2}, headers=headers).json()
    assert page["total"] == 3 and len(page["items"]) == 1 and page["total_capped"] is False
    assert names(tag="高价值") == []
    bad = client.get(f"{API}/customers", params={"size": 1000}, headers=headers)
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "size"


def test_contacts_and_leaving(client: TestClient, login) -> None:
    headers = login("sales_east1")
    created = client.post(f"{API}/customers", json=company(), headers=headers).json()
    url = f"{API}/customers/{created['id']}/contacts"
    contact = client.post(
        url, json={"name": "陈经理", "title": "采购经理", "mobile": "13800138000"}, headers=headers
    )
    assert contact.status_code == 201, contact.text
    assert contact.json()["in_post"] is True
    left = client.patch(
        f"{url}/{contact.json()['id']}", json={"in_post": False, "version": 1}, headers=headers
    )
    assert left.status_code == 200 and left.json()["in_post"] is False and left.json()["left_on"]
    assert client.get(url, headers=headers).json()[0]["in_post"] is False
    bad = client.post(url, json={"name": "", "email": "x"}, headers=headers)
    assert bad.status_code == 422 and {e["field"] for e in bad.json()["errors"]} == {"name", "email"}
    person = client.post(
        f"{API}/customers",
        json={"kind": "individual", "name": "李四", "source_channel": "app", "purpose": "marketing"},
        headers=headers,
    ).json()
    response = client.post(f"{API}/customers/{person['id']}/contacts", json={"name": "x"}, headers=headers)
    assert response.status_code == 422 and response.json()["errors"][0]["rule"] == "contact.company_only"


def test_needs_log_is_append_only(client: TestClient, login) -> None:
    headers = login("sales_east1")
    created = client.post(f"{API}/customers", json=company(), headers=headers).json()
    url = f"{API}/customers/{created['id']}/needs"
    first = {"core_need": "产品采购", "urgency": "low", "budget_min": "10000", "budget_max": "50,000.00"}
    assert client.post(url, json=first, headers=headers).status_code == 201
    second = {"core_need": "solution_partnership", "urgency": "高", "description": "希望定制产线方案"}
    assert client.post(url, json=second, headers=headers).status_code == 201
    log = client.get(url, headers=headers).json()
    assert [n["core_need"] for n in log] == ["solution_partnership", "product_purchase"]
    assert log[1]["budget_max"] == "50000.00" and log[1]["recorded_by"] == "sales_east1"
    bad = client.post(
        url, json={"core_need": "x", "urgency": "low", "budget_min": "5", "budget_max": "1"}, headers=headers
    )
    assert bad.status_code == 422
    assert client.patch(f"{url}/{log[0]['id']}", json={}, headers=headers).status_code in (404, 405)


def test_history_records_who_changed_what(client: TestClient, login, session: Session) -> None:
    headers = login("sales_east1")
    created = client.post(f"{API}/customers", json=company(), headers=headers).json()
    url = f"{API}/customers/{created['id']}"
    client.patch(url, json={"region": "福州市", "version": 1}, headers=headers)
    client.post(f"{url}/contacts", json={"name": "陈经理"}, headers=headers)
    history = client.get(f"{url}/history", headers=headers).json()
    assert [(h["entity"], h["action"]) for h in history] == [
        ("contact", "create"),
        ("customer", "update"),
        ("customer", "create"),
    ]
    assert history[1]["changes"] == {"region": [None, "福州市"]}
    assert history[1]["actor"] == "sales_east1"
    assert history[2]["changes"]["credit_code"] == [None, VALID_CODE]
    client.delete(url, params={"version": 2}, headers=login("head_east"))
    kept = session.scalars(select(ChangeRecord.action).where(ChangeRecord.customer_id == created["id"])).all()
    assert "delete" in kept and "create" in kept


def test_delete_needs_permission_and_version(client: TestClient, login) -> None:
    created = client.post(f"{API}/customers", json=company(), headers=login("sales_east1")).json()
    url = f"{API}/customers/{created['id']}"
    assert client.delete(url, headers=login("sales_east1")).status_code == 403
    assert client.delete(url, params={"version": 7}, headers=login("head_east")).status_code == 409
    assert client.delete(url, params={"version": 1}, headers=login("head_south")).status_code == 404
    assert client.delete(url, params={"version": 1}, headers=login("head_east")).status_code == 204
    assert client.get(url, headers=login("admin")).status_code == 404


def test_owner_assignment_rules(client: TestClient, login) -> None:
    response = client.post(
        f"{API}/customers", json=company(owner="sales_east2"), headers=login("sales_east1")
    )
    assert response.status_code == 422 and response.json()["errors"][0]["rule"] == "owner.not_allowed"
    response = client.post(f"{API}/customers", json=company(owner="sales_south1"), headers=login("head_east"))
    assert response.status_code == 422 and response.json()["errors"][0]["rule"] == "owner.other_department"
    response = client.post(f"{API}/customers", json=company(owner="sales_south1"), headers=login("admin"))
    assert response.status_code == 201 and response.json()["department"] == "华南销售部"


def test_changing_the_owner_always_needs_the_reassign_permission(client: TestClient, login) -> None:
    sales, head = login("sales_east1"), login("head_east")
    created = client.post(f"{API}/customers", json=company(), headers=sales).json()
    url = f"{API}/customers/{created['id']}"
    # Naming the current owner is no change; naming anyone else, the caller included, is a reassignment.
    same = client.patch(url, json={"owner": "sales_east1", "version": 1}, headers=sales)
    assert same.status_code == 200 and same.json()["version"] == 1
    moved = client.patch(url, json={"owner": "sales_east2", "version": 1}, headers=head)
    assert moved.status_code == 200 and moved.json()["owner"] == "sales_east2"
    back = client.patch(url, json={"owner": "sales_east1", "version": 2}, headers=login("sales_east2"))
    assert back.status_code == 422 and back.json()["errors"][0]["rule"] == "owner.not_allowed"
    taken = client.patch(url, json={"owner": "head_east", "version": 2}, headers=login("sales_east2"))
    assert taken.status_code == 422 and taken.json()["errors"][0]["rule"] == "owner.not_allowed"
    assert client.get(url, headers=head).json()["owner"] == "sales_east2"


def test_token_login_lockout_and_logout(client: TestClient, world) -> None:
    json_login = client.post(
        f"{API}/auth/token", json={"username": "sales_east1", "password": DEFAULT_PASSWORD}
    )
    assert json_login.status_code == 200
    token = json_login.json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get(f"{API}/auth/me", headers=headers).json()["role"] == "sales"
    assert client.post(f"{API}/auth/logout", headers=headers).status_code == 204
    assert client.get(f"{API}/auth/me", headers=headers).status_code == 401
    for _ in range(5):
        bad = client.post(
            f"{API}/auth/token", data={"username": "sales_east2", "password": "wrong-password-1"}
        )
        assert bad.status_code == 401
    locked = client.post(f"{API}/auth/token", data={"username": "sales_east2", "password": DEFAULT_PASSWORD})
    assert locked.status_code == 401 and "锁定" in locked.json()["detail"]
    missing = client.post(f"{API}/auth/token", json={"username": "x"})
    assert missing.status_code == 422 and missing.json()["errors"][0]["field"] == "password"
    assert client.get(f"{API}/customers", headers={"Authorization": "Bearer nonsense"}).status_code == 401


def test_openapi_documents_every_customer_field(client: TestClient) -> None:
    spec = client.get(f"{API}/openapi.json").json()
    props = spec["components"]["schemas"]["CustomerIn"]["properties"]
    for field in ("credit_code", "id_number", "industry", "source_channel", "purpose", "version"):
        assert props[field].get("description"), field
    assert "/api/v1/customers/{customer_id}/contacts" in spec["paths"]


def test_security_headers(client: TestClient) -> None:
    response = client.get(f"{API}/openapi.json")
    assert "script-src 'self'" in response.headers["content-security-policy"]
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"
