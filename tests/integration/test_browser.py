"""In a real browser: 30 February is kept and named, not dropped; reveal buttons per role; L3 reasons; external ids."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from tests.e2e.test_browser import CHROMIUM_ARGS, chromium, serving  # noqa: F401  (the fixture)
from tests.factories import DEFAULT_PASSWORD, make_customer, make_order, make_user

from custinfo.app import create_app
from custinfo.config import Settings
from custinfo.core.db import make_engine, make_session_factory
from custinfo.core.schema import upgrade
from custinfo.core.uow import Actor
from custinfo.customers.identifiers import make_id_number
from custinfo.customers.models import Customer

pytestmark = pytest.mark.browser

SHOTS = Path("/tmp/shots-integration")
ID_NUMBER = make_id_number("110105", date(1985, 3, 9), 21)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, int, Path]]:
    """The app over a fresh SQLite file: a sales rep, an admin, one individual with an external id and an order."""
    data_dir = tmp_path_factory.mktemp("integration-browser")
    settings = Settings(environment="test", data_dir=data_dir, database_url=f"sqlite:///{data_dir / 'i.db'}")
    engine = make_engine(settings.effective_database_url)
    upgrade(engine)
    with make_session_factory(engine)() as session:
        session.info["actor"] = Actor.system("test")
        sales = make_user(session, "sales_i", "sales", "华东销售部")
        make_user(session, "admin_i", "admin")
        make_user(session, "auditor_i", "auditor")
        customer = make_customer(
            session, sales, kind="individual", name="周敏", id_number=ID_NUMBER, external_id="SHOP-C-7"
        )
        make_order(session, customer, external_id="WEB-2026-0042")
        customer_id = customer.id
        session.commit()
    SHOTS.mkdir(parents=True, exist_ok=True)
    with serving(create_app(settings, engine=engine)) as url:
        yield url, customer_id, data_dir
    engine.dispose()


def test_impossible_date_is_kept_and_named_and_reveal_and_levels(
    chromium: Path,  # noqa: F811
    site: tuple[str, int, Path],
) -> None:
    from playwright.sync_api import Page, expect, sync_playwright

    base, customer_id, data_dir = site

    def sign_in(page: Page, username: str) -> None:
        page.context.clear_cookies()
        page.context.add_cookies([{"name": "lang", "value": "zh_CN", "url": base}])
        page.goto(f"{base}/login")
        page.fill("#username", username)
        page.fill("#password", DEFAULT_PASSWORD)
        page.click("button[type=submit]")
        expect(page.locator(".app-user")).to_be_visible()

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(chromium), args=CHROMIUM_ARGS, headless=True)
        # en-US orders the date segments month/day/year; the pages are asked for in Chinese
        page = browser.new_page(
            locale="en-US",
            viewport={"width": 1280, "height": 900},
            extra_http_headers={"Accept-Language": "zh-CN"},
        )
        sign_in(page, "sales_i")

        # 1. 30 February typed into the birth date: the form is not sent, the input is kept and named.
        page.goto(f"{base}/customers/new?kind=individual")
        page.fill("#f-name", "王二月")
        page.select_option("#f-source_channel", index=1)
        page.select_option("#f-purpose", index=1)
        birth = page.locator("#f-birth_date")
        birth.click()
        page.keyboard.type("02302026")
        assert birth.evaluate("el => el.validity.badInput") is True
        page.click("form.customer-form button[type=submit]")
        feedback = page.locator("#f-birth_date-bad-date")
        expect(feedback).to_contain_text("日期不存在")
        expect(birth).to_have_class(re.compile("is-invalid"))
        assert page.url.endswith("/customers/new?kind=individual")  # nothing was sent
        assert birth.evaluate("el => el.validity.badInput") is True  # what was typed is still there
        page.screenshot(path=str(SHOTS / "sales-new-customer-feb-30.png"), full_page=True)
        # corrected, the customer is saved with the date
        birth.click()
        page.keyboard.type("02282026")
        page.click("form.customer-form button[type=submit]")
        expect(page.locator("h1")).to_contain_text("王二月")

        # 2. sales may not reveal L3: no reveal button on the 360 page; the external ids are shown read-only
        page.goto(f"{base}/customers/{customer_id}")
        expect(page.locator("body")).to_contain_text("SHOP-C-7")
        assert page.locator(".reveal-button").count() == 0
        page.screenshot(path=str(SHOTS / "sales-profile-no-reveal.png"), full_page=True)
        page.goto(f"{base}/customers/{customer_id}?tab=orders")
        expect(page.locator("body")).to_contain_text("WEB-2026-0042")
        page.screenshot(path=str(SHOTS / "sales-orders-external-id.png"), full_page=True)

        # 3. admin may reveal: the buttons are there and answer in place
        sign_in(page, "admin_i")
        page.goto(f"{base}/customers/{customer_id}")
        button = page.locator('.reveal-button[hx-post$="field=id_number"]')
        expect(button).to_be_visible()
        button.click()
        expect(page.locator("#value-id_number")).to_contain_text(ID_NUMBER)
        assert page.locator(".alert-danger").count() == 0
        page.screenshot(path=str(SHOTS / "admin-profile-revealed.png"), full_page=True)

        # 4. the field levels page: L3 is off for fields stored in clear, with the reason
        page.goto(f"{base}/field-levels")
        mobile = page.locator('select[name="level.customer.mobile"]')
        assert mobile.locator('option[value="L3"]').is_disabled()
        expect(mobile.locator("xpath=..")).to_contain_text("搜索")
        page.screenshot(path=str(SHOTS / "admin-field-levels-l3-reasons.png"), full_page=True)
        page.screenshot(path=str(SHOTS / "admin-field-levels-top.png"))
        # the auditor reads the levels without inputs (the reasons are for those who may change them)
        sign_in(page, "auditor_i")
        page.goto(f"{base}/field-levels")
        expect(page.locator("body")).to_contain_text("L3")
        assert page.locator("select").count() == 0
        page.screenshot(path=str(SHOTS / "auditor-field-levels-top.png"))
        browser.close()

    engine = make_engine(f"sqlite:///{data_dir / 'i.db'}")
    with make_session_factory(engine)() as session:
        saved = session.query(Customer).filter_by(name="王二月").one()
        assert saved.birth_date == date(2026, 2, 28)
    engine.dispose()
