"""HTML pages through real HTTP, driven like a browser: sign-in, CSRF, list, 360, forms, language."""

from __future__ import annotations

import re
from collections.abc import Callable
from html import unescape
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from tests.factories import DEFAULT_PASSWORD, make_contact, make_customer, make_interaction, make_order

from custinfo.auth.models import User
from custinfo.auth.web import SAFE_METHODS, safe_next, web_user
from custinfo.customers.models import Contact, Customer, NeedEntry
from custinfo.web.pages import router

SignIn = Callable[[str], TestClient]
VALID_CODE = "91350100M000100Y43"
INVALID_CODE = "91350100M000100Y44"


def csrf_of(html: str) -> str:
    """The CSRF token of the first form on a page."""
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "page has no CSRF token"
    return match.group(1)


def sign_in(client: TestClient, username: str, password: str = DEFAULT_PASSWORD, next_url: str = "") -> Any:
    """GET the sign-in form (CSRF cookie + token), then POST it, like a browser."""
    page = client.get("/login")
    assert page.status_code == 200
    data = {"csrf_token": csrf_of(page.text), "username": username, "password": password, "next": next_url}
    return client.post("/login", data=data, follow_redirects=False)


@pytest.fixture
def signed_in(client: TestClient, world: dict[str, User]) -> SignIn:
    """sign_in(username) → the client, now holding that user's web session."""

    def _sign_in(username: str) -> TestClient:
        client.cookies.clear()  # a signed-in browser would skip the sign-in form
        response = sign_in(client, username)
        assert response.status_code == 303, response.text
        return client

    return _sign_in


def token_of(client: TestClient, path: str = "/customers") -> str:
    return csrf_of(client.get(path).text)


def company_form(**overrides: str) -> dict[str, str]:
    data = {
        "kind": "company",
        "name": "福建测试机械有限公司",
        "credit_code": VALID_CODE,
        "industry": "制造业",
        "source_channel": "trade_show",
        "purpose": "sales_service",
        "employee_count": "120",
        "legal_representative": "陈建国",
        "mobile": "13800138000",
    }
    data.update(overrides)
    return data


# --- sign-in --------------------------------------------------------------------------------------------


def test_login_page_is_chinese_by_default_with_csrf_cookie(client: TestClient) -> None:
    response = client.get("/login")
    assert response.status_code == 200
    assert "客户信息分类管理系统" in response.text and "登录" in response.text
    assert "custinfo_login_csrf" in response.cookies
    assert 'name="csrf_token"' in response.text
    assert "script-src 'self'" in response.headers["content-security-policy"]
    assert "<script>" not in response.text and "style=" not in response.text


