"""Accounts hardening: lock-out per account and per address, token scopes, revocation, password policy, log hygiene."""

from __future__ import annotations

import json
import logging
from datetime import date

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session
from tests.factories import DEFAULT_PASSWORD

from custinfo.audit import chain
from custinfo.audit.models import AuditEntry
from custinfo.auth.deps import forwarded_client
from custinfo.auth.models import User
from custinfo.auth.service import MAX_FAILED_PER_ADDRESS, create_user, set_active
from custinfo.config import Settings
from custinfo.core.errors import Invalid
from custinfo.customers.identifiers import make_id_number
from custinfo.security.logs import DropQueryString
from custinfo.security.passwords import password_problems

ID_NUMBER = make_id_number("510104", date(1988, 2, 29), 41)
TOKEN = "/api/v1/auth/token"


def _token(client: TestClient, username: str, password: str = DEFAULT_PASSWORD, **extra: str):  # type: ignore[no-untyped-def]
    return client.post(TOKEN, data={"username": username, "password": password, **extra})


def test_account_lockout_after_five_failures(client: TestClient, world: dict[str, User]) -> None:
    for _ in range(5):
        assert _token(client, "sales_east2", "wrong-password-1").status_code == 401
    locked = _token(client, "sales_east2")
    assert locked.status_code == 401 and "auth.locked" not in locked.text  # the message, not the key
    assert "locked" in client.post(TOKEN, data={"username": "sales_east2", "password": DEFAULT_PASSWORD},
                                   headers={"Accept-Language": "en"}).json()["detail"]  # fmt: skip
    assert _token(client, "sales_east1").status_code == 200  # other accounts are unaffected


def test_address_throttling_spans_accounts(client: TestClient, world: dict[str, User]) -> None:
    names = [f"nobody{i}" for i in range(MAX_FAILED_PER_ADDRESS)]
    for name in names:  # unknown accounts: no per-account lock could ever trigger
        assert _token(client, name, "wrong-password-1").status_code == 401
    throttled = client.post(
        TOKEN,
        data={"username": "sales_east1", "password": DEFAULT_PASSWORD},
        headers={"Accept-Language": "en"},
    )
    assert throttled.status_code == 401
    assert "from your address" in throttled.json()["detail"]


def test_web_login_records_success_and_failure(client: TestClient, login, world: dict[str, User]) -> None:  # type: ignore[no-untyped-def]
    from tests.web.test_pages import sign_in

    assert sign_in(client, "sales_east1", "wrong-password-1").status_code == 401
    client.cookies.clear()
    assert sign_in(client, "sales_east1").status_code == 303
    entries = client.get("/api/v1/audit", params={"actor": "sales_east1"}, headers=login("auditor")).json()
    actions = [(e["action"], e["details"]["channel"]) for e in entries["items"]]
    assert ("login.failed", "web") in actions and ("login.succeeded", "web") in actions
    assert all("password" not in str(e["details"]).lower() for e in entries["items"])


def test_read_scope_token_cannot_write(client: TestClient, world: dict[str, User]) -> None:
    read_only = _token(client, "sales_east1", scope="read").json()["access_token"]
    headers = {"Authorization": f"Bearer {read_only}"}
    assert client.get("/api/v1/customers", headers=headers).status_code == 200
    body = {"kind": "individual", "name": "孙九", "source_channel": "visit", "purpose": "sales_service"}
    refused = client.post("/api/v1/customers", json=body, headers=headers)
    assert refused.status_code == 403
    full = _token(client, "sales_east1", scope="read write").json()["access_token"]
    assert (
        client.post("/api/v1/customers", json=body, headers={"Authorization": f"Bearer {full}"}).status_code
        == 201
    )
    default = _token(client, "sales_east1").json()["access_token"]  # no scope: everything, as before
    body["name"] = "孙十"
    assert (
        client.post(
            "/api/v1/customers", json=body, headers={"Authorization": f"Bearer {default}"}
        ).status_code
        == 201
    )


def test_unknown_scope_is_422(client: TestClient, world: dict[str, User]) -> None:
    response = _token(client, "sales_east1", scope="read admin")
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "scope"


def test_admin_revokes_sessions_and_disabling_revokes(
    client: TestClient, login, session: Session, world
) -> None:  # type: ignore[no-untyped-def]
    victim = login("sales_east1")
    assert client.get("/api/v1/auth/me", headers=victim).status_code == 200
    assert client.post("/api/v1/auth/users/sales_east1/revoke-sessions", headers=victim).status_code == 403
    assert (
        client.post("/api/v1/auth/users/sales_east1/revoke-sessions", headers=login("admin")).status_code
        == 204
    )
    assert client.get("/api/v1/auth/me", headers=victim).status_code == 401
    fresh = _token(client, "sales_east2").json()["access_token"]
    set_active(session, world["sales_east2"], False)
    session.commit()
    assert client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {fresh}"}).status_code == 401


