"""Administration pages (/admin/users, /admin/departments), /account/password, the pickers, forced change."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session
from tests.factories import DEFAULT_PASSWORD, make_customer

from custinfo.auth.models import User

NEW_PASSWORD = "Hai-tang-7-chun-yu"


def _sign_in(client: TestClient, username: str, password: str = DEFAULT_PASSWORD) -> str:
    """Sign in through the form; returns the session's CSRF token."""
    client.cookies.clear()
    page = client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token
    data = {"csrf_token": token.group(1), "username": username, "password": password, "next": ""}
    assert client.post("/login", data=data, follow_redirects=False).status_code == 303
    home = client.get("/account/password")
    csrf = re.search(r'name="csrf-token" content="([^"]+)"', home.text)
    assert csrf
    return csrf.group(1)


def test_admin_pages_anonymous_forbidden_allowed(client: TestClient, world: dict[str, User]) -> None:
    user_id = world["sales_east1"].id
    pages = ["/admin/users", f"/admin/users/{user_id}", "/admin/departments"]
    for path in pages:
        anonymous = client.get(path, follow_redirects=False)
        assert anonymous.status_code == 303 and anonymous.headers["location"].startswith("/login")
    csrf = _sign_in(client, "head_east")
    for path in pages:
        assert client.get(path).status_code == 403, path
    refused = client.post("/admin/users", data={"csrf_token": csrf, "username": "x", "role": "sales"})
    assert refused.status_code == 403
    assert (
        client.post(f"/admin/users/{user_id}/disable", data={"csrf_token": csrf, "version": "1"}).status_code
        == 403
    )
    assert client.post("/admin/departments", data={"csrf_token": csrf, "name": "X"}).status_code == 403
    _sign_in(client, "admin")
    listing = client.get("/admin/users")
    assert listing.status_code == 200 and "sales_east1" in listing.text
    assert client.get(f"/admin/users/{user_id}").status_code == 200
    assert client.get("/admin/users/999999999").status_code == 404
    assert client.get("/admin/departments").status_code == 200


def test_admin_creates_and_changes_accounts_in_pages(
    client: TestClient, world: dict[str, User], session: Session
) -> None:
    csrf = _sign_in(client, "admin")
    missing_csrf = client.post("/admin/users", data={"username": "zhang.wei", "role": "sales"})
    assert missing_csrf.status_code == 403
    bad = client.post(
        "/admin/users", data={"csrf_token": csrf, "username": "zhang.wei", "role": "", "password": "short1"}
    )
    assert bad.status_code == 422
    assert "必填" in bad.text and "密码至少 10 个字符" in bad.text and 'value="zhang.wei"' in bad.text
    south = world["sales_south1"].department_id
    created = client.post(
        "/admin/users",
        data={"csrf_token": csrf, "username": "zhang.wei", "display_name": "张伟", "role": "sales",
              "department_id": str(south), "kind": "person", "password": ""},
    )  # fmt: skip
    assert created.status_code == 200
    one_time = re.search(r'id="one-time-password">([^<]+)<', created.text)
    assert one_time
    duplicate = client.post(
        "/admin/users", data={"csrf_token": csrf, "username": "zhang.wei", "role": "sales"}
    )
    assert duplicate.status_code == 409

    user = session.query(User).filter_by(username="zhang.wei").one()
    saved = client.post(
        f"/admin/users/{user.id}",
        data={
            "csrf_token": csrf,
            "version": "1",
            "display_name": "张伟伟",
            "role": "dept_head",
            "department_id": "",
        },
        follow_redirects=False,
    )
    assert saved.status_code == 303
    stale = client.post(
        f"/admin/users/{user.id}",
        data={"csrf_token": csrf, "version": "1", "display_name": "X", "role": "sales", "department_id": ""},
    )
    assert stale.status_code == 409
    reset = client.post(f"/admin/users/{user.id}/reset-password", data={"csrf_token": csrf, "version": "2"})
    assert reset.status_code == 200 and 'id="one-time-password"' in reset.text
    assert (
        client.post(f"/admin/users/{user.id}/disable", data={"csrf_token": csrf, "version": "3"}).status_code
        == 200
    )
    assert (
        client.post(f"/admin/users/{user.id}/enable", data={"csrf_token": csrf, "version": "4"}).status_code
        == 200
    )
    assert client.post(f"/admin/users/{user.id}/unlock", data={"csrf_token": csrf}).status_code == 200
    assert client.post(f"/admin/users/{user.id}/explode", data={"csrf_token": csrf}).status_code == 404

    admin_id = world["admin"].id
    last = client.post(f"/admin/users/{admin_id}/disable", data={"csrf_token": csrf, "version": "1"})
    assert last.status_code == 409 and "最后一个启用的管理员" in last.text


