"""The product categories page: who sees what, forms with messages in Chinese under the input, no codes shown."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session
from tests.factories import DEFAULT_PASSWORD, make_customer, make_order

from custinfo.auth.models import User
from custinfo.classification.engine import products

PAGE = "/classification/categories"


def _sign_in(client: TestClient, username: str) -> str:
    """Sign in through the form; the session's CSRF token."""
    client.cookies.clear()
    page = client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token
    data = {"csrf_token": token.group(1), "username": username, "password": DEFAULT_PASSWORD, "next": ""}
    assert client.post("/login", data=data, follow_redirects=False).status_code == 303
    home = client.get(PAGE)
    csrf = re.search(r'name="csrf-token" content="([^"]+)"', home.text)
    assert csrf
    return csrf.group(1)


def test_anonymous_read_only_and_forbidden(
    client: TestClient, world: dict[str, User], session: Session
) -> None:
    make_order(session, make_customer(session, world["sales_east1"]), category="传感器")
    session.commit()
    products.forget()
    anonymous = client.get(PAGE, follow_redirects=False)
    assert anonymous.status_code == 303 and anonymous.headers["location"].startswith("/login")
    assert client.post(PAGE + "/seed", follow_redirects=False).status_code in (303, 403)
    csrf = _sign_in(client, "sales_east1")
    page = client.get(PAGE)
    assert page.status_code == 200 and "产品类别" in page.text and "传感器" in page.text
    assert "new-category-form" not in page.text and "seed-categories" not in page.text
    assert client.post(PAGE + "/seed", data={"csrf_token": csrf}).status_code == 403
    assert client.post(PAGE, data={"csrf_token": csrf, "name_zh": "X"}).status_code == 403
    assert client.post(PAGE + "/1/retire", data={"csrf_token": csrf, "version": "1"}).status_code == 403
    for who in ("auditor", "marketing", "service1"):
        _sign_in(client, who)
        assert client.get(PAGE).status_code == 200, who


def test_steward_seeds_adds_merges_retires(
    client: TestClient, world: dict[str, User], session: Session
) -> None:
    customer = make_customer(session, world["sales_east1"])
    make_order(session, customer, category="传感器")
    make_order(session, customer, category="传感器件")
    session.commit()
    products.forget()
    csrf = _sign_in(client, "steward")
    assert "seed-categories" in client.get(PAGE).text
    seeded = client.post(PAGE + "/seed", data={"csrf_token": csrf}, follow_redirects=False)
    assert seeded.status_code == 303 and "categories_seeded" in seeded.headers["location"]
    page = client.get(PAGE + "?flash=categories_seeded")
    assert "已按订单中的品类补充类别" in page.text and "偏好传感器" in page.text
    assert "pc_" not in re.sub(r'(href|action)="[^"]*"', "", page.text)

    empty = client.post(PAGE, data={"csrf_token": csrf, "name_zh": "", "name_en": "", "values": ""})
    assert empty.status_code == 422 and 'id="err-name_zh"' in empty.text and "必填" in empty.text
    duplicate = client.post(PAGE, data={"csrf_token": csrf, "name_zh": "传感器", "name_en": "", "values": ""})
    assert duplicate.status_code == 409 and "已有名为「传感器」的类别" in duplicate.text
    created = client.post(
        PAGE,
        data={"csrf_token": csrf, "name_zh": "检测仪表", "name_en": "Instruments", "values": "传感器件"},
        follow_redirects=False,
    )
    assert created.status_code == 303
    page = client.get(PAGE).text
    assert "偏好检测仪表" in page
    row = re.search(r'<tr data-category="检测仪表".*?</tr>', page, re.S)
    assert row and "传感器件" in row.group(0)
    category_id = re.search(r'action="/classification/categories/(\d+)"', row.group(0))
    version = re.search(r'name="version" value="(\d+)"', row.group(0))
    assert category_id and version
    make_order(session, customer, category="仪表")
    session.commit()
    page = client.get(PAGE).text
    unmapped = re.search(r'<tr data-value="仪表">.*?</tr>', page, re.S)
    assert unmapped and "map-form" in unmapped.group(0)
    vocabulary = re.search(r'name="version" value="(\d+)"', unmapped.group(0))
    assert vocabulary
    unchosen = client.post(
        PAGE + "/map",
        data={"csrf_token": csrf, "version": vocabulary.group(1), "value": "仪表", "category": ""},
    )
    assert unchosen.status_code == 422 and 'id="err-category"' in unchosen.text
    mapped = client.post(
        PAGE + "/map",
        data={
            "csrf_token": csrf,
            "version": vocabulary.group(1),
            "value": "仪表",
            "category": category_id.group(1),
        },
        follow_redirects=False,
    )
    assert mapped.status_code == 303
    page = client.get(PAGE).text
    row = re.search(r'<tr data-category="检测仪表".*?</tr>', page, re.S)
    assert row and "仪表" in row.group(0) and 'data-value="仪表"' not in page
    version = re.search(r'name="version" value="(\d+)"', row.group(0))
    assert version
    too_long = client.post(
        f"{PAGE}/{category_id.group(1)}",
        data={
            "csrf_token": csrf,
            "version": version.group(1),
            "name_zh": "类" * 101,
            "name_en": "x",
            "values": "",
        },
    )
    assert too_long.status_code == 422 and "不能超过 100 个字" in too_long.text
    stale = client.post(f"{PAGE}/{category_id.group(1)}/retire", data={"csrf_token": csrf, "version": "99"})
    assert stale.status_code == 409 and "已被他人修改" in stale.text
    retired = client.post(
        f"{PAGE}/{category_id.group(1)}/retire",
        data={"csrf_token": csrf, "version": version.group(1)},
        follow_redirects=False,
    )
    assert retired.status_code == 303
    assert "已停用" in client.get(PAGE).text
