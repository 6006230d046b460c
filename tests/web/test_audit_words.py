"""The audit log page in words: actions, objects, details, times in the configured zone, filters."""

from __future__ import annotations

import re
from zoneinfo import ZoneInfo

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session
from tests.factories import make_customer
from tests.web.test_pages import sign_in

from custinfo.audit.web import Words
from custinfo.auth.models import User
from custinfo.core.uow import Actor, record
from custinfo.protection.events import AccessDecided, SensitiveFieldRead

SHANGHAI = ZoneInfo("Asia/Shanghai")


def test_actions_objects_and_values_in_words() -> None:
    zh = Words("zh_CN", SHANGHAI)
    assert zh.action("order.update") == ("修改订单", "update")
    assert zh.action("customer.create") == ("新建客户档案", "create")
    assert zh.action("login.failed") == ("登录失败", None)
    assert zh.action("something_new.happened") == ("其他操作", None)  # never the raw code
    assert zh.target("field_level", "customer.mobile") == "字段分级 · 客户档案 · 手机号"
    assert zh.target("access_request", "7") == "访问申请 #7"
    assert zh.target("grant_days", None) == "授权天数"
    assert zh.value("2026-12-01T01:30:00+00:00") == "2026-12-01 09:30"
    assert zh.value(True) == "是" and zh.value("approved") == "批准"
    en = Words("en", SHANGHAI)
    assert en.action("contract.delete") == ("Deleted contract", "delete")


def test_every_audited_action_of_issue_10_reads_in_words() -> None:
    zh, en = Words("zh_CN", SHANGHAI), Words("en", SHANGHAI)
    actions = [
        *(f"user.{a}" for a in ("created", "updated", "disabled", "enabled", "unlocked")),
        *(f"user.{a}" for a in ("password_reset", "password_changed", "password_set")),
        "department.created", "department.updated", "token.created", "token.revoked",
        "contract.renewed", "contract.terminated", "configuration_changed", "engagement_recorded",
        *(f"product_category.{a}" for a in ("created", "updated", "retired", "seeded")),
    ]  # fmt: skip
    for action in actions:
        assert zh.action(action)[0] != "其他操作", action
        assert en.action(action)[0] != en.t("audit.action.other"), action
    assert zh.action("contract.renewed") == ("续签合同", None)
    for entity in ("vocabulary", "product_category", "token", "department", "user"):
        assert zh.entity(entity) != zh.t("audit.entity.other"), entity
    # Named objects read by their own name, not as "其他".
    assert zh.target("product_category", "传感器") == f"{zh.entity('product_category')} 传感器"
    assert zh.target("backup", "custinfo-20261208T013000Z-daily.cibackup").endswith("-daily.cibackup")


def test_event_details_as_labelled_lines() -> None:
    zh = Words("zh_CN", SHANGHAI)
    notes = dict(
        zh.notes(
            "access_decided",
            {"request_id": 3, "decision": "approved", "expires_at": "2026-12-08T16:00:00+00:00"},
        )
    )
    assert notes == {"审批结果": "批准", "授权到期": "2026-12-09 00:00"}
    read = dict(
        zh.notes(
            "sensitive_read",
            {"customer_id": 1, "fields": ["mobile", "id_number"], "level": "L3", "purpose": "reveal"},
        )
    )
    assert read == {"字段": "手机号、身份证号", "级别": "L3", "用途": "点击查看明文"}
    login = dict(
        zh.notes(
            "login.failed", {"username": "x", "succeeded": False, "channel": "web", "reason": "auth.locked"}
        )
    )
    assert login["登录方式"] == "网页" and "锁定" in login["原因"]


def test_auditor_reads_the_log_in_words(client: TestClient, session: Session, world: dict[str, User]) -> None:
    session.info["actor"] = Actor("sales_east1", role="sales", address="10.0.0.7")
    customer = make_customer(session, world["sales_east1"], kind="individual", name="客户甲")
    record(
        session, SensitiveFieldRead(customer_id=customer.id, fields=("mobile",), level="L2", purpose="reveal")
    )
    record(session, AccessDecided(request_id=9, decision="rejected"))
    session.commit()
    assert sign_in(client, "auditor").status_code == 303
    page = client.get("/audit")
    assert page.status_code == 200
    text = re.sub(r"<[^>]+>", " ", page.text.split("<main", 1)[1])
    for words in ("新建客户档案", "查看敏感信息明文", "审批访问申请", "驳回", "点击查看明文", "登录成功"):
        assert words in text, words
    for code in ("customer.create", "sensitive_read", "access_decided", '{"', "\\u"):
        assert code not in text, code
    assert not re.search(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}", text)
    only_logins = client.get("/audit", params={"action": "login"}).text
    assert "登录成功" in only_logins and "新建客户档案" not in only_logins
    assert '<option value="login" selected>' in only_logins
    assert client.get("/audit", params={"since": "2026-02-30"}).status_code == 422


def test_audit_page_is_for_auditors_and_admins(client: TestClient, world: dict[str, User]) -> None:
    response = client.get("/audit", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"].startswith("/login")
    assert sign_in(client, "sales_east1").status_code == 303
    assert client.get("/audit").status_code == 403
    client.cookies.clear()
    assert sign_in(client, "admin").status_code == 303
    assert client.get("/audit").status_code == 200
