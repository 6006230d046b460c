"""Accounts hardening: lock-out per account and per address, token scopes, revocation, password policy, log hygiene."""

from __future__ import annotations

import logging
from datetime import date

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session
from tests.factories import DEFAULT_PASSWORD

from custinfo.auth.models import User
from custinfo.auth.service import MAX_FAILED_PER_ADDRESS, set_active
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
        ("Qiu-tian-7-shuang", "zhangwei", set()),
    ],
)
def test_password_policy(password: str, username: str | None, rules: set[str]) -> None:
    assert set(password_problems(password, username)) == rules


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
