"""Classification screens through real HTTP: catalogue, rule editor + preview, review queue, runs, report,
quality, corrections and the tags tab of the 360 page; sign-in, CSRF and rights on each."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from tests.factories import DEFAULT_PASSWORD, make_customer, make_order
from tests.web.test_pages import csrf_of, sign_in

from custinfo.auth.models import User
from custinfo.classification import service as classification
from custinfo.classification.governance.models import Proposal, TagCorrection, TagUsage
from custinfo.classification.models import TagAssignment
from custinfo.jobs import runner

SignIn = Callable[[str], TestClient]
PAGES = [
    "/classification/tags",
    "/classification/tags/value_high",
    "/classification/versions",
    "/classification/proposals",
    "/classification/runs",
    "/classification/report",
    "/classification/quality",
    "/classification/corrections",
    "/classification/rules",
]


@pytest.fixture
def signed_in(client: TestClient, world: dict[str, User]) -> SignIn:
    def _sign_in(username: str) -> TestClient:
        client.cookies.clear()
        assert sign_in(client, username).status_code == 303
        return client

    return _sign_in


@pytest.fixture
def steady(session: Session, world: dict[str, User]) -> int:
    """450,000 yuan a year without growth: ordinary now, high value if the bar drops to 400,000."""
    today = date.today()
    customer = make_customer(session, world["sales_east1"], name="稳定机械有限公司")
    make_order(session, customer, ordered_on=today - timedelta(days=30), amount=Decimal("225000.00"))
    make_order(session, customer, ordered_on=today - timedelta(days=250), amount=Decimal("225000.00"))
    classification.run_full(session)
    session.commit()
    return customer.id


def open_tags(session: Session, customer_id: int) -> set[str]:
    stmt = select(TagAssignment.tag_code).where(
        TagAssignment.customer_id == customer_id, TagAssignment.valid_to.is_(None)
    )
    return set(session.scalars(stmt))


def test_pages_need_sign_in(client: TestClient) -> None:
    for page in PAGES:
        response = client.get(page, follow_redirects=False)
        assert response.status_code == 303 and response.headers["location"].startswith("/login"), page


def test_steward_sees_every_page(signed_in: SignIn, steady: int) -> None:
    client = signed_in("steward")
    for page in PAGES:
        response = client.get(page)
        assert response.status_code == 200, (page, response.text[:500])
    catalogue = client.get("/classification/tags").text
    assert "标签目录" in catalogue and "高价值" in catalogue and "提议新增标签" in catalogue
    assert 'href="/classification/tags/value_high"' in catalogue
    assert "分类与标签" in client.get("/customers").text  # navigation entry


def test_rights_on_pages(signed_in: SignIn, steady: int) -> None:
    sales = signed_in("sales_east1")
    assert sales.get("/classification/tags").status_code == 200
    assert sales.get("/classification/report").status_code == 200
    for page in ("/classification/rules", "/classification/quality", "/classification/proposals"):
        assert sales.get(page).status_code == 403, page
    token = csrf_of(sales.get("/classification/tags").text)
    assert sales.post("/classification/runs", data={"csrf_token": token}).status_code == 403
    auditor = signed_in("auditor")
    assert auditor.get("/classification/quality").status_code == 200
    assert "本期复核已完成" not in auditor.get("/classification/quality").text


def test_csrf_is_required(signed_in: SignIn) -> None:
    client = signed_in("steward")
    assert client.post("/classification/runs", data={}).status_code == 403
    assert client.post("/classification/rules/preview", data={"r.value.high": "1"}).status_code == 403


def test_edit_preview_submit_approve(
    signed_in: SignIn, session: Session, session_factory: sessionmaker[Session], steady: int
) -> None:
    client = signed_in("steward")
    editor = client.get("/classification/rules").text
    assert "预览影响" in editor and "提交审批" in editor and 'name="r.value.high"' in editor
    token = csrf_of(editor)
    form = {"csrf_token": token, "r.value.high": "400000.00", "as_of": date.today().isoformat()}
    preview = client.post(
        "/classification/rules/preview",
        data=form,
        headers={"HX-Request": "true", "HX-Target": "rule-preview"},
    )
    assert preview.status_code == 200 and "<html" not in preview.text
    row = re.search(r'data-impact-tag="value_high".*?impact-entering">\+(\d+)<', preview.text, re.S)
    assert row and row.group(1) == "1"
    assert "稳定机械有限公司" in preview.text  # the sample

    bad = client.post(
        "/classification/rules/preview",
        data={**form, "r.value.high": "很多"},
        headers={"HX-Request": "true", "HX-Target": "rule-preview"},
    )
    assert bad.status_code == 422 and "应为数字" in bad.text

    missing_reason = client.post("/classification/rules/propose", data=form)
    assert missing_reason.status_code == 422 and "必填" in missing_reason.text
    submitted = client.post(
        "/classification/rules/propose", data={**form, "reason": "门槛下调"}, follow_redirects=False
    )
    assert submitted.status_code == 303
    detail_url = submitted.headers["location"].split("?")[0]
    detail = client.get(detail_url).text
    assert (
        "待审批" in detail
        and "500,000.00" in detail
        and "400,000.00" in detail
        and 'id="approve-button"' not in detail
    )
    assert "value_high" not in open_tags(session, steady)

    reviewer = signed_in("head_east")
    queue = reviewer.get("/classification/proposals").text
    assert detail_url in queue
    page = reviewer.get(detail_url).text
    assert 'id="approve-button"' in page
    approved = reviewer.post(
        detail_url + "/approve", data={"csrf_token": csrf_of(page), "comment": "同意"}, follow_redirects=False
    )
    assert approved.status_code == 303 and approved.headers["location"].startswith("/jobs/runs/")
    queued = reviewer.get(approved.headers["location"]).text  # the reviewer follows the queued re-tag
    assert "提案已批准并生效" in queued and "排队中" in queued and 'hx-trigger="every 2s"' in queued
    assert "value_high" not in open_tags(session, steady)
    runner.run_queued(session_factory)
    done = reviewer.get(approved.headers["location"].split("?")[0] + "/progress").text
    assert "已完成" in done and "/classification/runs/" in done and "hx-trigger" not in done
    assert "已批准" in reviewer.get(detail_url).text and "同意" in reviewer.get(detail_url).text
    session.expire_all()
    assert "value_high" in open_tags(session, steady)


def test_reject_needs_a_comment_and_request_changes(
    signed_in: SignIn, session: Session, world: dict[str, User]
) -> None:
    customer = make_customer(session, world["sales_east1"])
    session.commit()
    steward = signed_in("steward")
    tab = steward.get(f"/customers/{customer.id}?tab=tags").text
    assert "提议人工标签" in tab
    proposed = steward.post(
        f"/classification/customers/{customer.id}/manual",
        data={"csrf_token": csrf_of(tab), "tag_code": "vip", "add": "true", "reason": "年度大客户"},
        headers={"HX-Request": "true", "HX-Target": "tab-pane"},
    )
    assert proposed.status_code == 200 and "人工标签提议已提交审批" in proposed.text
    proposal = session.scalars(select(Proposal).where(Proposal.customer_id == customer.id)).one()

    reviewer = signed_in("head_east")
    url = f"/classification/proposals/{proposal.id}"
    token = csrf_of(reviewer.get(url).text)
    refused = reviewer.post(f"{url}/reject", data={"csrf_token": token, "comment": ""})
    assert refused.status_code == 422 and "必填" in refused.text
    back = reviewer.post(f"{url}/request-changes", data={"csrf_token": token, "comment": "请补充合同依据"})
    assert back.status_code == 200 and "已退回修改" in back.text

    steward = signed_in("steward")
    page = steward.get(url).text
    assert "修改后重新提交" in page
    steward.post(
        f"{url}/resubmit",
        data={"csrf_token": csrf_of(page), "reason": "年度大客户，合同 2026-018", "comment": "已补充"},
    )
    session.expire_all()
    assert session.get(Proposal, proposal.id).status == "pending"  # type: ignore[union-attr]
    reviewer = signed_in("head_east")
    reviewer.post(f"{url}/approve", data={"csrf_token": csrf_of(reviewer.get(url).text)})
    session.expire_all()
    assert "vip" in open_tags(session, customer.id)
    tab = reviewer.get(f"/customers/{customer.id}?tab=tags").text
    assert "VIP客户" in tab and "人工" in tab


def test_mark_wrong_and_resolve(signed_in: SignIn, session: Session, steady: int) -> None:
    sales = signed_in("sales_east1")
    tab = sales.get(f"/customers/{steady}?tab=tags").text
    assert "标记错误" in tab and "规则版本 v" in tab and "→ 低频购买" in tab  # the why, no rule id
    reported = sales.post(
        f"/classification/customers/{steady}/corrections",
        data={"csrf_token": csrf_of(tab), "tag_code": "value_ordinary", "reason": "其实是长期大客户"},
        follow_redirects=False,
    )
    assert reported.status_code == 303
    assert "已报告错误" in sales.get(f"/customers/{steady}?tab=tags").text
    empty = sales.post(
        f"/classification/customers/{steady}/corrections",
        data={"csrf_token": csrf_of(tab), "tag_code": "frequency_low", "reason": ""},
    )
    assert empty.status_code == 422

    steward = signed_in("steward")
    quality = steward.get("/classification/quality").text
    assert "其实是长期大客户" in quality and "季度复核" in quality
    correction = session.scalars(select(TagCorrection)).one()
    done = steward.post(
        f"/classification/corrections/{correction.id}/resolve",
        data={
            "csrf_token": csrf_of(quality),
            "decision": "accepted",
            "outcome": "rule_fix",
            "note": "调整年额口径",
        },
        follow_redirects=False,
    )
    assert done.status_code == 303
    assert "已采纳" in steward.get("/classification/corrections").text


def test_run_now_versions_and_report(
    signed_in: SignIn, session_factory: sessionmaker[Session], steady: int
) -> None:
    client = signed_in("steward")
    token = csrf_of(client.get("/classification/runs").text)
    ran = client.post("/classification/runs", data={"csrf_token": token}, follow_redirects=False)
    assert ran.status_code == 303 and ran.headers["location"].startswith("/jobs/runs/")
    assert "任务已排队" in client.get(ran.headers["location"]).text
    runner.run_queued(session_factory)
    link = re.search(r'href="(/classification/runs/\d+)"', client.get(ran.headers["location"]).text)
    assert link, "the finished job links to its classification run"
    assert "运行前" in client.get(link.group(1)).text
    versions = client.get("/classification/versions?a=1&b=1").text
    assert "两个版本相同" in versions and "v1" in versions
    report = client.get("/classification/report").text
    assert 'id="report-heatmap"' in report and "/static/classification.js" in report
    assert client.get("/static/classification.js").status_code == 200


def test_english_labels(signed_in: SignIn) -> None:
    client = signed_in("steward")
    assert "Tag catalogue" in client.get("/classification/tags?lang=en").text


def test_revise_a_sent_back_rule_change_in_the_editor(
    signed_in: SignIn, session: Session, steady: int
) -> None:
    steward = signed_in("steward")
    token = csrf_of(steward.get("/classification/rules").text)
    form = {"csrf_token": token, "r.value.high": "400000.00", "reason": "门槛下调"}
    url = steward.post("/classification/rules/propose", data=form, follow_redirects=False).headers["location"]
    url = url.split("?")[0]
    reviewer = signed_in("head_east")
    reviewer.post(
        f"{url}/request-changes",
        data={"csrf_token": csrf_of(reviewer.get(url).text), "comment": "改为 45 万"},
    )

    steward = signed_in("steward")
    assert 'id="revise-in-editor"' in steward.get(url).text
    proposal_id = url.rsplit("/", 1)[1]
    editor_page = steward.get(f"/classification/rules?proposal={proposal_id}").text
    assert 'value="400000.00"' in editor_page and 'name="proposal_id"' in editor_page
    revised = steward.post(
        "/classification/rules/propose",
        data={
            **form,
            "csrf_token": csrf_of(editor_page),
            "r.value.high": "450000.00",
            "proposal_id": proposal_id,
            "comment": "已改为 45 万",
        },
        follow_redirects=False,
    )
    assert revised.status_code == 303 and revised.headers["location"].startswith(url)
    proposal = session.get(Proposal, int(proposal_id))
    session.refresh(proposal)
    assert proposal is not None and proposal.status == "pending" and proposal.revision == 2
    rule = next(r for r in proposal.payload["definition"]["rules"] if r["id"] == "value.high")
    assert rule["when"]["value"] == "450000.00"


def test_customer_list_shows_and_filters_by_code_and_tag(
    signed_in: SignIn, session: Session, world: dict[str, User], steady: int
) -> None:
    other = make_customer(session, world["sales_east1"], name="空白贸易有限公司", industry="批发和零售业")
    classification.run_full(session)
    session.commit()
    codes = classification.codes_of(session, [steady, other.id])
    steady_code = codes[steady]
    assert steady_code and steady_code != codes[other.id]
    client = signed_in("sales_east1")
    page = client.get("/customers")
    assert page.status_code == 200 and steady_code in page.text and "分类编码" in page.text
    by_code = client.get("/customers", params={"classification_code": steady_code}).text
    assert "稳定机械有限公司" in by_code and "空白贸易有限公司" not in by_code
    tag = next(iter(open_tags(session, steady) - open_tags(session, other.id)))
    by_tag = client.get("/customers", params={"tag": tag}).text
    assert "稳定机械有限公司" in by_tag and "空白贸易有限公司" not in by_tag
    usage = session.scalar(select(func.count()).select_from(TagUsage).where(TagUsage.tag_code == tag))
    assert usage == 1


def test_admin_changes_governance_settings_on_the_web(signed_in: SignIn) -> None:
    assert signed_in("sales_east1").get("/classification/settings").status_code == 403
    admin = signed_in("admin")
    page = admin.get("/classification/settings")
    assert page.status_code == 200 and "治理设置" in page.text and 'value="91"' in page.text
    form = {
        "csrf_token": csrf_of(page.text),
        "reviewer_role_marketing": "on",
        "quality_review_cadence_days": "3",
        "quality_review_due_soon_days": "14",
        "churn_window_days": "91",
        "anomaly_swallow_share": "0.9",
        "anomaly_flip_share": "0.2",
    }
    refused = admin.post("/classification/settings", data=form, follow_redirects=False)
    assert refused.status_code == 422 and "应在 7 到 730 之间" in refused.text
    saved = admin.post(
        "/classification/settings", data={**form, "quality_review_cadence_days": "60"}, follow_redirects=False
    )
    assert saved.status_code == 303
    shown = admin.get(saved.headers["location"])
    assert "治理设置已保存" in shown.text and 'value="60"' in shown.text
    assert 'id="role-marketing" checked' in shown.text


def test_preview_needs_the_same_permission_on_the_web_and_the_api(
    signed_in: SignIn, client: TestClient, steady: int
) -> None:
    for username, allowed in (
        ("steward", True),
        ("admin", False),
        ("head_east", False),
        ("sales_east1", False),
    ):
        web = signed_in(username)
        token = csrf_of(web.get("/classification/tags").text)
        on_web = web.post(
            "/classification/rules/preview", data={"csrf_token": token, "r.value.high": "400000.00"}
        )
        web.cookies.clear()
        api_token = client.post(
            "/api/v1/auth/token", data={"username": username, "password": DEFAULT_PASSWORD}
        ).json()["access_token"]
        headers = {"Authorization": f"Bearer {api_token}"}
        definition = client.get("/api/v1/rules", headers=headers).json()["definition"]
        on_api = client.post("/api/v1/rules/preview", headers=headers, json={"definition": definition})
        assert (on_web.status_code == 200) is allowed, (username, on_web.status_code)
        assert (on_api.status_code == 200) is allowed, (username, on_api.status_code)
        assert on_web.status_code == on_api.status_code
