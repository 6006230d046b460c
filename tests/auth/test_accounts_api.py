"""Accounts and organisation over the API: /users, /departments, tokens, forced password change, last admin."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session
from tests.factories import DEFAULT_PASSWORD, make_customer

from custinfo.audit.models import AuditEntry
from custinfo.auth.models import User
from custinfo.auth.service import display_names

Headers = Callable[[str], dict[str, str]]
NEW_PASSWORD = "Hai-tang-7-chun-yu"


def _actions(session: Session, target: str) -> list[str]:
    session.expire_all()
    rows = session.scalars(select(AuditEntry).where(AuditEntry.target_id == target).order_by(AuditEntry.seq))
    return [row.action for row in rows]


def test_admin_only_everywhere(client: TestClient, world: dict[str, User], token: Headers) -> None:
    user_id = world["sales_east1"].id
    calls = [
        ("get", "/api/v1/users", None),
        ("post", "/api/v1/users", {"username": "x1", "role": "sales"}),
        ("get", f"/api/v1/users/{user_id}", None),
        ("patch", f"/api/v1/users/{user_id}", {"version": 1, "display_name": "X"}),
        ("post", f"/api/v1/users/{user_id}/disable", {"version": 1}),
        ("post", f"/api/v1/users/{user_id}/enable", {"version": 1}),
        ("post", f"/api/v1/users/{user_id}/unlock", None),
        ("post", f"/api/v1/users/{user_id}/reset-password", {"version": 1}),
        ("get", f"/api/v1/users/{user_id}/tokens", None),
        ("post", f"/api/v1/users/{user_id}/tokens", {"label": "x", "scope": "read", "days": 1}),
        ("get", "/api/v1/departments", None),
        ("post", "/api/v1/departments", {"name": "新部门"}),
    ]
    for method, url, body in calls:
        anonymous = client.request(method, url, json=body)
        assert anonymous.status_code == 401, (method, url)
        for who in ("head_east", "steward", "auditor"):
            forbidden = client.request(method, url, json=body, headers=token(who))
            assert forbidden.status_code == 403, (method, url, who, forbidden.text)
    assert client.get("/api/v1/users", headers=token("admin")).status_code == 200


def test_day_one_department_rep_head_and_forced_password(
    client: TestClient, world: dict[str, User], token: Headers, session: Session
) -> None:
    admin = token("admin")
    dept = client.post("/api/v1/departments", json={"name": "华北销售部"}, headers=admin)
    assert dept.status_code == 201, dept.text
    dept_id = dept.json()["id"]
    assert client.post("/api/v1/departments", json={"name": "华北销售部"}, headers=admin).status_code == 409

    rep = client.post(
        "/api/v1/users",
        json={"username": "zhang.wei", "role": "sales", "display_name": "张伟", "department_id": dept_id},
        headers=admin,
    )
    assert rep.status_code == 201, rep.text
    body = rep.json()
    first_password = body["one_time_password"]
    assert first_password and body["must_change_password"] and body["department"] == "华北销售部"
    head = client.post(
        "/api/v1/users",
        json={"username": "li.na", "role": "dept_head", "display_name": "李娜", "department_id": dept_id},
        headers=admin,
    ).json()
    named = client.patch(
        f"/api/v1/departments/{dept_id}", json={"version": 1, "head_id": head["id"]}, headers=admin
    )
    assert named.status_code == 200 and named.json()["head"] == "li.na"
    assert named.json()["head_display_name"] == "李娜" and named.json()["members"] == 2
    assert (
        client.patch(
            f"/api/v1/departments/{dept_id}", json={"version": 1, "name": "X"}, headers=admin
        ).status_code
        == 409
    )

    rep_user = session.get(User, body["id"])
    assert rep_user is not None
    make_customer(session, rep_user, name="北方重工有限公司")
    make_customer(session, world["sales_east1"], name="别人的客户有限公司")
    session.commit()

    signed_in = client.post("/api/v1/auth/token", data={"username": "zhang.wei", "password": first_password})
    assert signed_in.status_code == 200
    rep_headers = {"Authorization": f"Bearer {signed_in.json()['access_token']}"}
    refused = client.get("/api/v1/customers", headers=rep_headers)
    assert refused.status_code == 403
    assert refused.json()["detail"] != "auth.password_change_required"  # in words
    assert client.get("/api/v1/auth/me", headers=rep_headers).status_code == 200

    weak = client.post(
        "/api/v1/account/password",
        json={
            "current_password": first_password,
            "new_password": "password1",
            "repeat_password": "password1",
        },
        headers=rep_headers,
    )
    assert weak.status_code == 422
    assert {e["field"] for e in weak.json()["errors"]} == {"new_password"}
    wrong = client.post(
        "/api/v1/account/password",
        json={
            "current_password": "not-it-123",
            "new_password": NEW_PASSWORD,
            "repeat_password": NEW_PASSWORD,
        },
        headers=rep_headers,
    )
    assert wrong.status_code == 422 and wrong.json()["errors"][0]["field"] == "current_password"
    changed = client.post(
        "/api/v1/account/password",
        json={
            "current_password": first_password,
            "new_password": NEW_PASSWORD,
            "repeat_password": NEW_PASSWORD,
        },
        headers=rep_headers,
    )
    assert changed.status_code == 204, changed.text
    mine = client.get("/api/v1/customers", headers=rep_headers)
    assert mine.status_code == 200
    assert [c["name"] for c in mine.json()["items"]] == ["北方重工有限公司"]

    assert _actions(session, "zhang.wei") == [
        "user.created",
        "login.succeeded",
        "user.password_changed",
    ]
    assert "department.created" in _actions(session, "华北销售部")
    assert "department.updated" in _actions(session, "华北销售部")
    assert display_names(session, ["zhang.wei", "li.na", "nobody"]) == {"zhang.wei": "张伟", "li.na": "李娜"}


def test_change_role_department_disable_enable_unlock_reset(
    client: TestClient, world: dict[str, User], token: Headers, session: Session
) -> None:
    admin = token("admin")
    target = world["sales_east2"]
    url = f"/api/v1/users/{target.id}"
    south = client.get("/api/v1/departments", headers=admin).json()
    south_id = next(d["id"] for d in south if d["name"] == "华南销售部")
    assert client.patch(url, json={"role": "dept_head"}, headers=admin).status_code == 422  # version required
    moved = client.patch(
        url, json={"version": 1, "role": "dept_head", "department_id": south_id}, headers=admin
    )
    assert moved.status_code == 200 and moved.json()["role"] == "dept_head" and moved.json()["version"] == 2
    assert client.patch(url, json={"version": 1, "display_name": "Y"}, headers=admin).status_code == 409
    bad = client.patch(url, json={"version": 2, "role": "boss", "department_id": 10**9}, headers=admin)
    assert bad.status_code == 422
    unknown_dept = client.patch(url, json={"version": 2, "department_id": 10**9}, headers=admin)
    assert unknown_dept.status_code == 422 and unknown_dept.json()["errors"][0]["field"] == "department_id"
    assert client.get("/api/v1/users/999999999", headers=admin).status_code == 404

    disabled = client.post(f"{url}/disable", json={"version": 2}, headers=admin)
    assert disabled.status_code == 200 and disabled.json()["is_active"] is False
    assert (
        client.post(
            "/api/v1/auth/token", data={"username": "sales_east2", "password": DEFAULT_PASSWORD}
        ).status_code
        == 401
    )
    enabled = client.post(f"{url}/enable", json={"version": 3}, headers=admin)
    assert enabled.status_code == 200 and enabled.json()["is_active"] is True

    for _ in range(5):
        client.post("/api/v1/auth/token", data={"username": "sales_east2", "password": "wrong-pass-123"})
    assert client.get(url, headers=admin).json()["locked"] is True
    assert client.post(f"{url}/unlock", headers=admin).json()["locked"] is False
    assert (
        client.post(
            "/api/v1/auth/token", data={"username": "sales_east2", "password": DEFAULT_PASSWORD}
        ).status_code
        == 200
    )

    reset = client.post(f"{url}/reset-password", json={"version": 4}, headers=admin)
    assert reset.status_code == 200, reset.text
    one_time = reset.json()["one_time_password"]
    assert (
        client.post(
            "/api/v1/auth/token", data={"username": "sales_east2", "password": DEFAULT_PASSWORD}
        ).status_code
        == 401
    )
    again = client.post("/api/v1/auth/token", data={"username": "sales_east2", "password": one_time})
    assert again.status_code == 200
    forced = client.get(
        "/api/v1/customers", headers={"Authorization": f"Bearer {again.json()['access_token']}"}
    )
    assert forced.status_code == 403
    assert _actions(session, "sales_east2")[:4] == [
        "user.updated",
        "user.disabled",
        "login.failed",
        "user.enabled",
    ]
    assert "user.unlocked" in _actions(session, "sales_east2")
    assert "user.password_reset" in _actions(session, "sales_east2")
    for entry in session.scalars(select(AuditEntry).where(AuditEntry.target_id == "sales_east2")):
        assert one_time not in str(entry.details)


def test_last_active_admin_cannot_be_disabled_or_demoted(
    client: TestClient, world: dict[str, User], token: Headers
) -> None:
    admin = token("admin")
    url = f"/api/v1/users/{world['admin'].id}"
    demote = client.patch(url, json={"version": 1, "role": "sales"}, headers=admin)
    assert demote.status_code == 409
    assert demote.json()["errors"][0] == {
        "field": "role",
        "rule": "user.last_admin",
        "message": demote.json()["errors"][0]["message"],
    }
    disable = client.post(f"{url}/disable", json={"version": 1}, headers=admin)
    assert disable.status_code == 409 and disable.json()["errors"][0]["rule"] == "user.last_admin"
    second = client.post("/api/v1/users", json={"username": "admin2", "role": "admin"}, headers=admin).json()
    assert client.post(f"{url}/disable", json={"version": 1}, headers=admin).status_code == 200
    # Now admin2 is the last one (the first was disabled): it cannot be demoted either.
    second_admin = client.post(
        "/api/v1/auth/token", data={"username": "admin2", "password": second["one_time_password"]}
    )
    assert second_admin.status_code == 200


def test_integration_account_tokens(
    client: TestClient, world: dict[str, User], token: Headers, session: Session
) -> None:
    admin = token("admin")
    shop = client.post(
        "/api/v1/users",
        json={"username": "webshop", "role": "data_steward", "kind": "integration", "display_name": "网店"},
        headers=admin,
    )
    assert shop.status_code == 201 and shop.json()["one_time_password"] is None
    shop_id = shop.json()["id"]
    bad = client.post(
        f"/api/v1/users/{shop_id}/tokens", json={"label": "", "scope": "all", "days": 0}, headers=admin
    )
    assert bad.status_code == 422
    assert {e["field"] for e in bad.json()["errors"]} == {"label", "scope", "days"}
    person = client.post(
        f"/api/v1/users/{world['sales_east1'].id}/tokens",
        json={"label": "x", "scope": "read", "days": 5},
        headers=admin,
    )
    assert person.status_code == 422
    issued = client.post(
        f"/api/v1/users/{shop_id}/tokens",
        json={"label": "订单推送", "scope": "read write", "days": 30},
        headers=admin,
    )
    assert issued.status_code == 201, issued.text
    secret = issued.json()["access_token"]
    shop_headers = {"Authorization": f"Bearer {secret}"}
    assert client.get("/api/v1/customers", headers=shop_headers).status_code == 200
    # The shop pushes one order twice with the same Idempotency-Key: one order exists.
    customer = make_customer(session, world["sales_east1"], name="网店客户有限公司")
    session.commit()
    push = {"customer_id": customer.id, "ordered_on": "2026-01-15", "amount": "99.00", "product": "阀门"}
    retry = {**shop_headers, "Idempotency-Key": "shop-order-0001"}
    first = client.post("/api/v1/orders", json=push, headers=retry)
    assert first.status_code == 201, first.text
    second = client.post("/api/v1/orders", json=push, headers=retry)
    assert second.status_code == 201 and second.json() == first.json()
    assert second.headers["Idempotent-Replayed"] == "true"
    orders = client.get("/api/v1/orders", params={"customer_id": customer.id}, headers=admin).json()
    assert [o["id"] for o in orders["items"]] == [first.json()["id"]]
    listed = client.get(f"/api/v1/users/{shop_id}/tokens", headers=admin).json()
    assert [t["label"] for t in listed] == ["订单推送"] and "access_token" not in listed[0]
    # No web or password sign-in for an integration account.
    assert (
        client.post(
            "/api/v1/auth/token", data={"username": "webshop", "password": "anything-123"}
        ).status_code
        == 401
    )
    read_only = client.post(
        f"/api/v1/users/{shop_id}/tokens", json={"label": "报表", "scope": "read", "days": 1}, headers=admin
    ).json()
    ro_headers = {"Authorization": f"Bearer {read_only['access_token']}"}
    assert (
        client.post(
            "/api/v1/customers", json={"kind": "company", "name": "X有限公司"}, headers=ro_headers
        ).status_code
        == 403
    )
    revoked = client.delete(f"/api/v1/users/{shop_id}/tokens/{issued.json()['id']}", headers=admin)
    assert revoked.status_code == 204
    assert client.get("/api/v1/customers", headers=shop_headers).status_code == 401
    assert client.delete(f"/api/v1/users/{shop_id}/tokens/999999", headers=admin).status_code == 404
    actions = _actions(session, "webshop")
    assert actions == ["user.created", "token.created", "login.failed", "token.created", "token.revoked"]
    for entry in session.scalars(select(AuditEntry).where(AuditEntry.target_id == "webshop")):
        assert secret not in str(entry.details)


def test_bad_input_is_422(client: TestClient, world: dict[str, User], token: Headers) -> None:
    admin = token("admin")
    for body in (
        {"username": "", "role": "sales"},
        {"username": "a" * 65, "role": "sales"},
        {"username": "ok", "role": "sales", "password": "short1"},
        {"username": "ok", "role": "sales", "department_id": 10**9},
        {"username": "ok", "role": "nobody"},
        {"username": "ok", "role": "sales", "extra": 1},
    ):
        assert client.post("/api/v1/users", json=body, headers=admin).status_code == 422, body
    dup = client.post("/api/v1/users", json={"username": "sales_east1", "role": "sales"}, headers=admin)
    assert dup.status_code == 409
    assert client.post("/api/v1/departments", json={"name": " "}, headers=admin).status_code == 422
    assert (
        client.post("/api/v1/departments", json={"name": "X", "head_id": 10**9}, headers=admin).status_code
        == 422
    )


def test_people_search_for_pickers(client: TestClient, world: dict[str, User], token: Headers) -> None:
    assert client.get("/api/v1/people?q=east").status_code == 401
    found = client.get("/api/v1/people", params={"q": "EAST", "role": "sales"}, headers=token("head_east"))
    assert found.status_code == 200
    assert [p["username"] for p in found.json()] == ["sales_east1", "sales_east2"]
