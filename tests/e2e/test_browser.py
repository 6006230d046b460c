"""The web UI in a real browser: Debian's Chromium driven by Playwright against the real app.

The app runs under uvicorn in a background thread on a free port, with a fresh
SQLite file migrated like `custinfo init` does. Screenshots of the list and the
360 page land in test-results/ for a human look.
"""

from __future__ import annotations

import os
import re
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from sqlalchemy.orm import Session
from tests.factories import (
    DEFAULT_PASSWORD,
    make_contact,
    make_customer,
    make_interaction,
    make_order,
    make_user,
)

from custinfo.app import STATIC_DIR, create_app
from custinfo.config import Settings
from custinfo.core.db import make_engine, make_session_factory
from custinfo.core.schema import upgrade
from custinfo.core.uow import Actor

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
RESULTS = Path(__file__).resolve().parents[2] / "test-results"
INVALID_CODE = "91350100M000100Y44"
VALID_CODE = "91350100M000100Y43"
NAME = "闽江智能装备有限公司"

SAMPLE_COMPANIES = [
    ("上海东方精密机械有限公司", "制造业", "13816620001", "上海市"),
    ("杭州云帆信息技术有限公司", "信息传输、软件和信息技术服务业", "13957130002", "杭州市"),
    ("苏州华联商贸有限公司", "批发和零售业", "13962140003", "苏州市"),
    ("南京金陵建设工程有限公司", "建筑业", "13851700004", "南京市"),
    ("宁波港顺物流有限公司", "交通运输、仓储和邮政业", "13805740005", "宁波市"),
    ("合肥新源能源科技有限公司", "电力、热力、燃气及水生产和供应业", "13905510006", "合肥市"),
]
SAMPLE_PEOPLE = [
    ("王晓明", "13700000007", "上海市"),
    ("李静", "13600000008", "无锡市"),
    ("赵磊", "13500000009", "常州市"),
]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def serving(app: Any, join_seconds: float = 30) -> Iterator[str]:
    """Run the app under uvicorn in a background thread on a free port; yield its base URL, then stop it."""
    port = _free_port()
    uvicorn_server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=uvicorn_server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not uvicorn_server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            pytest.fail("the app did not start under uvicorn")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        uvicorn_server.should_exit = True
        thread.join(timeout=join_seconds)


def _seed(session: Session) -> None:
    sales = make_user(session, "sales_e2e", "sales", "华东销售部")
    for name, industry, mobile, region in SAMPLE_COMPANIES:
        customer = make_customer(session, sales, name=name, industry=industry, mobile=mobile, region=region)
        make_contact(session, customer, name="采购部 " + name[2:4] + "经理", title="采购经理")
        make_order(session, customer)
        make_interaction(session, customer, topic="季度回访")
    for name, mobile, region in SAMPLE_PEOPLE:
        make_customer(session, sales, kind="individual", name=name, mobile=mobile, region=region)