def test_integration_tokens_in_pages(client: TestClient, world: dict[str, User], session: Session) -> None:
    csrf = _sign_in(client, "admin")
    created = client.post(
        "/admin/users",
        data={"csrf_token": csrf, "username": "webshop", "display_name": "网店", "role": "data_steward",
              "kind": "integration"},
    )  # fmt: skip
    assert created.status_code == 200 and 'id="one-time-password"' not in created.text
    shop = session.query(User).filter_by(username="webshop").one()
    bad = client.post(
        f"/admin/users/{shop.id}/tokens", data={"csrf_token": csrf, "label": "", "scope": "read", "days": "0"}
    )
    assert bad.status_code == 422
    issued = client.post(
        f"/admin/users/{shop.id}/tokens",
        data={"csrf_token": csrf, "label": "订单推送", "scope": "read write", "days": "30"},
    )
    assert issued.status_code == 200
    secret = re.search(r'id="issued-token">([^<]+)<', issued.text)
    assert secret
    assert (
        client.get("/api/v1/customers", headers={"Authorization": f"Bearer {secret.group(1)}"}).status_code
        == 200
    )
    again = client.get(f"/admin/users/{shop.id}")
    assert secret.group(1) not in again.text and "订单推送" in again.text
    token_id = re.search(r'data-token="(\d+)"', again.text)
    assert token_id
    revoked = client.post(
        f"/admin/users/{shop.id}/tokens/{token_id.group(1)}/revoke",
        data={"csrf_token": csrf},
        follow_redirects=False,
    )
    assert revoked.status_code == 303
    assert (
        client.get("/api/v1/customers", headers={"Authorization": f"Bearer {secret.group(1)}"}).status_code
        == 401
    )


def test_departments_page(client: TestClient, world: dict[str, User]) -> None:
    csrf = _sign_in(client, "admin")
    made = client.post(
        "/admin/departments",
        data={"csrf_token": csrf, "name": "华北销售部", "head": "head_east"},
        follow_redirects=False,
    )
    assert made.status_code == 303
    page = client.get("/admin/departments")
    assert "华北销售部" in page.text
    dup = client.post("/admin/departments", data={"csrf_token": csrf, "name": "华北销售部", "head": ""})
    assert dup.status_code == 409
    unknown_head = client.post(
        "/admin/departments", data={"csrf_token": csrf, "name": "西部", "head": "nobody"}
    )
    assert unknown_head.status_code == 422 and "请从列表中选择" in unknown_head.text
    department_id = world["head_east"].department_id
    renamed = client.post(
        f"/admin/departments/{department_id}",
        data={"csrf_token": csrf, "version": "1", "name": "华东大区", "head": "head_east"},
        follow_redirects=False,
    )
    assert renamed.status_code == 303
    assert "华东大区" in client.get("/admin/departments").text


