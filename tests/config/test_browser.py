"""In a real browser: the settings area as a data steward and an administrator — vocabularies edited into a
new version, the code dimensions, every kind of rule parameter, the preview and the readable version diff.
Screenshots of every screen go to /tmp/shots-config/."""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from tests.e2e.test_browser import CHROMIUM_ARGS, chromium, serving  # noqa: F401  (the fixture)
from tests.factories import DEFAULT_PASSWORD, make_customer, make_order, make_user

from custinfo.app import create_app
from custinfo.classification import service as classification
from custinfo.config import Settings
from custinfo.core.db import make_engine, make_session_factory
from custinfo.core.schema import upgrade
from custinfo.core.uow import Actor
from custinfo.customers.vocabulary import forget_installed_vocabularies

pytestmark = pytest.mark.browser
SHOTS = Path("/tmp/shots-config")
SNAKE = re.compile(r"\b[a-z]+_[a-z_]+\b")


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The app over a fresh SQLite file with a steward, an admin, customers and a second rule-set version."""
    data_dir = tmp_path_factory.mktemp("config-browser")
    settings = Settings(environment="test", data_dir=data_dir, database_url=f"sqlite:///{data_dir / 'c.db'}")
    engine = make_engine(settings.effective_database_url)
    upgrade(engine)
    with make_session_factory(engine)() as session:
        session.info["actor"] = Actor.system("test")
        sales = make_user(session, "salesc", "sales", "华东销售部")
        make_user(session, "stewardc", "data_steward")
        make_user(session, "adminc", "admin")
        for n, amount in enumerate(("450000.00", "900000.00", "120000.00")):
            customer = make_customer(session, sales, name=f"设置测试公司{n}")
            make_order(session, customer, amount=Decimal(amount))
        definition = copy.deepcopy(classification.current_rule_set(session).definition)
        definition["parameters"]["online_channels"] = ["online", "app"]
        definition["parameters"]["include_contract_amounts"] = True
        for rule in definition["rules"]:
            if rule["id"] == "value.high":
                rule["when"]["value"] = "450000.00"
        classification.publish_rule_set(session, definition, "门槛下调", "stewardc", "head")
        session.commit()
    with serving(create_app(settings, engine=engine)) as url:
        yield url
    engine.dispose()
    forget_installed_vocabularies()


def test_settings_area(chromium: Path, site: str) -> None:  # noqa: F811
    from playwright.sync_api import Page, expect, sync_playwright

    SHOTS.mkdir(exist_ok=True)

    def sign_in(page: Page, username: str) -> None:
        page.context.clear_cookies()
        page.goto(f"{site}/login")
        page.fill("#username", username)
        page.fill("#password", DEFAULT_PASSWORD)
        page.click("button[type=submit]")
        expect(page.locator(".app-user-name")).to_have_attribute("title", username)

    def shot(page: Page, name: str) -> None:
        page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)
        visible = page.locator("main").inner_text()
        assert not SNAKE.search(visible), (name, SNAKE.findall(visible)[:5])

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(chromium), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(locale="zh-CN", viewport={"width": 1400, "height": 900})
            for user in ("stewardc", "adminc"):
                sign_in(page, user)
                page.goto(f"{site}/settings")
                expect(page.locator("h1")).to_contain_text("系统设置")
                shot(page, f"{user}-settings")
                page.goto(f"{site}/settings/vocabularies")
                shot(page, f"{user}-vocabularies")
                page.goto(f"{site}/settings/classification-code")
                shot(page, f"{user}-classification-code")
                page.goto(f"{site}/classification/versions?a=1&b=2")
                expect(page.locator("#version-diff")).to_contain_text("450,000.00")
                expect(page.locator("#version-diff")).to_contain_text("在线、应用")
                shot(page, f"{user}-versions-diff")

            sign_in(page, "stewardc")
            page.goto(f"{site}/settings/vocabularies/customer_type")
            shot(page, "stewardc-vocabulary-before")
            page.fill("textarea[name='terms[0].synonyms']", "代理商\n分销商")
            page.check("input[name='terms[2].retired']")
            page.fill("input[name='terms[3].code']", "integrator")
            page.fill("input[name='terms[3].zh']", "系统集成商")
            page.fill("input[name='terms[3].en']", "System integrator")
            page.fill("#reason", "渠道调整")
            page.click("#vocabulary-form button[type=submit]")
            expect(page.locator(".flash")).to_contain_text("新版本")
            expect(page.locator("#vocabulary-history")).to_contain_text("渠道调整")
            shot(page, "stewardc-vocabulary-saved")
            page.fill("input[name='terms[0].zh']", "")
            page.click("#vocabulary-form button[type=submit]")
            expect(page.locator(".invalid-feedback").first).to_be_visible()
            shot(page, "stewardc-vocabulary-refused")

            page.goto(f"{site}/classification/rules")
            page.fill("[name='p.timezone']", "Mars/Olympus")
            page.click("#preview-button")
            expect(page.locator("#rule-preview")).to_contain_text("时区")
            page.fill("[name='p.timezone']", "Asia/Shanghai")
            page.fill("[name='r.value.high']", "100000.00")
            page.uncheck("[name='p.online_channels::app']")
            page.click("#preview-button")
            expect(page.locator("#rule-preview")).to_contain_text("年合作金额")
            expect(page.locator("#rule-preview")).to_contain_text("线上渠道")
            page.set_viewport_size({"width": 1400, "height": 1000})
            page.screenshot(path=str(SHOTS / "stewardc-rules-top.png"))
            page.locator("#rule-preview").screenshot(path=str(SHOTS / "stewardc-rules-preview-panel.png"))
            shot(page, "stewardc-rules-preview")
        finally:
            browser.close()
