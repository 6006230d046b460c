"""In a real browser: the steward makes the product categories from the orders, merges one, and sales reads them."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest
from tests.e2e.test_browser import CHROMIUM_ARGS, chromium, serving  # noqa: F401  (the fixture)
from tests.factories import DEFAULT_PASSWORD, make_customer, make_order, make_user

from custinfo.app import create_app
from custinfo.config import Settings
from custinfo.core.db import make_engine, make_session_factory
from custinfo.core.schema import upgrade
from custinfo.core.uow import Actor

pytestmark = pytest.mark.browser

SHOTS = Path("/tmp/shots-categories")


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The app over a fresh SQLite file with a steward, a sales rep and orders in four raw categories."""
    data_dir = tmp_path_factory.mktemp("categories-browser")
    settings = Settings(environment="test", data_dir=data_dir, database_url=f"sqlite:///{data_dir / 'c.db'}")
    engine = make_engine(settings.effective_database_url)
    upgrade(engine)
    with make_session_factory(engine)() as session:
        session.info["actor"] = Actor.system("test")
        sales = make_user(session, "sales_c", "sales", "华东销售部")
        make_user(session, "steward_c", "data_steward")
        day = date.today() - timedelta(days=20)
        for n, category in enumerate(["传感器", "传感器", "传感器件", "智能门锁", "智能家居", "智能家居"]):
            customer = make_customer(session, sales)
            for k in range(n % 3 + 1):
                make_order(session, customer, category=category, ordered_on=day - timedelta(days=k))
        session.commit()
    with serving(create_app(settings, engine=engine)) as url:
        yield url
    engine.dispose()


def test_steward_and_sales(chromium: Path, site: str) -> None:  # noqa: F811
    from playwright.sync_api import Page, expect, sync_playwright

    SHOTS.mkdir(parents=True, exist_ok=True)

    def sign_in(page: Page, username: str) -> None:
        page.context.clear_cookies()
        page.goto(f"{site}/login")
        page.fill("#username", username)
        page.fill("#password", DEFAULT_PASSWORD)
        page.click("button[type=submit]")
        expect(page.locator(".app-user-name")).to_have_attribute("title", username)

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(chromium), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(locale="zh-CN", viewport={"width": 1366, "height": 900})
            sign_in(page, "steward_c")
            page.goto(f"{site}/classification/categories")
            expect(page.locator("#unmapped")).to_contain_text("智能门锁")
            page.screenshot(path=str(SHOTS / "1-steward-before-seed.png"), full_page=True)
            page.click("#seed-categories")
            expect(page.locator(".flash")).to_contain_text("已按订单中的品类补充类别")
            expect(page.locator("#category-list")).to_contain_text("偏好智能门锁")
            page.screenshot(path=str(SHOTS / "2-steward-seeded.png"), full_page=True)

            page.click("form.new-category-form button[type=submit]")
            expect(page.locator("#err-name_zh")).to_contain_text("必填")
            page.screenshot(path=str(SHOTS / "3-steward-invalid.png"), full_page=True)

            row = page.locator('tr[data-category="智能家居"]')
            row.locator('input[name="values"]').fill("智能家居、智能门锁")
            row.locator("form.category-form button[type=submit]").click()
            expect(page.locator(".flash")).to_contain_text("类别已保存")
            expect(page.locator('tr[data-category="智能家居"]')).to_contain_text("智能门锁")
            page.once("dialog", lambda dialog: dialog.accept())
            page.locator('tr[data-category="智能门锁"] form.retire-form button').click()
            expect(page.locator('tr[data-category="智能门锁"]')).to_contain_text("已停用")
            page.screenshot(path=str(SHOTS / "4-steward-merged-retired.png"), full_page=True)
            assert "pc_" not in page.inner_text("body")

            sign_in(page, "sales_c")
            page.goto(f"{site}/classification/categories")
            expect(page.locator("#category-list")).to_contain_text("偏好传感器")
            assert page.locator("form.new-category-form").count() == 0
            assert page.locator("#seed-categories").count() == 0
            page.screenshot(path=str(SHOTS / "5-sales-read-only.png"), full_page=True)
            page.goto(f"{site}/classification/tags")
            expect(page.locator(".class-subnav")).to_contain_text("产品类别")
            page.screenshot(path=str(SHOTS / "6-sales-tag-catalogue.png"), full_page=True)
        finally:
            browser.close()
