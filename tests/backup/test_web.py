"""The backups page: admins only (others get the 403 page and no menu entry), back up now with its progress,
verify, the policy form with messages under its inputs, the home page's warning."""

from __future__ import annotations

import re
from zoneinfo import ZoneInfo

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker
from tests.web.test_pages import csrf_of, sign_in

from custinfo.audit.web import Words
from custinfo.auth.models import User
from custinfo.config import Settings
from custinfo.jobs import runner
from custinfo.jobs import service as jobs

PAGE = "/backups"


def _signed_in(client: TestClient, username: str) -> str:
    """Sign in through the form; the session's CSRF token."""
    client.cookies.clear()
    assert sign_in(client, username).status_code == 303
    return csrf_of(client.get("/home").text)


def _sidebar(html: str) -> str:
    return html.split('<nav class="app-sidebar"', 1)[1].split("</nav>", 1)[0]


def _visible(html: str) -> str:
    """The page without attribute values (links and ids may carry codes; the text must not)."""
    return re.sub(
        r'(href|action|id|class|data-[a-z-]+|hx-[a-z]+|name|value|for|aria-[a-z]+)="[^"]*"', "", html
    )


def test_anonymous_and_other_roles_cannot_open_it(client: TestClient, world: dict[str, User]) -> None:
    anonymous = client.get(PAGE, follow_redirects=False)
    assert anonymous.status_code == 303 and anonymous.headers["location"].startswith("/login")
    for username in ("steward", "auditor", "head_east", "sales_east1", "service1", "marketing"):
        csrf = _signed_in(client, username)
        home = client.get("/home").text
        assert 'href="/backups"' not in _sidebar(home), username
        assert "backup-warning" not in home, username
        refused = client.get(PAGE)
        assert refused.status_code == 403 and "数据备份" not in _sidebar(refused.text), username
        assert client.post(PAGE, data={"csrf_token": csrf, "kind": "daily"}).status_code == 403, username
        assert client.post(PAGE + "/policy", data={"csrf_token": csrf, "keep_daily": "3"}).status_code == 403
        assert client.get(PAGE + "/runs/1").status_code == 403, username


def test_admin_sees_the_empty_page_with_the_restore_command_and_the_directory(
    client: TestClient, world: dict[str, User], settings: Settings
) -> None:
    _signed_in(client, "admin")
    home = client.get("/home").text
    assert 'href="/backups"' in _sidebar(home)
    assert "还没有任何备份" in home and 'href="/backups"' in home.split('id="backup-warning"', 1)[1]
    page = client.get(PAGE)
    assert page.status_code == 200
    text = page.text
    assert 'id="backup-empty"' in text and "还没有任何备份。" in text
    directory = settings.effective_backup_dir.absolute()
    assert (
        f"custinfo backup restore {directory}/&lt;备份文件&gt; --yes" in text and "docs/operations.md" in text
    )
    assert f'<code id="backup-dir">{directory}</code>' in text
    assert "出厂默认设置" in text and 'value="7"' in text and 'value="01:30"' in text
    assert "立即备份" in text and "按日历自动选择" in text
    english = client.get(PAGE + "?lang=en").text
    assert "Back up now" in english and "There is no backup yet" in english and "Rotation policy" in english


def test_admin_backs_up_now_follows_it_and_verifies(
    client: TestClient, world: dict[str, User], session_factory: sessionmaker[Session]
) -> None:
    csrf = _signed_in(client, "admin")
    queued = client.post(PAGE, data={"csrf_token": csrf, "kind": "daily"}, follow_redirects=False)
    assert queued.status_code == 303
    location = queued.headers["location"]
    run_id = int(re.fullmatch(r"/backups\?run=(\d+)&flash=backup_queued", location).group(1))  # type: ignore[union-attr]
    page = client.get(location).text
    assert "备份已排队" in page and f'href="/jobs/runs/{run_id}"' in page
    card = page.split(f'id="backup-run-{run_id}"', 1)[1]
    assert f'hx-get="/backups/runs/{run_id}"' in card and "排队中" in card and "每日备份" in card
    waiting = client.get(f"{PAGE}/runs/{run_id}", headers={"HX-Request": "true"})
    assert waiting.status_code == 200 and "HX-Redirect" not in waiting.headers

    runner.run_queued(session_factory)
    finished = client.get(f"{PAGE}/runs/{run_id}", headers={"HX-Request": "true"})
    assert finished.headers["HX-Redirect"] == f"/backups?run={run_id}" and "已完成" in finished.text
    page = client.get(f"/backups?run={run_id}").text
    assert "hx-get" not in page.split(f'id="backup-run-{run_id}"', 1)[1].split("</div>", 1)[0]
    [row] = re.findall(r'<tr data-file="([^"]+)" data-status="passed"', page)
    shown = page.split(f'<tr data-file="{row}"', 1)[1].split("</tr>", 1)[0]
    assert "每日备份" in shown and "验证通过" in shown and " MB" in shown
    assert "SQLite 数据库" in shown or "PostgreSQL 数据库" in shown
    assert "backup-empty" not in page and "还没有任何备份" not in page
    assert "backup-warning" not in client.get("/home").text

    verify = client.post(f"{PAGE}/{row}/verify", data={"csrf_token": csrf}, follow_redirects=False)
    assert verify.status_code == 303 and "flash=backup_verify_queued" in verify.headers["location"]
    page = client.get(verify.headers["location"]).text
    assert "验证已排队" in page and "验证备份" in page
    assert (
        client.post(
            f"{PAGE}/custinfo-20200101T000000Z-daily.cibackup/verify", data={"csrf_token": csrf}
        ).status_code
        == 404
    )


