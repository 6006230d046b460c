"""In a real browser: request L3 access → an admin approves → reveal → the read is in the auditor's log."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from tests.e2e.test_browser import CHROMIUM_ARGS, chromium, serving  # noqa: F401  (the fixture)
from tests.factories import DEFAULT_PASSWORD, make_customer, make_user

from custinfo.app import create_app
from custinfo.config import Settings
from custinfo.core.db import make_engine, make_session_factory
from custinfo.core.schema import upgrade
from custinfo.core.uow import Actor
from custinfo.customers.identifiers import make_id_number

pytestmark = pytest.mark.browser

ID_NUMBER = make_id_number("110105", date(1985, 3, 9), 21)
MASKED = ID_NUMBER[:6] + "*" * 8 + ID_NUMBER[-4:]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, int]]:
    """The app over a fresh SQLite file with a sales rep, an admin, an auditor and one individual customer."""
    data_dir = tmp_path_factory.mktemp("protection-browser")
    settings = Settings(environment="test", data_dir=data_dir, database_url=f"sqlite:///{data_dir / 'p.db'}")
    engine = make_engine(settings.effective_database_url)
    upgrade(engine)
    with make_session_factory(engine)() as session:
        session.info["actor"] = Actor.system("test")
        sales = make_user(session, "sales_p", "sales", "华东销售部")
        make_user(session, "admin_p", "admin")
        make_user(session, "auditor_p", "auditor")
        customer = make_customer(session, sales, kind="individual", name="周敏", id_number=ID_NUMBER)
        customer_id = customer.id
        session.commit()
    with serving(create_app(settings, engine=engine)) as url:
        yield url, customer_id
    engine.dispose()


def test_request_approve_reveal_audit(chromium: Path, site: tuple[str, int]) -> None:  # noqa: F811
    from playwright.sync_api import Page, expect, sync_playwright

    base, customer_id = site

    def sign_in(page: Page, username: str) -> None:
        page.context.clear_cookies()
        page.goto(f"{base}/login")
        page.fill("#username", username)
        page.fill("#password", DEFAULT_PASSWORD)
        page.click("button[type=submit]")
        expect(page.locator(".app-user-name")).to_have_attribute("title", username)

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(chromium), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(locale="zh-CN")
            sign_in(page, "sales_p")
            page.goto(f"{base}/customers/{customer_id}")
            value = page.locator("#value-id_number")
            expect(value).to_contain_text(MASKED)
            assert ID_NUMBER not in page.content()
            # sales may not reveal L3 without a grant: no button is offered (it could only be refused)
            assert value.locator(".reveal-button").count() == 0

            page.click("text=我的访问申请")
            page.select_option("#ar-target", "level")
            page.select_option("#ar-level", "L3")
            page.fill("#ar-reason", "核验客户身份")
            page.click("form.access-request-form button[type=submit]")
            expect(page.locator(".access-requests")).to_contain_text("待审批")

            sign_in(page, "admin_p")
            page.goto(f"{base}/access-requests/queue")
            expect(page.locator(".approval-queue")).to_contain_text("核验客户身份")
            page.fill(".decide-form input[name=comment]", "同意，一天")
            page.click(".decide-form >> text=批准")
            expect(page.locator(".approval-queue")).not_to_contain_text("核验客户身份")

            sign_in(page, "sales_p")
            page.goto(f"{base}/customers/{customer_id}")
            # With the L3 grant the value is shown in clear (and the read is logged).
            expect(page.locator("#value-id_number")).to_contain_text(ID_NUMBER)

            sign_in(page, "auditor_p")
            page.goto(f"{base}/audit?action=sensitive_read")
            expect(page.locator("body")).to_contain_text("查看敏感信息明文")
            expect(page.locator("body")).to_contain_text("sales_p")
            assert re.search(r"sales_p", page.content())
        finally:
            browser.close()
