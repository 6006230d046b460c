"""In a real browser: renew, terminate, delete with confirmation, and a head's bulk reassign with select-all."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect, sync_playwright
from tests.e2e.test_browser import CHROMIUM_ARGS, chromium, serving  # noqa: F401  (the fixture)
from tests.factories import DEFAULT_PASSWORD, make_contract, make_customer, make_order, make_user

from custinfo.app import create_app
from custinfo.config import Settings
from custinfo.core.db import make_engine, make_session_factory
from custinfo.core.schema import upgrade
from custinfo.core.uow import Actor

pytestmark = pytest.mark.browser
NEXT_YEAR = (date.today() + timedelta(days=400)).isoformat()


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, int]]:
    """The app over a fresh SQLite file: two sales reps and their head, one company with a contract."""
    data_dir = tmp_path_factory.mktemp("records-browser")
    settings = Settings(environment="test", data_dir=data_dir, database_url=f"sqlite:///{data_dir / 'r.db'}")
    engine = make_engine(settings.effective_database_url)
    upgrade(engine)
    with make_session_factory(engine)() as session:
        session.info["actor"] = Actor.system("test")
        sales = make_user(session, "sales_r", "sales", "华东销售部")
        make_user(session, "sales_r2", "sales", "华东销售部")
        make_user(session, "head_r", "dept_head", "华东销售部")
        customer = make_customer(session, sales, name="浏览器测试公司")
        make_customer(session, sales, name="第二家公司")
        make_order(session, customer, product="待删除产品", ordered_on=date.today() - timedelta(days=3))
        make_contract(
            session,
            customer,
            title="年度框架合同",
            signed_on=date.today() - timedelta(days=200),
            ends_on=date.today() + timedelta(days=10),
        )
        customer_id = customer.id
        session.commit()
    with serving(create_app(settings, engine=engine)) as url:
        yield url, customer_id
    engine.dispose()


def sign_in(page: Page, base: str, username: str) -> None:
    page.context.clear_cookies()
    page.goto(f"{base}/login")
    page.fill("#username", username)
    page.fill("#password", DEFAULT_PASSWORD)
    page.click("button[type=submit]")
    expect(page.locator(".app-user-name")).to_have_attribute("title", username)


def test_renew_terminate_delete_and_reassign(chromium: Path, site: tuple[str, int]) -> None:  # noqa: F811
    base, customer_id = site
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(chromium), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(locale="zh-CN")
            page.on("dialog", lambda dialog: dialog.accept())
            sign_in(page, base, "sales_r")
            page.goto(f"{base}/customers/{customer_id}?tab=contracts")
            expect(page.locator(".customer-summary")).to_contain_text("年度框架合同")
            page.click(".row-actions a:has-text('续签')")
            form = page.locator("form.inline-form")
            form.locator("input[name=ends_on]").fill(NEXT_YEAR)
            form.locator("input[name=amount]").fill("123456.78")
            form.locator("button[type=submit]").click()
            expect(page.locator(".renewal-list")).to_contain_text(NEXT_YEAR)
            expect(page.locator(".renewal-list")).to_contain_text("123,456.78")
            expect(page.locator("#tab-pane")).to_contain_text("已续约")

            page.click(".row-actions a:has-text('终止')")
            form = page.locator("form.inline-form")
            form.locator("input[name=terminated_on]").fill(date.today().isoformat())
            form.locator("textarea[name=reason]").fill("客户停止采购")
            form.locator("button[type=submit]").click()
            expect(page.locator("#tab-pane")).to_contain_text("客户停止采购")
            expect(page.locator(".row-actions a:has-text('续签')")).to_have_count(0)
            page.reload()
            expect(page.locator(".customer-summary")).not_to_contain_text("年度框架合同")

            page.goto(f"{base}/customers/{customer_id}?tab=orders")
            page.click("tr[id^=order-] a:has-text('删除')")
            expect(page.locator("form.inline-form")).to_contain_text("确定删除这条订单吗")
            page.locator("form.inline-form button[type=submit]").click()
            expect(page.locator("#tab-pane")).to_contain_text("订单已删除")
            expect(page.locator("#tab-pane")).not_to_contain_text("待删除产品")

            sign_in(page, base, "head_r")
            page.goto(f"{base}/customers?sort=name")
            page.check("input[data-check-all]")
            expect(page.locator("input[name=customer]:checked")).to_have_count(2)
            page.select_option("#reassign-owner", "sales_r2")
            page.click("#reassign-form button[type=submit]")
            expect(page.locator(".reassign-notice")).to_contain_text("已将 2 位客户转交")
            assert "sort=name" in page.url
            expect(page.locator("table.customer-table")).to_contain_text("sales_r2")
        finally:
            browser.close()
