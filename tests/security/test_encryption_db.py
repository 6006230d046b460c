"""Encrypted columns in the database, blind-index lookup and duplicate detection, over the real API."""

from __future__ import annotations

from datetime import date

from fastapi.testclient import TestClient
from sqlalchemy import select, text
from sqlalchemy.orm import Session
from tests.factories import make_customer

from custinfo.auth.models import User
from custinfo.customers.identifiers import make_id_number
from custinfo.customers.models import Customer
from custinfo.security import crypto

ID_NUMBER = make_id_number("310104", date(1985, 3, 9), 17)
OTHER_ID = make_id_number("440305", date(1979, 11, 2), 24)


def _raw(session: Session, customer_id: int) -> dict[str, object]:
    row = session.execute(
        text(
            "SELECT id_number, birth_date, address, bank_account, registered_address, id_number_bidx "
            "FROM customers WHERE id = :id"
        ),
        {"id": customer_id},
    ).one()
    return dict(row._mapping)


def test_l3_fields_are_ciphertext_in_the_row_and_plain_in_the_app(
    session: Session, world: dict[str, User]
) -> None:
    customer = make_customer(
        session,
        world["sales_east1"],
        kind="individual",
        name="张三",
        id_number=ID_NUMBER,
        birth_date=date(1985, 3, 9),
        address="上海市徐汇区漕溪北路88号",
        bank_account="6222020200112233445",
    )
    raw = _raw(session, customer.id)
    ring = crypto.active()
    for column, clear in (
        ("id_number", ID_NUMBER),
        ("birth_date", "1985-03-09"),
        ("address", "上海市徐汇区漕溪北路88号"),
        ("bank_account", "6222020200112233445"),
    ):
        stored = str(raw[column])
        assert clear not in stored and stored.startswith(crypto.prefix(ring.current))
        assert ring.decrypt(stored, f"customers.{column}") == clear
    assert raw["id_number_bidx"] == ring.blind_index(ID_NUMBER, "customers.id_number")
    session.expire_all()
    again = session.get_one(Customer, customer.id)
    assert again.id_number == ID_NUMBER and again.birth_date == date(1985, 3, 9)
    assert again.address == "上海市徐汇区漕溪北路88号" and again.bank_account == "6222020200112233445"


def test_ciphertext_swapped_between_columns_does_not_decrypt(
    session: Session, world: dict[str, User]
) -> None:
    customer = make_customer(
        session, world["sales_east1"], kind="individual", id_number=ID_NUMBER, address="北京市朝阳区1号"
    )
    session.execute(text("UPDATE customers SET address = id_number WHERE id = :id"), {"id": customer.id})
    session.expire_all()
    try:
        session.execute(select(Customer.address).where(Customer.id == customer.id)).one()
    except crypto.KeyRingError as error:
        assert "customers.address" in str(error) and ID_NUMBER not in str(error)
    else:
        raise AssertionError("a ciphertext moved to another column must not decrypt")


def test_company_registered_address_is_encrypted(session: Session, world: dict[str, User]) -> None:
    customer = make_customer(session, world["sales_east1"], registered_address="广州市天河区体育西路1号")
    assert "广州" not in str(_raw(session, customer.id)["registered_address"])


def test_api_search_by_id_number_uses_the_blind_index(
    client: TestClient, login, session: Session, world
) -> None:  # type: ignore[no-untyped-def]
    mine = make_customer(session, world["sales_east1"], kind="individual", name="李四", id_number=ID_NUMBER)
    make_customer(session, world["sales_east1"], kind="individual", name="王五", id_number=OTHER_ID)
    session.commit()
    # The steward may reveal L3, so may search it exactly (audited, rate-limited: tests/security/test_oracle.py).
    found = client.get("/api/v1/customers", params={"q": ID_NUMBER.lower()}, headers=login("steward")).json()
    assert [c["id"] for c in found["items"]] == [mine.id]
    # Sales see it masked: for them the number is plain text and matches nothing, even their own customer.
    own = client.get("/api/v1/customers", params={"q": ID_NUMBER}, headers=login("sales_east1")).json()
    assert own["items"] == []


def test_duplicate_id_number_is_409_without_echoing_it(
    client: TestClient, login, session: Session, world
) -> None:  # type: ignore[no-untyped-def]
    make_customer(session, world["sales_south1"], kind="individual", id_number=ID_NUMBER)
    session.commit()
    body = {
        "kind": "individual",
        "name": "赵六",
        "source_channel": "visit",
        "purpose": "sales_service",
        "id_number": ID_NUMBER,
    }
    response = client.post("/api/v1/customers", json=body, headers=login("steward"))
    assert response.status_code == 409
    assert response.json()["errors"][0]["field"] == "id_number"
    assert ID_NUMBER not in response.text


def test_bank_account_validation(client: TestClient, login) -> None:  # type: ignore[no-untyped-def]
    base = {"kind": "individual", "name": "钱七", "source_channel": "visit", "purpose": "sales_service"}
    headers = login("sales_east1")
    bad = client.post("/api/v1/customers", json={**base, "bank_account": "12345"}, headers=headers)
    assert bad.status_code == 422
    assert [(e["field"], e["rule"]) for e in bad.json()["errors"]] == [
        ("bank_account", "bank_account.format")
    ]
    good = client.post(
        "/api/v1/customers", json={**base, "bank_account": "6222 0202 0011 2233"}, headers=headers
    )
    assert good.status_code == 201, good.text
