"""No internal codes on any screen: a browser walks every page of every role on seeded demo data.

The demo (customers with tags, orders, contracts, interactions) is loaded by the real console script;
then the users make the records the other pages show (access requests decided and pending, tag
proposals, a reveal, an edit, a failed sign-in, a field-level change). Each of the seven roles signs
in, lands on its home page and follows every same-site link of the navigation and of each page it
reaches (GET only, bounded: a few pages per URL shape), and the visible text of each page is checked
for internal codes: snake_case words, raw JSON, `\\u` escapes, ISO timestamps, server errors; a 403
reached from a navigation link fails too (the menu offers only what the role may open).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections import Counter, deque
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx
import pytest
from tests.e2e.test_browser import CHROMIUM_ARGS, chromium, serving  # noqa: F401  (the fixture)

from custinfo.app import create_app
from custinfo.config import Settings
from custinfo.core.db import make_engine
from custinfo.demo.generator import DEMO_USERS

pytestmark = pytest.mark.browser

PASSWORD = "Walk2026-pass"
CUSTINFO = Path(sys.executable).parent / "custinfo"
ROLES = {
    "admin": "admin",
    "data_steward": "steward",
    "auditor": "auditor",
    "marketing": "marketing",
    "dept_head": "head_east",
    "sales": "sales_east1",
    "service": "service1",
}
USERNAMES = sorted((u.username for u in DEMO_USERS), key=len, reverse=True)
PER_SHAPE = 1  # pages visited per URL shape: the path with numbers as {n}, the query's names
SHAPE_VALUES = frozenset({"tab", "status", "kind", "mode", "mine"})  # query values that choose another view
MAX_PAGES = 80  # per role
SKIP = re.compile(r"^/(logout|lang/|static/|api/)|\.(csv|xlsx|json)$|/export|/download")
# The tag catalogue's 「显示内部代码」 view: a steward's explicit request to see the codes rules use, labelled so.
SHOWS_CODES_ON_REQUEST = re.compile(r"(^|&)codes=true(&|$)")

CHECKS = {
    "snake_case": re.compile(r"(?<![A-Za-z0-9_@/-])[a-z]+_[a-z_]+(?![A-Za-z0-9_@])"),
    "dotted code": re.compile(r"(?<![\w@/.-])[a-z]+\.[a-z][a-z_]*(?![\w@.])"),
    "raw JSON": re.compile(r"\{\""),
    "\\u escape": re.compile(r"\\u[0-9a-fA-F]{4}"),
    "ISO timestamp": re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}"),
}
EMAIL = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+")


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The demo loaded by the console script, served, with the records the other pages show made by the users."""
    data_dir = tmp_path_factory.mktemp("no-codes")
    env = {k: v for k, v in os.environ.items() if not k.startswith("CUSTINFO_")}
    keys, anchor = data_dir / "keys.json", data_dir / "anchor.jsonl"
    env.update(
        CUSTINFO_DATA_DIR=str(data_dir),
        CUSTINFO_KEY_FILE=str(keys),
        CUSTINFO_AUDIT_ANCHOR_FILE=str(anchor),
        COLUMNS="200",
    )
    args = ["demo", "--customers", "60", "--no-serve", "--seed", "7", "--demo-password", PASSWORD]
    result = subprocess.run(
        [str(CUSTINFO), *args],
        cwd=data_dir,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    database_url = (
        f"sqlite:///{data_dir / 'custinfo.db'}"  # where the console script put it, whatever the env says
    )
    settings = Settings(
        environment="test",
        data_dir=data_dir,
        database_url=database_url,
        key_file=keys,
        audit_anchor_file=anchor,
    )
    engine = make_engine(settings.effective_database_url)
    with serving(create_app(settings, engine=engine)) as url:
        _make_records(url)
        yield url
    engine.dispose()


def _make_records(base: str) -> None:
    """What a few days of use leave behind: requests, decisions, proposals, a reveal, an edit, a failed sign-in."""
    with httpx.Client(base_url=f"{base}/api/v1", timeout=30) as api:

        def headers(username: str) -> dict[str, str]:
            response = api.post("/auth/token", data={"username": username, "password": PASSWORD})
            assert response.status_code == 200, response.text
            return {"Authorization": f"Bearer {response.json()['access_token']}"}

        def ok(response: httpx.Response) -> dict[str, Any]:
            assert response.status_code < 300, response.text
            return dict(response.json())

        sales, sales2, head, admin, steward = (
            headers(u) for u in ("sales_east1", "sales_east2", "head_east", "admin", "steward")
        )
        api.post("/auth/token", data={"username": "sales_east1", "password": "wrong-password-1"})
        l2 = ok(
            api.post(
                "/access-requests",
                json={"target": "level", "level": "L2", "reason": "核对联系人"},
                headers=sales,
            )
        )
        l3 = ok(
            api.post(
                "/access-requests",
                json={"target": "level", "level": "L3", "reason": "核验身份"},
                headers=sales,
            )
        )
        ok(
            api.post(
                "/access-requests",
                json={"target": "level", "level": "L2", "reason": "回访准备"},
                headers=sales2,
            )
        )
        ok(api.post(f"/access-requests/{l2['id']}/approve", json={"comment": "同意"}, headers=head))
        ok(api.post(f"/access-requests/{l3['id']}/reject", json={"comment": "不需要"}, headers=admin))

        people = ok(api.get("/customers", params={"kind": "individual", "size": 5}, headers=admin))["items"]
        api.get(f"/customers/{people[0]['id']}/reveal", params={"field": "mobile"}, headers=admin)
        own = ok(api.get("/customers", params={"size": 1}, headers=sales))["items"][0]
        ok(
            api.patch(
                f"/customers/{own['id']}",
                json={"version": own["version"], "name": own["name"] + "（华东）"},
                headers=sales,
            )
        )

        tag = {
            "code": "green_buyer",
            "category": "preference",
            "name_zh": "绿色采购",
            "name_en": "Green buyer",
        }
        first = ok(
            api.post(
                "/proposals",
                json={"kind": "new_tag", "reason": "环保需求上升", "payload": tag},
                headers=steward,
            )
        )
        ok(api.post(f"/proposals/{first['id']}/approve", json={"comment": "同意"}, headers=head))
        other = {**tag, "code": "export_buyer", "name_zh": "出口采购", "name_en": "Export buyer"}
        ok(
            api.post(
                "/proposals",
                json={"kind": "new_tag", "reason": "出口业务", "payload": other},
                headers=steward,
            )
        )

        catalogue = ok(api.get("/field-levels", headers=admin))["document"]
        catalogue["grant_days"] = int(catalogue.get("grant_days") or 7) + 1
        ok(api.put("/field-levels", json={"document": catalogue, "reason": "延长授权期"}, headers=admin))


def _shape(url: str) -> str:
    parts = urlsplit(url)
    pairs = [pair.split("=", 1) for pair in parts.query.split("&") if pair]
    query = "&".join(
        sorted(p[0] + ("=" + p[1] if p[0] in SHAPE_VALUES and len(p) > 1 else "") for p in pairs)
    )
    path = re.sub(r"/tags/[^/]+", "/tags/{code}", parts.path)  # one member page stands for every tag's
    return re.sub(r"\d+", "{n}", path + ("?" + query if query else ""))


def _findings(text: str) -> list[tuple[str, str]]:
    cleaned = EMAIL.sub(" ", text)
    for username in USERNAMES:  # account names are data the users chose, not internal codes
        cleaned = cleaned.replace(username, " ")
    found = []
    for name, pattern in CHECKS.items():
        for match in pattern.finditer(cleaned):
            start = max(match.start() - 30, 0)
            found.append((name, cleaned[start : match.end() + 30].replace("\n", " ")))
    return found


def walk(page: Any, base: str, username: str) -> tuple[list[str], int]:
    """Sign in as `username`, walk from the landing page; (failures, pages seen)."""
    page.context.clear_cookies()
    page.goto(f"{base}/login")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state("networkidle")
    landing = urlsplit(page.url).path
    failures: list[str] = [] if landing == "/home" else [f"{username}: landed on {landing}, not /home"]
    queue: deque[tuple[str, bool]] = deque([(f"{base}/home", True)])
    seen: set[str] = set()
    shapes: Counter[str] = Counter()
    while queue and len(seen) < MAX_PAGES:
        url, from_nav = queue.popleft()
        if url in seen or shapes[_shape(url)] >= PER_SHAPE:
            continue
        seen.add(url)
        shapes[_shape(url)] += 1
        response = page.goto(url)
        page.wait_for_load_state("networkidle")
        status = response.status if response else 0
        path = urlsplit(url).path + (f"?{urlsplit(url).query}" if urlsplit(url).query else "")
        if status >= 500:
            failures.append(f"{username} {path}: HTTP {status}")
        if status == 403 and from_nav:
            failures.append(f"{username} {path}: 403 from a navigation link")
        for kind, snippet in _findings(page.inner_text("body")):
            failures.append(f"{username} {path}: {kind}: …{snippet}…")
        nav_links = set(
            page.eval_on_selector_all(
                ".app-sidebar a[href], .class-subnav a[href], .app-topbar a[href]",
                "els => els.map(e => e.href)",
            )
        )
        for href in page.eval_on_selector_all("a[href]", "els => els.map(e => e.href)"):
            target = urljoin(url, href).split("#", 1)[0]
            parts = urlsplit(target)
            if f"{parts.scheme}://{parts.netloc}" != base or SKIP.search(parts.path):
                continue
            if SHOWS_CODES_ON_REQUEST.search(parts.query):
                continue
            if target not in seen:
                queue.append((target, href in nav_links))
    print(f"{username}: {len(seen)} pages", " ".join(sorted(shapes)))
    return failures, len(seen)


# Every role in Chinese; the two with the most pages once more in English. One case each, so that
# test workers share the walk (the demo site is built once per worker).
WALKS = [("zh-CN", username) for username in ROLES.values()] + [("en-US", "admin"), ("en-US", "auditor")]


@pytest.mark.parametrize(("locale", "username"), WALKS)
def test_no_internal_codes_on_any_page_of_any_role(
    chromium: Path,  # noqa: F811
    site: str,
    locale: str,
    username: str,
) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(chromium), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(locale=locale)
            failures, pages = walk(page, site, username)
        finally:
            browser.close()
    assert pages >= 3, f"{username} reached only {pages} pages"
    assert not failures, f"{len(failures)} findings:\n" + "\n".join(sorted(set(failures)))


def test_the_checks_catch_what_they_must() -> None:
    assert [k for k, _ in _findings("状态 changes_requested")] == ["snake_case"]
    assert [k for k, _ in _findings("字段 customer.mobile")] == ["dotted code"]
    assert [k for k, _ in _findings('{"a": 1}')] == ["raw JSON"]
    assert [k for k, _ in _findings("名称 \\u5ba2")] == ["\\u escape"]
    assert [k for k, _ in _findings("时间 2026-12-01T01:30:00+00:00")] == ["ISO timestamp"]
    assert _findings("操作人 sales_east1 邮箱 wang_lei@example.com 2026-12-01 09:30") == []
    assert _shape("http://x/customers/12?tab=orders&page=3") == "/customers/{n}?page&tab=orders"
    assert _shape("http://x/customers?tag=vip") == _shape("http://x/customers?tag=value_high")
    assert _shape("http://x/classification/tags/vip") == _shape("http://x/classification/tags/value_high")