@pytest.mark.parametrize(
    ("password", "username", "rules"),
    [
        ("short1", None, {"password.too_short"}),
        ("onlyletters", None, {"password.letters_and_digits"}),
        ("zhangwei2026x", "zhangwei", {"password.contains_username"}),
        ("Password123", None, {"password.common"}),
        ("aaaaaaaaa1", None, {"password.weak"}),  # passes every rule above; zxcvbn scores it 1
        ("qwertyuiop1", None, {"password.weak"}),
        (" " * 10 + "1a", None, {"password.too_short", "password.whitespace"}),
        (" Qiu-tian-7-shuang", None, {"password.whitespace"}),
        ("Qiu-tian-7-shuang\t", None, {"password.whitespace", "password.characters"}),
        ("Qiu-tian-\x007-shuang", None, {"password.characters"}),
        ("Qiu-tian-7-shuang" * 8, None, {"password.too_long"}),
        ("Qiu-tian-7-shuang", "zhangwei", set()),
    ],
)
def test_password_policy(password: str, username: str | None, rules: set[str]) -> None:
    assert set(password_problems(password, username)) == rules


def test_weak_or_padded_password_and_bad_username_are_422_naming_field_and_rule(session: Session) -> None:
    with pytest.raises(Invalid) as weak:
        create_user(session, "newcomer", "aaaaaaaaa1", "sales")
    assert [(e.field, e.rule) for e in weak.value.errors] == [("password", "password.weak")]
    with pytest.raises(Invalid) as padded:
        create_user(session, "x" * 65, " " * 10 + "1a", "sales")
    assert {(e.field, e.rule) for e in padded.value.errors} == {
        ("username", "username.too_long"),
        ("password", "password.too_short"),
        ("password", "password.whitespace"),
    }
    with pytest.raises(Invalid) as control:
        create_user(session, "bad\x00name", "Qiu-tian-7-shuang", "sales")
    assert [(e.field, e.rule) for e in control.value.errors] == [("username", "username.characters")]
    user = create_user(session, " \t ｚｈａｏ２ ", "Qiu-tian-7-shuang", "sales")  # NFKC and trimmed, once
    assert user.username == "zhao2"


PADDINGS = ["\t" * 60, " " * 60, "\u3000" * 3]


@pytest.mark.parametrize("padding", PADDINGS, ids=["tabs", "spaces", "ideographic"])
def test_padded_username_counts_towards_lockout_and_keeps_the_chain_intact(
    client: TestClient, session: Session, world: dict[str, User], padding: str
) -> None:
    for _ in range(5):
        response = _token(client, f"{padding}sales_east2{padding}", "wrong-password-1")
        assert response.status_code == 401, response.text
    assert _token(client, "sales_east2").status_code == 401  # locked, although the password is right
    failed = session.scalars(select(AuditEntry).where(AuditEntry.action == "login.failed")).all()
    assert len(failed) == 6 and {e.actor for e in failed} == {"sales_east2"}
    assert chain.verify(session.connection()).ok


@pytest.mark.parametrize(
    ("username", "password"),
    [("\ud800sales_east1", "wrong-password-1"), ("sales_east1", "wrong\ud800"), ("sales\x00east1", "x\x00y")],
    ids=["surrogate-name", "surrogate-password", "nul"],
)
def test_unstorable_characters_at_sign_in_are_never_a_server_error(
    client: TestClient, session: Session, world: dict[str, User], username: str, password: str
) -> None:
    body = json.dumps({"username": username, "password": password})  # escapes a lone surrogate as \ud800
    response = client.post(TOKEN, content=body, headers={"Content-Type": "application/json"})
    # 401 from the sign-in itself, or 422 where the edge refuses control characters first; never 500.
    assert response.status_code in (401, 422), response.text
    assert chain.verify(session.connection()).ok


def test_address_throttle_holds_with_padded_and_huge_usernames(
    client: TestClient, session: Session, world: dict[str, User]
) -> None:
    for i in range(MAX_FAILED_PER_ADDRESS):
        name = "\t" * 60 + f"nobody{i}" if i % 2 else f"nobody{i}" * 100_000
        assert _token(client, name, "wrong-password-1").status_code == 401
    throttled = _token(client, "sales_east1")
    assert throttled.status_code == 401 and "auth.throttled" in str(
        session.scalars(select(AuditEntry.details).order_by(AuditEntry.seq.desc()).limit(1)).one()
    )
    entries = session.scalars(select(AuditEntry).where(AuditEntry.action == "login.failed")).all()
    assert max(len(e.actor) for e in entries) <= 64 and max(len(e.target_id or "") for e in entries) <= 64
    assert max(len(e.details["username"]) for e in entries) <= chain.TEXT_IN_DETAILS
    assert chain.verify(session.connection()).ok


def test_lockout_answer_is_the_same_for_unknown_accounts(
    client: TestClient, session: Session, world: dict[str, User]
) -> None:
    for _ in range(5):
        _token(client, "sales_east2", "wrong-password-1")
    english = {"Accept-Language": "en"}
    locked = client.post(
        TOKEN, data={"username": "sales_east2", "password": DEFAULT_PASSWORD}, headers=english
    )
    unknown = client.post(TOKEN, data={"username": "no_such_user", "password": "x"}, headers=english)
    assert locked.status_code == unknown.status_code == 401
    assert locked.json() == unknown.json()
    reasons = session.scalars(
        select(AuditEntry.details).where(AuditEntry.action == "login.failed").order_by(AuditEntry.seq)
    ).all()
    assert [r["reason"] for r in reasons[-2:]] == ["auth.locked", "auth.bad_credentials"]  # the log tells