def test_a_never_verified_backup_says_so(
    client: TestClient, world: dict[str, User], session: Session, session_factory: sessionmaker[Session]
) -> None:
    # A backup made without its test restore (the job's verify=false) is flagged until someone verifies it.
    jobs.enqueue(session, "backup", {"kind": "monthly", "verify": False}, "admin")
    session.commit()
    runner.run_queued(session_factory)
    _signed_in(client, "admin")
    page = client.get(PAGE).text
    assert 'data-status="never"' in page and "从未验证" in page and "每月备份" in page


def test_policy_form_shows_each_message_under_its_input_and_saves_a_version(
    client: TestClient, world: dict[str, User]
) -> None:
    csrf = _signed_in(client, "admin")
    bad = client.post(
        PAGE + "/policy",
        data={
            "csrf_token": csrf,
            "keep_daily": "abc",
            "keep_weekly": "4",
            "keep_monthly": "0",
            "run_at": "9:00",
            "reason": "试试",
        },
    )
    assert bad.status_code == 422
    text = bad.text
    assert text.count("应为 1 到 1000 之间的整数") == 2
    assert 'id="err-keep_daily"' in text and 'id="err-keep_monthly"' in text and 'id="err-run_at"' in text
    assert 'id="err-keep_weekly"' not in text
    assert "格式为 HH:MM（24 小时制）" in text
    assert 'value="abc"' in text and 'value="9:00"' in text and 'value="试试"' in text  # what was typed stays
    assert "出厂默认设置" in text  # nothing saved
    saved = client.post(
        PAGE + "/policy",
        data={
            "csrf_token": csrf,
            "keep_daily": "14",
            "keep_weekly": "8",
            "keep_monthly": "36",
            "run_at": "23:45",
            "reason": "保留更久",
        },
        follow_redirects=False,
    )
    assert saved.status_code == 303 and saved.headers["location"] == "/backups?flash=backup_policy_saved"
    page = client.get(saved.headers["location"]).text
    assert "保留策略已保存为新版本" in page
    assert re.search(r"第 1 版，由 admin 于 \d{4}-\d{2}-\d{2} \d{2}:\d{2} 保存", page)
    assert 'value="14"' in page and 'value="23:45"' in page and "保留更久" in page
    audit = client.get("/audit").text.split('change-table">', 1)[1].split("</table>", 1)[0]
    audit = re.sub(r"\s+", "", audit)
    assert "原值" in audit and "每日备份保留份数" in audit and '<tdclass="change-old">7</td>' in audit
    english = client.get(PAGE + "?lang=en").text
    assert re.search(r"Version 1 by admin at \d{4}-\d{2}-\d{2} \d{2}:\d{2}", english)
    for code in ("keep_daily", "run_at", "backup.", "backups."):
        assert code not in _visible(page), code


def test_back_up_now_with_a_bad_kind_says_why(client: TestClient, world: dict[str, User]) -> None:
    csrf = _signed_in(client, "admin")
    refused = client.post(PAGE, data={"csrf_token": csrf, "kind": "hourly"})
    assert refused.status_code == 422 and 'id="err-kind"' in refused.text


def test_backup_actions_read_in_words_in_the_audit_log() -> None:
    zh = Words("zh_CN", ZoneInfo("Asia/Shanghai"))
    for action in ("made", "verified", "verify_failed", "restored", "deleted", "policy_changed"):
        assert zh.action(f"backup.{action}")[0] != "其他操作", action
    assert zh.action("backup.policy_changed") == ("修改备份保留策略", None)
    name = "custinfo-20260701T013000Z-daily.cibackup"
    assert zh.target("backup", name) == f"备份 {name}"
    assert zh.target("backup_policy", None) == "备份保留策略"
    made = zh.notes("backup.made", {"kind": "daily", "size_bytes": 5 * 1024 * 1024, "rows": 1200})
    assert made == [("备份类型", "每日备份"), ("大小", "5.00 MB"), ("行数", "1200")]
    failed = zh.notes(
        "backup.verify_failed", {"failure": "backup.failure.checksum", "part": "database.sqlite3"}
    )
    assert failed == [("原因", "数据部分 database.sqlite3 的校验和与清单不符")]
    restored = dict(
        zh.notes(
            "backup.restored",
            {
                "made_at": "2026-07-01T01:30:00+00:00",
                "rows": 9,
                "from_revision": "0017_backups",
                "migrated": False,
            },
        )
    )
    assert restored == {
        "备份制作时间": "2026-07-01 09:30",
        "行数": "9",
        "备份时的数据库结构版本": "0017",
        "已升级数据库结构": "否",
    }
    en = Words("en", ZoneInfo("Asia/Shanghai"))
    assert en.notes("backup.deleted", {"kind": "monthly"}) == [("Kind", "Monthly")]
    for field in ("keep_daily", "keep_weekly", "keep_monthly", "run_at"):
        assert zh.field(field) != "其他" and en.field(field) != "Other", field