def test_forced_password_change_in_pages(
    client: TestClient, world: dict[str, User], session: Session
) -> None:
    csrf = _sign_in(client, "admin")
    created = client.post(
        "/admin/users", data={"csrf_token": csrf, "username": "zhang.wei", "role": "sales", "kind": "person"}
    )
    one_time = re.search(r'id="one-time-password">([^<]+)<', created.text)
    assert one_time
    rep = session.query(User).filter_by(username="zhang.wei").one()
    make_customer(session, rep, name="北方重工有限公司")
    make_customer(session, world["sales_east1"], name="别人的客户有限公司")
    session.commit()

    csrf = _sign_in(client, "zhang.wei", one_time.group(1))
    for path in ("/customers", "/access-requests", "/classification/tags"):
        forced = client.get(path, follow_redirects=False)
        assert forced.status_code == 303 and forced.headers["location"] == "/account/password", path
    page = client.get("/account/password")
    assert "管理员为您设置了临时密码" in page.text
    mismatch = client.post(
        "/account/password",
        data={"csrf_token": csrf, "current_password": one_time.group(1), "new_password": NEW_PASSWORD,
              "repeat_password": "Other-Pass-99"},
    )  # fmt: skip
    assert mismatch.status_code == 422 and "两次输入的新密码不一致" in mismatch.text
    done = client.post(
        "/account/password",
        data={"csrf_token": csrf, "current_password": one_time.group(1), "new_password": NEW_PASSWORD,
              "repeat_password": NEW_PASSWORD},
        follow_redirects=False,
    )  # fmt: skip
    assert done.status_code == 303
    listing = client.get("/customers")
    assert listing.status_code == 200
    assert "北方重工有限公司" in listing.text and "别人的客户有限公司" not in listing.text


def test_everyone_changes_their_own_password(client: TestClient, world: dict[str, User]) -> None:
    assert client.get("/account/password", follow_redirects=False).status_code == 303
    csrf = _sign_in(client, "marketing")
    page = client.get("/account/password")
    assert page.status_code == 200 and "管理员为您设置了临时密码" not in page.text
    wrong = client.post(
        "/account/password",
        data={"csrf_token": csrf, "current_password": "nope-123456", "new_password": NEW_PASSWORD,
              "repeat_password": NEW_PASSWORD},
    )  # fmt: skip
    assert wrong.status_code == 422 and "当前密码不正确" in wrong.text
    done = client.post(
        "/account/password",
        data={"csrf_token": csrf, "current_password": DEFAULT_PASSWORD, "new_password": NEW_PASSWORD,
              "repeat_password": NEW_PASSWORD},
        follow_redirects=False,
    )  # fmt: skip
    assert done.status_code == 303 and done.headers["location"] == "/account/password?flash=password_changed"
    _sign_in(client, "marketing", NEW_PASSWORD)


def test_pickers(client: TestClient, world: dict[str, User], session: Session) -> None:
    assert client.get("/pickers/people?q=east", follow_redirects=False).status_code == 303
    make_customer(session, world["sales_east1"], name="东方精工有限公司")
    make_customer(session, world["sales_south1"], name="南方精工有限公司")
    make_customer(session, world["sales_south1"], kind="individual", name="南方精")
    session.commit()
    _sign_in(client, "head_east")
    people = client.get("/pickers/people", params={"q": "EAST", "role": ["sales"]}).json()
    assert [p["value"] for p in people] == ["sales_east1", "sales_east2"]
    in_scope = client.get("/pickers/customers", params={"q": "精工"}).json()
    assert [c["label"] for c in in_scope] == ["东方精工有限公司"]
    _sign_in(client, "sales_east1")
    to_request = client.get("/pickers/customers", params={"q": "南方精", "mode": "request"}).json()
    assert [c["label"] for c in to_request] == [
        "南方精工有限公司"
    ]  # companies outside my scope, never individuals
    assert (
        client.get("/pickers/customers", params={"q": "南", "mode": "request"}).json() == []
    )  # two characters
    _sign_in(client, "auditor")
    assert client.get("/pickers/customers", params={"q": "精工"}).status_code == 403
    assert client.get("/pickers/customers", params={"q": "精工", "mode": "request"}).status_code == 403
