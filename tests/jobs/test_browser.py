"""The jobs page in Debian's Chromium against the real app with its worker and scheduler running.

An admin presses "run now"; the run page polls the progress fragment (HTMX) until the worker
thread has finished the job, then links to the classification run. Screenshots of the jobs page
and the run page land in test-results/.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.e2e.test_browser import CHROMIUM_ARGS, RESULTS, chromium, serving
from tests.factories import DEFAULT_PASSWORD, make_customer, make_order, make_user

from custinfo.app import create_app
from custinfo.config import Settings
from custinfo.core.db import make_engine, make_session_factory
from custinfo.core.schema import upgrade
from custinfo.core.uow import Actor

pytestmark = pytest.mark.browser
__all__ = ["chromium"]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The app as `custinfo serve` runs it (job worker and scheduler on) over a fresh SQLite file."""
    data_dir = tmp_path_factory.mktemp("jobs-browser")
    settings = Settings(
        environment="test", data_dir=data_dir, database_url=f"sqlite:///{data_dir / 'e2e.db'}"
    )
    engine = make_engine(settings.effective_database_url)
    upgrade(engine)
    with make_session_factory(engine)() as session:
        session.info["actor"] = Actor.system("test")
        make_user(session, "admin_e2e", "admin")
        sales = make_user(session, "sales_jobs", "sales", "华东销售部")
        for name in ("上海东方精密机械有限公司", "杭州云帆信息技术有限公司", "苏州华联商贸有限公司"):
            make_order(session, make_customer(session, sales, name=name))
        session.commit()
    app = create_app(settings, engine=engine, run_jobs=True)
    with serving(app) as url:
        yield url
    assert not app.state.job_runner._thread, "the job worker stops with the app"
    engine.dispose()


def test_admin_runs_classification_from_the_jobs_page(chromium: Path, server: str) -> None:
    """Sign in as admin, open the jobs page from the navigation, run now, watch it finish, follow the result."""
    from playwright.sync_api import expect, sync_playwright

    RESULTS.mkdir(exist_ok=True)
    problems: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(chromium), headless=True, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1440, "height": 900}, locale="zh-CN")
        page.on("console", lambda msg: problems.append(msg.text) if msg.type == "error" else None)
        page.on("pageerror", lambda exc: problems.append(str(exc)))
        try:
            page.goto(f"{server}/login")
            page.fill("#username", "admin_e2e")
            page.fill("#password", DEFAULT_PASSWORD)
            page.click("button[type=submit]")
            page.click('.app-sidebar a.nav-link[href="/jobs"]')
            expect(page).to_have_url(f"{server}/jobs")
            row = page.locator('#job-list tr[data-job="classify"]')
            expect(row).to_contain_text("全量分类")
            expect(row).to_contain_text("每天 02:00")
            expect(row).to_contain_text("从未运行")
            page.screenshot(path=str(RESULTS / "jobs-page-empty.png"), full_page=True)

            row.locator("button[data-run=classify]").click()
            expect(page).to_have_url(re.compile(r"/jobs/runs/\d+\?flash=job_queued$"))
            expect(page.locator(".flash")).to_contain_text("任务已排队")
            progress = page.locator("#job-progress")
            expect(progress).to_have_attribute("data-status", "succeeded", timeout=30_000)  # polled by HTMX
            expect(progress).to_contain_text("已完成")
            expect(progress).to_contain_text("客户数 3")
            page.screenshot(path=str(RESULTS / "jobs-run-done.png"), full_page=True)

            progress.locator("text=查看结果").click()
            expect(page).to_have_url(re.compile(r"/classification/runs/\d+$"))

            page.goto(f"{server}/jobs")
            expect(row.locator(".job-status")).to_have_text("已完成")
            expect(page.locator("#job-history tbody tr")).to_have_count(1)
            page.screenshot(path=str(RESULTS / "jobs-page.png"), full_page=True)
            page.goto(f"{server}/jobs?lang=en")
            expect(row).to_contain_text("Daily at 02:00")
            page.screenshot(path=str(RESULTS / "jobs-page-en.png"), full_page=True)
        finally:
            browser.close()
    assert problems == []
