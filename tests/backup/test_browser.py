"""The backups page in Debian's Chromium against the real app over a SQLite file.

An admin sees the home page's warning (no backup yet), opens 「数据备份」 from the navigation, backs up
now, the test runs the queued job (as the worker would), the page's progress card notices the end and
reloads, and the archive is listed as verified; the admin follows the run to its job page, verifies the
archive again, gets the policy form's messages under its inputs, then saves a new version. A sales user
has no menu entry and gets the 403 page. Screenshots of every screen land in /tmp/shots-backup/.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker
from tests.e2e.test_browser import CHROMIUM_ARGS, chromium, serving
from tests.factories import DEFAULT_PASSWORD, make_customer, make_order, make_user

from custinfo.app import create_app
from custinfo.backup import service as backups
from custinfo.config import Settings
from custinfo.core.db import make_engine, make_session_factory
from custinfo.core.schema import upgrade
from custinfo.core.uow import Actor
from custinfo.jobs import runner

pytestmark = pytest.mark.browser
__all__ = ["chromium"]
SHOTS = Path("/tmp/shots-backup")


@dataclass
class Site:
    url: str
    settings: Settings
    factory: sessionmaker[Session]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """The app over a fresh SQLite file, its backups in a directory of its own; no worker (the test runs jobs)."""
    data_dir = tmp_path_factory.mktemp("backup-browser")
    settings = Settings(
        environment="test",
        data_dir=data_dir,
        database_url=f"sqlite:///{data_dir / 'e2e.db'}",
        backup_dir=data_dir / "archives",
        backup_key_file=data_dir / "backup-key.json",
    )
    engine = make_engine(settings.effective_database_url)
    upgrade(engine)
    factory = make_session_factory(engine)
    with factory() as session:
        session.info["actor"] = Actor.system("test")
        make_user(session, "admin_bk", "admin")
        sales = make_user(session, "sales_bk", "sales", "华东销售部")
        for name in ("上海东方精密机械有限公司", "杭州云帆信息技术有限公司"):
            make_order(session, make_customer(session, sales, name=name))
        session.commit()
    with serving(create_app(settings, engine=engine)) as url:
        yield Site(url, settings, factory)
    engine.dispose()


def _run_jobs(site: Site) -> None:
    """What the worker does: run the queued jobs (with this app's backup directory and key)."""
    backups.configure(site.settings)
    runner.run_queued(site.factory)


def _sign_in(page, site: Site, username: str) -> None:  # type: ignore[no-untyped-def]
    page.context.clear_cookies()
    page.goto(f"{site.url}/login")
    page.fill("#username", username)
    page.fill("#password", DEFAULT_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r"/home$"))