def test_spoofed_forwarded_for_does_not_escape_the_address_throttle(
    client: TestClient, world: dict[str, User]
) -> None:
    for i in range(MAX_FAILED_PER_ADDRESS):
        spoofed = {"X-Forwarded-For": f"203.0.113.{i}"}
        assert (
            client.post(TOKEN, data={"username": f"nobody{i}", "password": "x1"}, headers=spoofed).status_code
            == 401
        )
    fresh = {"X-Forwarded-For": "198.51.100.7", "Accept-Language": "en"}
    throttled = client.post(
        TOKEN, data={"username": "sales_east1", "password": DEFAULT_PASSWORD}, headers=fresh
    )
    assert throttled.status_code == 401 and "from your address" in throttled.json()["detail"]


PROXIES = Settings(trusted_proxies="10.0.0.5, 172.16.0.0/12").trusted_proxy_networks


@pytest.mark.parametrize(
    ("peer", "header", "expected"),
    [
        ("198.51.100.9", "1.2.3.4", "198.51.100.9"),  # not a proxy: the header is ignored
        ("10.0.0.5", "1.2.3.4", "1.2.3.4"),
        ("10.0.0.5", "6.6.6.6, 1.2.3.4", "1.2.3.4"),  # the client's own spoofed entry is never reached
        ("10.0.0.5", "1.2.3.4, 172.16.3.4", "1.2.3.4"),  # past a second trusted proxy
        ("10.0.0.5", "not-an-address", "10.0.0.5"),
        ("10.0.0.5", None, "10.0.0.5"),
        ("10.0.0.5", "2001:db8::1", "2001:db8::1"),
    ],
)
def test_forwarded_for_is_believed_only_from_configured_proxies(
    peer: str, header: str | None, expected: str
) -> None:
    assert forwarded_client(peer, header, PROXIES) == expected
    assert forwarded_client(peer, header, ()) == peer  # the default: no proxy is trusted


def test_trusted_proxies_setting_refuses_what_is_not_an_address() -> None:
    with pytest.raises(ValueError, match="CUSTINFO_TRUSTED_PROXIES"):
        Settings(trusted_proxies="10.0.0.1, proxy.example")


def test_no_id_number_in_logs_errors_or_access_log(
    client: TestClient,
    login,
    caplog: pytest.LogCaptureFixture,  # type: ignore[no-untyped-def]
) -> None:
    headers = login("steward")  # the role that may enter and search an ID number
    base = {"kind": "individual", "name": "吴十一", "source_channel": "visit", "purpose": "sales_service"}
    with caplog.at_level(logging.DEBUG):
        created = client.post("/api/v1/customers", json={**base, "id_number": ID_NUMBER}, headers=headers)
        assert created.status_code == 201
        client.get("/api/v1/customers", params={"q": ID_NUMBER}, headers=headers)
        wrong = ID_NUMBER[:-1] + ("0" if ID_NUMBER[-1] != "0" else "1")  # a bad check digit
        rejected = client.post("/api/v1/customers", json={**base, "id_number": wrong}, headers=headers)
    assert rejected.status_code == 422 and wrong not in rejected.text
    # Everything the server side logged (the test's own HTTP client logs the URLs it calls).
    server_logs = "\n".join(r.getMessage() for r in caplog.records if not r.name.startswith("httpx"))
    assert ID_NUMBER not in server_logs and wrong not in server_logs
    record = logging.LogRecord(
        "uvicorn.access", logging.INFO, __file__, 1, '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5000", "GET", f"/customers?q={ID_NUMBER}", "1.1", 200), None,
    )  # fmt: skip
    DropQueryString().filter(record)
    assert ID_NUMBER not in record.getMessage() and "/customers?" in record.getMessage()


def test_security_headers_and_no_inline_script_or_style(client: TestClient, world: dict[str, User]) -> None:
    from tests.web.test_pages import sign_in

    csp = client.get("/login").headers["content-security-policy"]
    assert "'unsafe-inline'" not in csp and "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert sign_in(client, "admin").status_code == 303
    for path in ("/login", "/customers", "/audit"):
        response = client.get(path)
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["x-frame-options"] == "DENY"
        html = response.text
        assert "<script>" not in html and " onclick=" not in html and "<style" not in html
        assert ' style="' not in html, path


def test_no_template_needs_unsafe_inline() -> None:
    import re

    from custinfo.web.templating import TEMPLATE_DIR

    inline = re.compile(r'style="|<style|<script(?![^>]*\bsrc=)[^>]*>|\son[a-z]+="', re.IGNORECASE)
    offenders = [
        f"{path.relative_to(TEMPLATE_DIR)}: {match.group(0)}"
        for path in TEMPLATE_DIR.rglob("*.html")
        for match in inline.finditer(path.read_text(encoding="utf-8"))
    ]
    assert offenders == []
