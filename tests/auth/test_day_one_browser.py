"""Day one of a real company, in a real browser over a fresh `custinfo init` install (issue 10, "Done when").

The admin creates a department, a sales rep, a department head and an integration account in the UI;
the integration token pushes customers and an order; the rep signs in, is forced to set a new password,
and sees only their own customers.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from tests.e2e.test_browser import CHROMIUM_ARGS, chromium, serving  # noqa: F401  (the fixture)

from custinfo.app import create_app
from custinfo.cli.init import initialise
from custinfo.config import Settings

pytestmark = pytest.mark.browser

ADMIN_PASSWORD = "Qiu-shui-9-chang-tian"
REP_PASSWORD = "Hai-tang-7-chun-yu"
SHOTS = Path("/tmp/shots-accounts")
COMPANY = {"kind": "company", "source_channel": "web_form", "purpose": "sales_service"}


@pytest.fixture(scope="module")
def fresh_install(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`custinfo init` into an empty data directory (only the admin exists), served on a free port."""
    data_dir = tmp_path_factory.mktemp("day-one")
    settings = Settings(environment="test", data_dir=data_dir, database_url=f"sqlite:///{data_dir / 'd.db'}")
    result = initialise(settings, ADMIN_PASSWORD)
    with serving(create_app(settings, engine=result.engine)) as url:
        yield url
    result.engine.dispose()


def test_day_one(chromium: Path, fresh_install: str) -> None:  # noqa: F811
    from playwright.sync_api import Page, expect, sync_playwright

    base = fresh_install
    SHOTS.mkdir(exist_ok=True)

    def sign_in(page: Page, username: str, password: str) -> None:
        page.context.clear_cookies()
        page.goto(f"{base}/login")
        page.fill("#username", username)
        page.fill("#password", password)
        page.click("button[type=submit]")
        page.wait_for_load_state()

    def create_account(
        page: Page, kind: str, username: str, display: str, role: str, dept: str | None
    ) -> Page:
        page.goto(f"{base}/admin/users")
        page.select_option("#nu-kind", kind)
        page.fill("#nu-username", username)
        page.fill("#nu-display", display)
        page.select_option("#nu-role", role)
        if dept:
            page.select_option("#nu-department", label=dept)
        page.click("form.new-user-form button[type=submit]")
        expect(page.locator("h1.page-title")).to_contain_text(display)
        return page

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(chromium), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(locale="zh-CN", viewport={"width": 1360, "height": 900})
            page.on("dialog", lambda dialog: dialog.accept())
            sign_in(page, "admin", ADMIN_PASSWORD)

            page.goto(f"{base}/admin/departments")
            page.fill("#nd-name", "华北销售部")
            page.click("form.new-department-form button[type=submit]")
            expect(page.locator("#department-list")).to_contain_text("华北销售部")

            create_account(page, "person", "zhang.wei", "张伟", "sales", "华北销售部")
            rep_password = page.inner_text("#one-time-password").strip()
            assert len(rep_password) >= 10
            create_account(page, "person", "li.na", "李娜", "dept_head", "华北销售部")
            create_account(page, "integration", "webshop", "网店对接", "data_steward", None)
            page.fill("#tk-label", "订单推送")
            page.select_option("#tk-scope", "read write")
            page.fill("#tk-days", "30")
            page.click("#action-create-token")
            token = page.inner_text("#issued-token").strip()
            expect(page.locator("#token-list")).to_contain_text("订单推送")
            page.screenshot(path=str(SHOTS / "day-one-token.png"), full_page=True)

            # The head is chosen by name with the person picker, never typed as a username.
            page.goto(f"{base}/admin/departments")
            row = page.locator("tr[data-department='华北销售部']")
            row.locator(".picker-input").fill("李")
            page.locator(".picker-option", has_text="李娜").click()
            row.locator("button[type=submit]").click()
            expect(page.locator("tr[data-department='华北销售部']")).to_contain_text("李娜")
            page.screenshot(path=str(SHOTS / "day-one-departments.png"), full_page=True)

            # The integration pushes two customers (one the rep's, one the head's) and an order.
            api = httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"})
            mine = api.post(
                "/api/v1/customers", json={**COMPANY, "name": "北方重工有限公司", "owner": "zhang.wei"}
            )
            assert mine.status_code == 201, mine.text
            other = api.post(
                "/api/v1/customers", json={**COMPANY, "name": "燕山建材有限公司", "owner": "li.na"}
            )
            assert other.status_code == 201, other.text
            # A web shop that retries a push (same Idempotency-Key) never creates a second order.
            push = {
                "customer_id": mine.json()["id"],
                "ordered_on": "2026-01-15",
                "amount": "1200.00",
                "product": "阀门",
                "external_id": "SHOP-20260115-0001",
            }
            retry_key = {"Idempotency-Key": "shop-push-20260115-0001"}
            order = api.post("/api/v1/orders", json=push, headers=retry_key)
            assert order.status_code == 201, order.text
            again = api.post("/api/v1/orders", json=push, headers=retry_key)
            assert again.status_code == 201 and again.json()["id"] == order.json()["id"]
            assert again.headers["Idempotent-Replayed"] == "true"
            pushed = api.get("/api/v1/orders", params={"customer_id": mine.json()["id"]}).json()
            assert [o["id"] for o in pushed["items"]] == [order.json()["id"]]
            assert (
                httpx.post(
                    f"{base}/api/v1/auth/token", data={"username": "webshop", "password": "x"}
                ).status_code
                == 401
            )

            sign_in(page, "zhang.wei", rep_password)
            page.goto(f"{base}/customers")
            expect(page).to_have_url(f"{base}/account/password")
            expect(page.locator(".must-change")).to_be_visible()
            page.screenshot(path=str(SHOTS / "day-one-forced.png"), full_page=True)
            page.fill("#current_password", rep_password)
            page.fill("#new_password", REP_PASSWORD)
            page.fill("#repeat_password", REP_PASSWORD)
            page.click("form.password-form button[type=submit]")
            page.wait_for_load_state()
            assert "/account/password" not in page.url
            page.goto(f"{base}/customers")
            expect(page.locator("body")).to_contain_text("北方重工有限公司")
            assert "燕山建材有限公司" not in page.content()
            page.screenshot(path=str(SHOTS / "day-one-rep-customers.png"), full_page=True)

            sign_in(page, "zhang.wei", REP_PASSWORD)  # the new password works; the one-time one is gone
            expect(page.locator(".app-user")).to_contain_text("张伟")  # by display name, username on hover
            expect(page.locator(".app-user-name")).to_have_attribute("title", "zhang.wei")
            sign_in(page, "zhang.wei", rep_password)
            expect(page.locator("#login-error")).to_be_visible()

            # The admin hands the head's customer to the rep: the owner is picked by name, not typed.
            sign_in(page, "admin", ADMIN_PASSWORD)
            page.goto(f"{base}/customers/{other.json()['id']}/edit")
            page.locator("#f-owner").fill("张")
            page.locator(".picker-option", has_text="张伟").click()
            expect(page.locator("input[type=hidden][name=owner]")).to_have_value("zhang.wei")
            page.locator("form button[type=submit]").last.click()
            expect(page.locator("body")).to_contain_text("张伟 (zhang.wei)")
            sign_in(page, "zhang.wei", REP_PASSWORD)
            page.goto(f"{base}/customers")
            expect(page.locator("body")).to_contain_text("燕山建材有限公司")
            api.close()
        finally:
            browser.close()