def test_admin_backs_up_verifies_and_sets_the_policy_sales_is_refused(chromium: Path, site: Site) -> None:
    from playwright.sync_api import expect, sync_playwright

    SHOTS.mkdir(exist_ok=True)
    problems: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(chromium), headless=True, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1440, "height": 900}, locale="zh-CN")
        page.on("console", lambda msg: problems.append(msg.text) if msg.type == "error" else None)
        page.on("pageerror", lambda exc: problems.append(str(exc)))
        try:
            _sign_in(page, site, "admin_bk")
            warning = page.locator("#backup-warning")
            expect(warning).to_contain_text("还没有任何备份")
            page.screenshot(path=str(SHOTS / "01-home-warning.png"), full_page=True)

            page.click('.app-sidebar a.nav-link[href="/backups"]')
            expect(page).to_have_url(f"{site.url}/backups")
            expect(page.locator("#backup-empty")).to_contain_text("还没有任何备份")
            directory = (site.settings.data_dir / "archives").absolute()
            expect(page.locator("#backup-dir")).to_have_text(str(directory))
            expect(page.locator("#backup-restore-command")).to_have_text(
                f"custinfo backup restore {directory}/<备份文件> --yes"
            )
            expect(page.locator("#backup-policy-version")).to_contain_text("出厂默认设置")
            page.screenshot(path=str(SHOTS / "02-backups-empty.png"), full_page=True)

            page.select_option("#backup-kind", "weekly")
            page.click("#backup-now-button")
            expect(page).to_have_url(re.compile(r"/backups\?run=\d+&flash=backup_queued$"))
            expect(page.locator(".flash")).to_contain_text("备份已排队")
            card = page.locator(".backup-run").first
            expect(card).to_have_attribute("data-status", "queued")
            expect(card).to_contain_text("排队中")
            expect(card).to_contain_text("每周备份")
            page.screenshot(path=str(SHOTS / "03-backup-queued.png"), full_page=True)

            _run_jobs(site)
            # The card polls its run; once the run has ended the page reloads and lists the archive.
            row = page.locator("#backup-list tbody tr[data-status=passed]")
            expect(row).to_have_count(1, timeout=30_000)
            expect(row).to_contain_text("每周备份")
            expect(row).to_contain_text("验证通过")
            expect(row).to_contain_text("MB")
            expect(page.locator(".backup-run").first).to_contain_text("备份任务已完成")
            file_name = row.get_attribute("data-file") or ""
            assert re.fullmatch(r"custinfo-\d{8}T\d{6}Z-weekly\.cibackup", file_name), file_name
            expect(page.locator("#backup-restore-command")).to_have_text(
                f"custinfo backup restore {directory / file_name} --yes"
            )
            expect(page.locator("#backup-warning")).to_have_count(0)
            page.screenshot(path=str(SHOTS / "04-backup-listed.png"), full_page=True)

            page.locator(".backup-run a[href^='/jobs/runs/']").first.click()
            expect(page).to_have_url(re.compile(r"/jobs/runs/\d+$"))
            expect(page.locator("#job-progress")).to_contain_text("备份文件")
            expect(page.locator("#job-progress")).to_contain_text("每周备份")
            page.screenshot(path=str(SHOTS / "05-job-run.png"), full_page=True)

            page.goto(f"{site.url}/backups")
            page.click(f'button[data-verify="{file_name}"]')
            expect(page).to_have_url(re.compile(r"flash=backup_verify_queued$"))
            expect(page.locator(".backup-run").first).to_contain_text("验证备份")
            page.screenshot(path=str(SHOTS / "06-verify-queued.png"), full_page=True)
            _run_jobs(site)
            expect(page.locator(".backup-run").first).to_contain_text("验证已完成", timeout=30_000)
            expect(page.locator("#backup-list tbody tr[data-status=passed]")).to_have_count(1)

            # A copy of the archive damaged on disk: listed, verified on request, red with the reason.
            damaged = "custinfo-20260101T000000Z-daily.cibackup"
            data = bytearray((directory / file_name).read_bytes())
            data[-40] ^= 0xFF
            (directory / damaged).write_bytes(bytes(data))
            page.goto(f"{site.url}/backups")
            expect(page.locator(f'#backup-list tr[data-file="{damaged}"]')).to_contain_text("从未验证")
            page.screenshot(path=str(SHOTS / "07-never-verified.png"), full_page=True)
            page.click(f'button[data-verify="{damaged}"]')
            _run_jobs(site)
            failed = page.locator(f'#backup-list tr[data-file="{damaged}"]')
            expect(failed).to_have_attribute("data-status", "failed", timeout=30_000)
            expect(failed).to_contain_text("验证失败")
            expect(failed).to_contain_text("备份文件已损坏")
            expect(page.locator("#backup-warning")).to_contain_text("最近一次备份验证失败")
            page.screenshot(path=str(SHOTS / "08-verify-failed.png"), full_page=True)
            page.goto(f"{site.url}/home")
            expect(page.locator("#backup-warning")).to_contain_text(damaged)
            expect(page.locator("#backup-warning")).to_contain_text("备份文件已损坏")
            page.screenshot(path=str(SHOTS / "09-home-verify-failed.png"), full_page=True)
            (directory / damaged).unlink()
            page.goto(f"{site.url}/backups")

            page.fill("#policy-keep_daily", "0")
            page.fill("#policy-keep_monthly", "十二")
            page.fill("#policy-run_at", "7:5")
            page.fill("#policy-reason", "试一下")
            page.click("#backup-policy-save")
            expect(page.locator("#err-keep_daily")).to_have_text("应为 1 到 1000 之间的整数")
            expect(page.locator("#err-keep_monthly")).to_have_text("应为 1 到 1000 之间的整数")
            expect(page.locator("#err-run_at")).to_contain_text("HH:MM")
            expect(page.locator("#err-keep_weekly")).to_have_count(0)
            expect(page.locator("#policy-run_at")).to_have_value("7:5")
            page.screenshot(path=str(SHOTS / "10-policy-errors.png"), full_page=True)

            page.fill("#policy-keep_daily", "10")
            page.fill("#policy-keep_monthly", "24")
            page.fill("#policy-run_at", "02:45")
            page.fill("#policy-reason", "监管要求保留两年")
            page.click("#backup-policy-save")
            expect(page.locator(".flash")).to_contain_text("保留策略已保存为新版本")
            expect(page.locator("#backup-policy-version")).to_contain_text("第 1 版，由 admin_bk 于")
            expect(page.locator("#policy-keep_monthly")).to_have_value("24")
            page.screenshot(path=str(SHOTS / "11-policy-saved.png"), full_page=True)

            page.goto(f"{site.url}/backups?lang=en")
            expect(page.locator("#backup-list")).to_contain_text("Verified")
            expect(page.locator("#backup-policy-version")).to_contain_text("Version 1 by admin_bk at")
            page.screenshot(path=str(SHOTS / "12-backups-en.png"), full_page=True)
            page.goto(f"{site.url}/audit?lang=zh_CN")
            expect(page.locator("body")).to_contain_text("修改备份保留策略")
            expect(page.locator("body")).to_contain_text("备份验证通过")
            page.screenshot(path=str(SHOTS / "13-audit.png"), full_page=True)

            _sign_in(page, site, "sales_bk")
            expect(page.locator('.app-sidebar a[href="/backups"]')).to_have_count(0)
            expect(page.locator("#backup-warning")).to_have_count(0)
            page.screenshot(path=str(SHOTS / "14-sales-home.png"), full_page=True)
            response = page.goto(f"{site.url}/backups")
            assert response is not None and response.status == 403
            expect(page.locator("body")).to_contain_text("无权")
            page.screenshot(path=str(SHOTS / "15-sales-refused.png"), full_page=True)
        finally:
            browser.close()
    # The refused policy form (422) and the sales user's 403 page are answers by design, not page errors.
    expected = re.compile(r"^Failed to load resource: .* status of (422|403)\b")
    assert [p for p in problems if not expected.match(p)] == []