@pytest.fixture(scope="module")
def chromium() -> Path:
    """Debian's Chromium; missing is a skip locally and a failure in CI."""
    if not CHROMIUM.exists():
        reason = f"{CHROMIUM} is missing (apt-get install chromium); browser tests need Debian's Chromium"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    if not (STATIC_DIR / "vendor" / "htmx" / "htmx.min.js").exists():
        pytest.fail("front-end assets are missing: run `bash scripts/assets.sh`")
    return CHROMIUM


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The real app on 127.0.0.1:<free port> over a fresh, migrated SQLite file with a sales user."""
    data_dir = tmp_path_factory.mktemp("browser")
    settings = Settings(
        environment="test", data_dir=data_dir, database_url=f"sqlite:///{data_dir / 'e2e.db'}"
    )
    engine = make_engine(settings.effective_database_url)
    upgrade(engine)
    with make_session_factory(engine)() as session:
        session.info["actor"] = Actor.system("test")
        _seed(session)
        session.commit()
    with serving(create_app(settings, engine=engine)) as url:
        yield url
    engine.dispose()


def test_create_fix_and_find_a_company(chromium: Path, server: str) -> None:
    """Sign in, create a company with a wrong credit code, fix it, land on its 360 page, find it in the list."""
    from playwright.sync_api import expect, sync_playwright

    RESULTS.mkdir(exist_ok=True)
    problems: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(chromium), headless=True, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1440, "height": 900}, locale="zh-CN")
        # CSP violations and script errors show up as console errors: the pages must have none. A form
        # refused with 422 is logged as a failed load too; that one is the point of the scenario.
        page.on(
            "console",
            lambda msg: (
                problems.append(msg.text) if msg.type == "error" and "status of 422" not in msg.text else None
            ),
        )
        page.on("pageerror", lambda exc: problems.append(str(exc)))
        try:
            page.goto(f"{server}/customers")
            expect(page).to_have_url(re.compile(r"/login\?next="))
            page.fill("#username", "sales_e2e")
            page.fill("#password", DEFAULT_PASSWORD)
            page.click("button[type=submit]")
            expect(page).to_have_url(f"{server}/customers")
            expect(page.locator(".app-user-name")).to_have_attribute("title", "sales_e2e")

            page.click("text=新建企业客户")
            expect(page).to_have_url(re.compile(r"/customers/new\?kind=company$"))
            page.fill("#f-name", NAME)
            page.fill("#f-credit_code", INVALID_CODE)
            page.fill("#f-legal_representative", "林海峰")
            page.select_option("#f-industry", "制造业")
            page.fill("#f-mobile", "13859900010")
            page.select_option("#f-source_channel", "trade_show")
            page.select_option("#f-purpose", "sales_service")
            page.click("form.customer-form button[type=submit]")

            error = page.locator("#f-credit_code-error")
            expect(error).to_contain_text("统一社会信用代码校验码不正确")
            expect(page.locator("#f-credit_code")).to_have_class(re.compile(r"\bis-invalid\b"))
            expect(page.locator("#f-name")).to_have_value(NAME)
            expect(page.locator("#f-legal_representative")).to_have_value("林海峰")
            expect(page.locator("#f-industry")).to_have_value("制造业")
            expect(page.locator("#f-mobile")).to_have_value("13859900010")
            page.screenshot(path=str(RESULTS / "customer-form-error.png"), full_page=True)

            page.fill("#f-credit_code", VALID_CODE)
            page.click("form.customer-form button[type=submit]")
            expect(page).to_have_url(re.compile(r"/customers/\d+\?flash=created$"))
            expect(page.locator("h1.customer-name")).to_have_text(NAME)
            expect(page.locator(".flash")).to_contain_text("客户已创建")

            page.click("#customer-tabs >> text=变更记录")  # swapped in by HTMX, URL pushed
            expect(page.locator("#tab-pane")).to_contain_text(VALID_CODE)
            expect(page).to_have_url(re.compile(r"\?tab=history$"))
            page.click("#customer-tabs >> text=档案")
            expect(page.locator("#tab-pane")).to_contain_text("林海峰")
            page.screenshot(path=str(RESULTS / "customer-360.png"), full_page=True)

            page.click('.app-sidebar a.nav-link[href="/customers"]')
            expect(page.locator("#customer-results")).to_contain_text("上海东方精密机械有限公司")
            page.fill("#filter-q", "闽江智能")  # the table refreshes as the user types
            expect(page.locator("#customer-results tbody tr")).to_have_count(1)
            expect(page.locator("#customer-results")).to_contain_text(NAME)
            expect(page.locator("#customer-results")).to_contain_text("共 1 条")
            expect(page).to_have_url(re.compile(r"q=%E9%97%BD"))
            page.fill("#filter-q", "")
            expect(page.locator("#customer-results tbody tr")).to_have_count(len(SAMPLE_COMPANIES) + 4)
            page.screenshot(path=str(RESULTS / "customer-list.png"), full_page=True)
        finally:
            browser.close()
    assert problems == []
