"""The home page, the landing after sign-in, the navigation per role, the approvals badge, the error page."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session
from tests.factories import make_customer
from tests.web.test_pages import sign_in

from custinfo.auth.models import User
from custinfo.auth.policy import Principal
from custinfo.web import nav

Headers = Callable[[str], dict[str, str]]
ROLES = ["admin", "steward", "auditor", "marketing", "head_east", "sales_east1", "service1"]
NEW_TAG = {
    "kind": "new_tag",
    "reason": "环保品类需求上升",
    "payload": {
        "code": "green_buyer",
        "category": "preference",
        "name_zh": "绿色采购",
        "name_en": "Green buyer",
    },
}


def _signed_in(client: TestClient, username: str) -> TestClient:
    client.cookies.clear()
    response = sign_in(client, username)
    assert response.status_code == 303, response.text
    return client


def _sidebar_links(html: str) -> list[str]:
    sidebar = html.split('<nav class="app-sidebar"', 1)[1].split("</nav>", 1)[0]
    return re.findall(r'class="nav-link[^"]*" href="([^"]+)"', sidebar)


@pytest.mark.parametrize("username", ROLES)
def test_every_role_lands_on_home_and_may_open_every_link_it_is_shown(
    client: TestClient, world: dict[str, User], username: str
) -> None:
    response = sign_in(client, username)
    assert response.status_code == 303 and response.headers["location"] == "/home"
    assert client.get("/", follow_redirects=False).headers["location"] == "/home"
    home = client.get("/home")
    assert home.status_code == 200
    links = _sidebar_links(home.text)
    assert links[0] == "/home"
    for href in links:
        assert client.get(href).status_code == 200, href


def test_menu_shows_only_what_the_role_may_open(client: TestClient, world: dict[str, User]) -> None:
    marketing = _sidebar_links(_signed_in(client, "marketing").get("/home").text)
    assert "/customers" not in marketing and "/audit" not in marketing and "/classification/tags" in marketing
    auditor = _sidebar_links(_signed_in(client, "auditor").get("/home").text)
    assert "/audit" in auditor and "/customers" not in auditor and "/jobs" not in auditor
    sales = _sidebar_links(_signed_in(client, "sales_east1").get("/home").text)
    assert "/customers" in sales and "/access-requests/queue" not in sales and "/field-levels" not in sales
    admin = _sidebar_links(_signed_in(client, "admin").get("/home").text)
    assert {"/customers", "/audit", "/jobs", "/access-requests/queue"} <= set(admin)


def test_classification_sub_menu_is_the_same_on_every_page(
    client: TestClient, world: dict[str, User]
) -> None:
    signed = _signed_in(client, "steward")

    def sub_menu(path: str) -> list[str]:
        html = signed.get(path).text
        part = html.split('class="class-subnav"', 1)[1].split("</nav>", 1)[0]
        return re.findall(r'href="([^"]+)"', part)

    tags = sub_menu("/classification/tags")
    assert "/classification/rules" in tags and "/classification/quality" in tags
    for path in ("/classification/report", "/classification/runs", "/classification/versions"):
        assert sub_menu(path) == tags, path


def test_entries_of_pages_not_served_are_left_out() -> None:
    admin = Principal(1, "admin", "admin", None)
    served = frozenset({"/home", "/customers"})
    assert [e.href for e in nav.entries_for(admin, served)] == ["/home", "/customers"]
    assert nav.entries_for(Principal(2, "m", "marketing", None), served) == [nav.NAV[0]]


def test_home_shows_the_users_own_numbers(
    client: TestClient, session: Session, world: dict[str, User]
) -> None:
    for _ in range(3):
        make_customer(session, world["sales_east1"])
    make_customer(session, world["sales_south1"])
    session.commit()
    page = _signed_in(client, "sales_east1").get("/home").text
    assert re.search(r'id="home-customers">3<', page)
    assert "home-waiting" not in page  # sales decide nothing
    page = _signed_in(client, "admin").get("/home").text
    assert re.search(r'id="home-customers">4<', page)


def test_badge_and_home_count_approvals_waiting(
    client: TestClient, world: dict[str, User], token: Headers
) -> None:
    body = {"target": "level", "level": "L2", "reason": "核对客户资料"}
    assert client.post("/api/v1/access-requests", json=body, headers=token("sales_east1")).status_code == 201
    assert client.post("/api/v1/proposals", json=NEW_TAG, headers=token("steward")).status_code == 201
    head = _signed_in(client, "head_east")
    badge = head.get("/home/badge", params={"for": "/access-requests/queue"})
    assert badge.status_code == 200 and ">1<" in badge.text
    assert ">1<" in head.get("/home/badge", params={"for": "/classification/proposals"}).text
    assert head.get("/home/badge", params={"for": "/elsewhere"}).text.strip() == ""
    page = head.get("/home").text
    assert re.search(r'id="home-waiting">2<', page)
    assert 'hx-get="/home/badge?for=/access-requests/queue"' in page
    mine = _signed_in(client, "sales_east1").get("/home").text
    assert re.search(r'id="home-open-requests">1<', mine)
    # Nothing waits for the other department's head.
    assert (
        _signed_in(client, "head_south")
        .get("/home/badge", params={"for": "/access-requests/queue"})
        .text.strip()
        == ""
    )


def test_home_and_badge_need_a_signed_in_user(client: TestClient) -> None:
    for path in ("/home", "/home/badge"):
        response = client.get(path, follow_redirects=False)
        assert response.status_code == 303 and response.headers["location"].startswith("/login")


def test_forbidden_page_offers_home_and_never_loops(client: TestClient, world: dict[str, User]) -> None:
    signed = _signed_in(client, "marketing")
    page = signed.get("/customers", headers={"referer": "http://testserver/customers"})
    assert page.status_code == 403
    assert 'href="/home"' in page.text
    assert 'href="http://testserver/customers"' not in page.text  # "back" to the same 403 would loop
    came_from = signed.get("/customers", headers={"referer": "http://testserver/classification/tags"})
    assert 'href="http://testserver/classification/tags"' in came_from.text


def test_auditors_see_todays_audit_figures(client: TestClient, world: dict[str, User]) -> None:
    refused = client.post(
        "/api/v1/auth/token", data={"username": "sales_east1", "password": "wrong-password-9"}
    )
    assert refused.status_code == 401
    page = _signed_in(client, "auditor").get("/home").text
    assert 'id="home-audit-today"' in page
    assert re.search(r'id="home-failed-logins">其中登录失败 1 次<', page)
    assert 'href="/audit?action=login.failed&amp;since=' in page
    assert "home-audit-today" not in _signed_in(client, "sales_east1").get("/home").text