def test_anonymous_pages_redirect_to_login_with_next(client: TestClient) -> None:
    for path in ("/customers", "/customers/1", "/customers/new?kind=company", "/"):
        response = client.get(path, follow_redirects=True)
        assert response.url.path == "/login", path
        assert "用户名" in response.text
    response = client.get("/customers?q=abc", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/customers%3Fq%3Dabc"


def test_anonymous_posts_change_nothing_and_lead_to_login(
    client: TestClient, session: Session, world: dict[str, User]
) -> None:
    customer = make_customer(session, world["sales_east1"])
    session.commit()
    paths = [
        "/customers/new",
        f"/customers/{customer.id}/edit",
        f"/customers/{customer.id}/delete",
        f"/customers/{customer.id}/contacts",
        f"/customers/{customer.id}/needs",
        f"/customers/{customer.id}/orders",
        "/logout",
    ]
    for path in paths:
        response = client.post(path, data=company_form(), follow_redirects=False)
        assert response.status_code == 303, path
        assert response.headers["location"].startswith("/login"), path
    assert session.scalar(select(func.count()).select_from(Customer)) == 1


def test_wrong_password_is_shown_on_the_form_in_chinese(client: TestClient, world: dict[str, User]) -> None:
    response = sign_in(client, "sales_east1", "wrong-password-1")
    assert response.status_code == 401
    assert "用户名或密码错误" in response.text
    assert 'value="sales_east1"' in response.text  # the typed username stays
    assert "custinfo_session" not in response.cookies


def test_repeated_failures_lock_the_account(client: TestClient, world: dict[str, User]) -> None:
    for _ in range(5):
        sign_in(client, "sales_east2", "wrong-password-1")
    response = sign_in(client, "sales_east2")  # even the right password is refused now
    assert response.status_code == 401
    assert "锁定" in response.text


def test_right_password_starts_a_session_and_follows_next(client: TestClient, world: dict[str, User]) -> None:
    response = sign_in(client, "sales_east1", next_url="/customers?kind=company")
    assert response.status_code == 303
    assert response.headers["location"] == "/customers?kind=company"
    cookie = response.headers["set-cookie"]
    assert "custinfo_session=" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie
    assert "Secure" not in cookie  # plain http: a Secure cookie would never come back
    page = client.get("/customers")
    assert page.status_code == 200
    assert "sales_east1" in page.text and "销售" in page.text


@pytest.mark.parametrize(
    "target", ["https://evil.example/", "//evil.example/x", "/\\evil.example", "javascript:x"]
)
def test_next_only_accepts_same_site_paths(client: TestClient, world: dict[str, User], target: str) -> None:
    response = sign_in(client, "sales_east1", next_url=target)
    assert response.status_code == 303
    assert response.headers["location"] == "/home"


def test_safe_next() -> None:
    assert safe_next("/customers/3?tab=needs") == "/customers/3?tab=needs"
    assert safe_next(None) == "/home"
    assert safe_next("/x\r\nSet-Cookie: a=b") == "/home"


def test_login_without_csrf_token_is_refused(client: TestClient, world: dict[str, User]) -> None:
    client.get("/login")
    response = client.post("/login", data={"username": "sales_east1", "password": DEFAULT_PASSWORD})
    assert response.status_code == 403
    assert "custinfo_session" not in response.cookies
    assert "CSRF" in response.text


def test_logout_ends_the_session(signed_in: SignIn) -> None:
    client = signed_in("sales_east1")
    response = client.post("/logout", data={"csrf_token": token_of(client)}, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/login"
    assert client.get("/customers", follow_redirects=False).status_code == 303


# --- CSRF after sign-in ---------------------------------------------------------------------------------


def test_post_without_or_with_wrong_csrf_token_is_403(signed_in: SignIn, session: Session) -> None:
    client = signed_in("sales_east1")
    before = session.scalar(select(func.count()).select_from(Customer))
    assert client.post("/customers/new", data=company_form()).status_code == 403
    wrong = client.post("/customers/new", data={**company_form(), "csrf_token": "forged"})
    assert wrong.status_code == 403
    assert "CSRF" in wrong.text
    assert session.scalar(select(func.count()).select_from(Customer)) == before
    assert client.post("/logout", data={}).status_code == 403


def test_csrf_header_is_accepted_for_htmx(signed_in: SignIn) -> None:
    client = signed_in("sales_east1")
    token = token_of(client)
    response = client.post(
        "/customers/new", data=company_form(), headers={"X-CSRF-Token": token}, follow_redirects=False
    )
    assert response.status_code == 303


def test_every_unsafe_web_route_checks_csrf() -> None:
    """The guard is a dependency of every web route except the pre-session sign-in form."""
    for route in router.routes:
        methods: set[str] = set(getattr(route, "methods", None) or ()) - SAFE_METHODS
        if not methods or route.path == "/login":  # type: ignore[attr-defined]
            continue
        calls = {d.call for d in route.dependant.dependencies}  # type: ignore[attr-defined]
        assert web_user in calls, route.path  # type: ignore[attr-defined]


# --- list -----------------------------------------------------------------------------------------------


def test_list_shows_only_own_customers_with_total(
    signed_in: SignIn, session: Session, world: dict[str, User]
) -> None:
    mine = make_customer(session, world["sales_east1"], name="东海精密机械有限公司", mobile="13912345678")
    other = make_customer(session, world["sales_south1"], name="南方贸易有限公司")
    session.commit()
    client = signed_in("sales_east1")
    page = client.get("/customers")
    assert page.status_code == 200
    assert mine.name in page.text and other.name not in page.text
    assert "13912345678" in page.text and "华东销售部" in page.text and "企业客户" in page.text
    assert "共 1 条" in page.text


def test_list_search_and_htmx_fragment(signed_in: SignIn, session: Session, world: dict[str, User]) -> None:
    make_customer(session, world["sales_east1"], name="甲乙丙科技有限公司")
    make_customer(session, world["sales_east1"], name="丁戊己餐饮有限公司", industry="住宿和餐饮业")
    session.commit()
    client = signed_in("sales_east1")
    page = client.get("/customers", params={"q": "甲乙丙"})
    assert "甲乙丙科技有限公司" in page.text and "丁戊己" not in page.text
    fragment = client.get(
        "/customers",
        params={"industry": "住宿和餐饮业"},
        headers={"HX-Request": "true", "HX-Target": "customer-results"},
    )
    assert fragment.status_code == 200
    assert "<html" not in fragment.text and "丁戊己餐饮有限公司" in fragment.text
    assert "甲乙丙" not in fragment.text


def test_list_pages_and_capped_total_label(
    signed_in: SignIn, session: Session, world: dict[str, User]
) -> None:
    for n in range(23):
        make_customer(session, world["sales_east1"], name=f"分页客户{n:02d}")
    session.commit()
    client = signed_in("sales_east1")
    first = client.get("/customers")
    assert "共 23 条" in first.text and "page=2" in first.text
    second = client.get("/customers", params={"page": 2})
    assert second.text.count('class="cell-name"') == 3
    assert "100,000+" not in first.text


def test_list_rejects_nonsense_paging_with_a_friendly_page(signed_in: SignIn) -> None:
    client = signed_in("sales_east1")
    response = client.get("/customers", params={"page": 0})
    assert response.status_code == 422
    assert "页码" in response.text and "返回" in response.text


def test_unknown_page_is_a_friendly_404(signed_in: SignIn) -> None:
    response = signed_in("sales_east1").get("/no-such-page")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert "找不到该页面" in response.text


# --- 360 page -------------------------------------------------------------------------------------------


def test_360_page_shows_profile_and_every_tab(
    signed_in: SignIn, session: Session, world: dict[str, User]
) -> None:
    customer = make_customer(session, world["sales_east1"], name="华东重工股份有限公司", industry="制造业")
    make_contact(session, customer, name="周经理", title="采购经理")
    make_order(session, customer, product="数控机床")
    make_interaction(session, customer, topic="季度回访")
    session.commit()
    client = signed_in("sales_east1")
    page = client.get(f"/customers/{customer.id}")
    assert page.status_code == 200
    text = page.text
    assert "华东重工股份有限公司" in text and "制造业" in text and customer.credit_code in text
    assert "sales_east1" in text and "华东销售部" in text and "v1" in text
    for label in ("档案", "联系人", "需求动态", "订单", "合同", "互动", "变更记录"):
        assert label in text
    assert "周经理" in client.get(f"/customers/{customer.id}?tab=contacts").text
    assert "数控机床" in client.get(f"/customers/{customer.id}?tab=orders").text
    assert "季度回访" in client.get(f"/customers/{customer.id}?tab=interactions").text
    assert client.get(f"/customers/{customer.id}?tab=contracts").status_code == 200
    assert client.get(f"/customers/{customer.id}?tab=needs").status_code == 200
    fragment = client.get(
        f"/customers/{customer.id}?tab=contacts", headers={"HX-Request": "true", "HX-Target": "tab-pane"}
    )
    assert (
        "<html" not in fragment.text and 'hx-swap-oob="true"' in fragment.text and "周经理" in fragment.text
    )


def test_out_of_scope_customer_is_a_friendly_404(
    signed_in: SignIn, session: Session, world: dict[str, User]
) -> None:
    other = make_customer(session, world["sales_south1"])
    session.commit()
    client = signed_in("sales_east1")
    response = client.get(f"/customers/{other.id}")
    assert response.status_code == 404
    assert "不存在" in response.text and "返回首页" in response.text


def test_role_without_customer_access_gets_403_page(signed_in: SignIn) -> None:
    client = signed_in("auditor")
    response = client.get("/customers")
    assert response.status_code == 403
    assert "无权" in response.text


def test_service_role_reads_but_may_not_create(
    signed_in: SignIn, session: Session, world: dict[str, User]
) -> None:
    customer = make_customer(session, world["sales_east1"], name="客服可见有限公司")
    session.commit()
    client = signed_in("service1")
    page = client.get("/customers")
    assert "客服可见有限公司" in page.text and "新建企业客户" not in page.text
    assert client.get("/customers/new?kind=company").status_code == 403
    detail = client.get(f"/customers/{customer.id}?tab=interactions").text
    assert f'action="/customers/{customer.id}/interactions"' in detail  # service logs interactions
    assert (
        f'action="/customers/{customer.id}/orders"'
        not in client.get(f"/customers/{customer.id}?tab=orders").text
    )
    refused = client.post(
        f"/customers/{customer.id}/orders",
        data={"csrf_token": token_of(client), "product": "x", "amount": "1.00", "ordered_on": "2026-01-01"},
    )
    assert refused.status_code == 403


# --- create / edit / delete -----------------------------------------------------------------------------


def test_create_form_error_keeps_typed_values(signed_in: SignIn, session: Session) -> None:
    client = signed_in("sales_east1")
    form = client.get("/customers/new?kind=company")
    assert form.status_code == 200 and 'type="date"' in form.text and "请选择" in form.text
    data = {**company_form(credit_code=INVALID_CODE, mobile="12345"), "csrf_token": csrf_of(form.text)}
    response = client.post("/customers/new", data=data)
    assert response.status_code == 422
    html = unescape(response.text)
    assert "统一社会信用代码校验码不正确（GB 32100）" in html
    assert "不是有效的中国大陆手机号码" in html
    assert html.count("is-invalid") >= 2
    assert f'value="{INVALID_CODE}"' in html and 'value="福建测试机械有限公司"' in html
    assert 'value="陈建国"' in html and '<option value="制造业" selected>' in html
    assert (
        session.scalar(select(func.count()).select_from(Customer).where(Customer.name == data["name"])) == 0
    )


def test_create_then_land_on_360(signed_in: SignIn, session: Session) -> None:
    client = signed_in("sales_east1")
    data = {**company_form(), "csrf_token": token_of(client, "/customers/new?kind=company")}
    response = client.post("/customers/new", data=data, follow_redirects=True)
    assert response.status_code == 200
    assert response.url.path.startswith("/customers/")
    assert "客户已创建" in response.text and "福建测试机械有限公司" in response.text


def test_duplicate_credit_code_is_shown_under_the_field(
    signed_in: SignIn, session: Session, world: dict[str, User]
) -> None:
    make_customer(session, world["sales_south1"], credit_code=VALID_CODE)
    session.commit()
    client = signed_in("sales_east1")
    data = {**company_form(), "csrf_token": token_of(client)}
    response = client.post("/customers/new", data=data)
    assert response.status_code == 409
    assert "已被另一条记录使用" in response.text


def test_individual_form_has_only_individual_fields(signed_in: SignIn) -> None:
    client = signed_in("sales_east1")
    page = client.get("/customers/new?kind=individual").text
    assert 'name="birth_date"' in page
    assert 'name="credit_code"' not in page
    assert 'name="owner"' not in page  # sales may not assign customers to others
    # Sales see ID numbers masked: a data steward enters them (a uniqueness check would confirm a guess).
    assert 'name="id_number"' not in page and "身份证号由可查看明文的数据管理员录入" in page
    assert "新建客户" in client.get("/customers/new").text
    steward = signed_in("steward").get("/customers/new?kind=individual").text
    assert 'name="id_number"' in steward and "数据管理员录入" not in steward


def test_edit_saves_and_stale_version_shows_current_values(
    signed_in: SignIn, session: Session, world: dict[str, User]
) -> None:
    customer = make_customer(session, world["sales_east1"], name="旧名称有限公司")
    session.commit()
    client = signed_in("sales_east1")
    form = client.get(f"/customers/{customer.id}/edit")
    assert 'name="version" value="1"' in form.text
    token = csrf_of(form.text)
    base = {
        "name": "新名称有限公司",
        "source_channel": "visit",
        "purpose": "sales_service",
        "credit_code": customer.credit_code,
        "industry": "制造业",
        "csrf_token": token,
    }
    saved = client.post(
        f"/customers/{customer.id}/edit", data={**base, "version": "1"}, follow_redirects=True
    )
    assert saved.status_code == 200 and "修改已保存" in saved.text and "新名称有限公司" in saved.text
    stale = client.post(f"/customers/{customer.id}/edit", data={**base, "name": "第三个名称", "version": "1"})
    assert stale.status_code == 409
    assert "已被他人修改" in stale.text
    assert 'value="新名称有限公司"' in stale.text  # the current value in the input
    assert "第三个名称" in stale.text  # what the user typed, shown beside it
    assert 'name="version" value="2"' in stale.text


def test_delete_needs_the_role_and_a_confirmation(
    signed_in: SignIn, session: Session, world: dict[str, User]
) -> None:
    customer = make_customer(session, world["sales_east1"], name="待删除有限公司")
    session.commit()
    sales = signed_in("sales_east1")
    assert (
        "删除" not in sales.get(f"/customers/{customer.id}").text.split('class="customer-actions"')[1][:400]
    )
    assert sales.get(f"/customers/{customer.id}/delete").status_code == 403
    head = signed_in("head_east")
    confirm = head.get(f"/customers/{customer.id}/delete")
    assert confirm.status_code == 200 and "确定删除客户「待删除有限公司」吗？" in confirm.text
    done = head.post(
        f"/customers/{customer.id}/delete",
        data={"csrf_token": csrf_of(confirm.text), "version": "1"},
        follow_redirects=True,
    )
    assert done.status_code == 200 and "客户已删除" in done.text
    assert session.scalar(select(Customer.id).where(Customer.id == customer.id)) is None


# --- contacts, needs, activity --------------------------------------------------------------------------


def test_contacts_add_with_inline_error_edit_and_mark_left(
    signed_in: SignIn, session: Session, world: dict[str, User]
) -> None:
    customer = make_customer(session, world["sales_east1"])
    session.commit()
    client = signed_in("sales_east1")
    token = token_of(client)
    url = f"/customers/{customer.id}/contacts"
    bad = client.post(url, data={"csrf_token": token, "name": "王采购", "mobile": "999"})
    assert bad.status_code == 422
    assert "不是有效的中国大陆手机号码" in bad.text and 'value="王采购"' in bad.text
    htmx = {"HX-Request": "true", "HX-Target": "tab-pane"}
    added = client.post(url, data={"csrf_token": token, "name": "王采购", "title": "采购总监"}, headers=htmx)
    assert added.status_code == 200 and "联系人已添加" in added.text and "<html" not in added.text
    contact = session.scalar(select(Contact).where(Contact.customer_id == customer.id))
    assert contact is not None
    edit = client.get(f"/customers/{customer.id}?tab=contacts&edit={contact.id}")
    assert 'value="采购总监"' in edit.text
    saved = client.post(
        f"{url}/{contact.id}",
        data={"csrf_token": token, "name": "王采购", "title": "副总经理", "version": "1"},
        follow_redirects=True,
    )
    assert "联系人已保存" in saved.text and "副总经理" in saved.text
    left = client.post(
        f"{url}/{contact.id}/in-post",
        data={"csrf_token": token, "in_post": "false", "version": "2"},
        follow_redirects=True,
    )
    assert "已离职" in left.text
    session.refresh(contact)
    assert contact.in_post is False and contact.left_on is not None


def test_individual_has_no_contacts_tab(signed_in: SignIn, session: Session, world: dict[str, User]) -> None:
    person = make_customer(session, world["sales_east1"], kind="individual", name="李四")
    session.commit()
    client = signed_in("sales_east1")
    assert "?tab=contacts" not in client.get(f"/customers/{person.id}").text


def test_needs_log_appends(signed_in: SignIn, session: Session, world: dict[str, User]) -> None:
    customer = make_customer(session, world["sales_east1"])
    session.commit()
    client = signed_in("sales_east1")
    token = token_of(client)
    url = f"/customers/{customer.id}/needs"
    bad = client.post(
        url, data={"csrf_token": token, "core_need": "", "urgency": "high", "budget_min": "1.234"}
    )
    assert bad.status_code == 422 and "必填" in bad.text and "最多两位小数" in bad.text
    for need in ("product_purchase", "technical_service"):
        ok = client.post(url, data={"csrf_token": token, "core_need": need, "urgency": "high"})
        assert ok.status_code == 200
    page = client.get(f"/customers/{customer.id}?tab=needs").text
    assert "产品采购" in page or "product_purchase" not in page
    count = session.scalar(
        select(func.count()).select_from(NeedEntry).where(NeedEntry.customer_id == customer.id)
    )
    assert count == 2


def test_add_order_from_the_orders_tab(signed_in: SignIn, session: Session, world: dict[str, User]) -> None:
    customer = make_customer(session, world["sales_east1"])
    session.commit()
    client = signed_in("sales_east1")
    token = token_of(client)
    url = f"/customers/{customer.id}/orders"
    bad = client.post(url, data={"csrf_token": token, "product": "伺服电机", "amount": "abc"})
    assert bad.status_code == 422 and 'value="伺服电机"' in bad.text
    ok = client.post(
        url,
        data={"csrf_token": token, "product": "伺服电机", "amount": "12800.50", "ordered_on": "2026-01-05"},
        follow_redirects=True,
    )
    assert ok.status_code == 200 and "订单已保存" in ok.text and "12,800.50" in ok.text


def test_history_tab_shows_changes_in_local_time(
    signed_in: SignIn, session: Session, world: dict[str, User]
) -> None:
    client = signed_in("sales_east1")
    data = {**company_form(), "csrf_token": token_of(client)}
    created = client.post("/customers/new", data=data, follow_redirects=True)
    customer_id = int(created.url.path.rsplit("/", 1)[1])
    page = client.get(f"/customers/{customer_id}?tab=history").text
    assert "新增" in page and "客户档案" in page and "统一社会信用代码" in page and VALID_CODE in page
    assert re.search(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}", page)


# --- language -------------------------------------------------------------------------------------------


def test_language_switch_to_english(signed_in: SignIn, session: Session, world: dict[str, User]) -> None:
    make_customer(session, world["sales_east1"], industry="制造业")
    session.commit()
    client = signed_in("sales_east1")
    response = client.get("/lang/en?next=/customers", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/customers"
    assert "lang=en" in response.headers["set-cookie"]
    page = client.get("/customers").text
    assert "Customers" in page and "Manufacturing (C)" in page and "Sign out" in page
    assert '<html lang="en">' in page
    form = client.get("/customers/new?kind=company")
    bad = client.post(
        "/customers/new", data={**company_form(credit_code=INVALID_CODE), "csrf_token": csrf_of(form.text)}
    )
    assert "has a wrong check character (GB 32100)" in bad.text
    back = client.get("/lang/zh_CN?next=https://evil.example/", follow_redirects=False)
    assert back.headers["location"] == "/home"
    assert "客户" in client.get("/customers").text


def test_login_page_in_english(client: TestClient, world: dict[str, User]) -> None:
    client.cookies.set("lang", "en")
    page = client.get("/login")
    assert "Sign in" in page.text and "Username" in page.text
    response = sign_in(client, "sales_east1", "nope-nope-1")
    assert "Wrong username or password." in response.text


def test_every_ui_string_exists_in_both_languages() -> None:
    """Each literal `t('web.…')` key of the templates is in the zh_CN and the en catalogue."""
    from custinfo.core.i18n import catalogue
    from custinfo.web.templating import TEMPLATE_DIR

    used = {
        key
        for path in TEMPLATE_DIR.rglob("*.html")
        for key in re.findall(r"t\('(web\.[a-z0-9_.]+)'", path.read_text(encoding="utf-8"))
        if not key.endswith((".", "_"))  # a prefix completed at run time
    }
    assert used
    for language in ("zh_CN", "en"):
        assert sorted(used - catalogue(language).keys()) == [], language
    assert {k for k in catalogue("zh_CN") if k.startswith("web.")} == {
        k for k in catalogue("en") if k.startswith("web.")
    }
