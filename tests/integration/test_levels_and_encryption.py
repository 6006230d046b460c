"""Levels and encryption agree: only fields encrypted at rest may be L3, proved on the raw columns."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.orm import Session
from tests.factories import DEFAULT_PASSWORD, make_customer

from custinfo.customers.identifiers import make_id_number
from custinfo.protection import catalogue

API = "/api/v1"


def test_every_field_the_catalogue_accepts_at_l3_is_ciphertext_on_disk(
    session: Session, world: dict[str, Any]
) -> None:
    document = catalogue.default_document()
    l3_capable = [
        (entity, name)
        for entity, fields in document["fields"].items()
        for name in fields
        if catalogue.l3_refusal(entity, name) is None
    ]
    assert ("customer", "id_number") in l3_capable and ("customer", "mobile") not in l3_capable
    person = make_customer(
        session,
        world["sales_east1"],
        kind="individual",
        id_number=make_id_number("110105", date(1985, 5, 17), 3),
        birth_date=date(1985, 5, 17),
        address="上海市浦东新区张江路1号",
        bank_account="6222020200112233445",
    )
    company = make_customer(session, world["sales_east1"], registered_address="福州市鼓楼区五四路2号")
    session.flush()
    for entity, name in l3_capable:
        table = catalogue.ENTITY_TABLES[entity]
        for row_id in (person.id, company.id):
            raw = session.execute(text(f"SELECT {name} FROM {table} WHERE id = :id"), {"id": row_id}).scalar()
            clear = getattr(person if row_id == person.id else company, name)
            if clear is None:
                continue
            assert str(clear) not in str(raw), f"{entity}.{name} is in clear on disk"


@pytest.mark.parametrize(
    ("entity", "name", "rule"),
    [
        ("customer", "mobile", "catalogue.l3_refused.search"),
        ("customer", "industry", "catalogue.l3_refused.classification"),
        ("order", "amount", "catalogue.l3_refused.classification"),
        ("contact", "title", "catalogue.l3_refused.clear_column"),
    ],
)
def test_a_field_stored_in_clear_is_refused_l3_with_the_reason(
    client: TestClient, token: Any, session: Session, entity: str, name: str, rule: str
) -> None:
    document = client.get(f"{API}/field-levels", headers=token("admin")).json()["document"]
    document["fields"][entity][name]["level"] = "L3"
    refused = client.put(
        f"{API}/field-levels",
        json={"document": document, "reason": "按敏感处理"},
        headers={**token("admin"), "Accept-Language": "zh-CN"},
    )
    assert refused.status_code == 422
    errors = refused.json()["errors"]
    assert [(e["field"], e["rule"]) for e in errors] == [(f"fields.{entity}.{name}", rule)]
    assert "不能设为敏感（L3）" in errors[0]["message"]
    # nothing was stored: the field is still at its level
    current = client.get(f"{API}/field-levels", headers=token("admin")).json()
    assert current["version"] <= 1 and current["document"]["fields"][entity][name]["level"] != "L3"


def test_an_encrypted_field_may_go_down_and_back_to_l3(client: TestClient, token: Any) -> None:
    admin = token("admin")
    document = client.get(f"{API}/field-levels", headers=admin).json()["document"]
    document["fields"]["customer"]["address"]["level"] = "L2"
    assert (
        client.put(
            f"{API}/field-levels", json={"document": document, "reason": "a"}, headers=admin
        ).status_code
        == 200
    )
    document["fields"]["customer"]["address"]["level"] = "L3"
    assert (
        client.put(
            f"{API}/field-levels", json={"document": document, "reason": "b"}, headers=admin
        ).status_code
        == 200
    )


def _sign_in(client: TestClient, username: str) -> None:
    client.cookies.clear()
    page = client.get("/login")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert csrf
    data = {"csrf_token": csrf.group(1), "username": username, "password": DEFAULT_PASSWORD, "next": ""}
    assert client.post("/login", data=data, follow_redirects=False).status_code == 303


def test_the_field_levels_page_shows_why_a_field_cannot_be_l3(client: TestClient, world: Any) -> None:
    _sign_in(client, "admin")
    page = client.get("/field-levels").text
    mobile = re.search(r'name="level\.customer\.mobile".*?</select>(.*?)</td>', page, re.S)
    assert mobile and 'value="L3" disabled' in mobile.group(0) and "搜索" in mobile.group(1)
    id_number = re.search(r'name="level\.customer\.id_number".*?</select>(.*?)</td>', page, re.S)
    assert id_number and "disabled" not in id_number.group(0) and "不可设为敏感" not in id_number.group(1)
