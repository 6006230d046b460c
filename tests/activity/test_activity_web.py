"""The everyday record flow on the 360 page through real HTTP: edit, delete (confirmed), renew, terminate."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session
from tests.factories import make_contract, make_customer, make_interaction, make_order
from tests.web.test_pages import csrf_of, sign_in

from custinfo.activity.models import Contract, ContractRenewal, Interaction, Order
from custinfo.customers.models import Customer

NEXT_YEAR = (date.today() + timedelta(days=400)).isoformat()


@pytest.fixture
def customer(session: Session, world: dict[str, Any]) -> Customer:
    made = make_customer(session, world["sales_east1"])
    session.commit()
    return made


def signed(client: TestClient, username: str) -> TestClient:
    client.cookies.clear()
    assert sign_in(client, username).status_code == 303
    return client


def tab(client: TestClient, customer: Customer, name: str, **query: Any) -> Any:
    params = "".join(f"&{k}={v}" for k, v in query.items())
    return client.get(f"/customers/{customer.id}?tab={name}{params}")


def test_anonymous_is_sent_to_sign_in(client: TestClient, customer: Customer) -> None:
    response = client.post(f"/customers/{customer.id}/orders/1", data={}, follow_redirects=False)
    assert response.status_code in (303, 401, 403)
    assert client.get(
        f"/customers/{customer.id}?tab=orders&act=edit&row=1", follow_redirects=False
    ).status_code in (
        303,
        401,
    )


def test_edit_an_order_in_place(client: TestClient, session: Session, customer: Customer) -> None:
    order = make_order(session, customer, amount=Decimal("1000.00"))
    session.commit()
    c = signed(client, "sales_east1")
    page = tab(c, customer, "orders", act="edit", row=order.id)
    assert page.status_code == 200 and 'name="version"' in page.text and "1000.00" in page.text
    form = {
        "csrf_token": csrf_of(page.text),
        "version": str(order.version),
        "ordered_on": "2026-01-15",
        "amount": "2345.60",
        "product": "新产品",
        "category": "传感器",
        "quantity": "2",
        "provided_by": "system",
    }
    saved = c.post(f"/customers/{customer.id}/orders/{order.id}", data=form, follow_redirects=False)
    assert saved.status_code == 303, saved.text
    session.expire_all()
    changed = session.get(Order, order.id)
    assert changed is not None and changed.amount == Decimal("2345.60") and changed.product == "新产品"
    # the same form again is stale: 409, the current values shown and what was typed beside them
    form["product"] = "又一个产品"
    stale = c.post(f"/customers/{customer.id}/orders/{order.id}", data=form)
    assert stale.status_code == 409
    assert "已被他人修改" in stale.text and "又一个产品" in stale.text and 'value="新产品"' in stale.text
    invalid = c.post(
        f"/customers/{customer.id}/orders/{order.id}",
        data={**form, "version": str(changed.version), "amount": "-5"},
    )
    assert invalid.status_code == 422 and "is-invalid" in invalid.text


def test_delete_asks_first_then_deletes(client: TestClient, session: Session, customer: Customer) -> None:
    interaction = make_interaction(session, customer)
    session.commit()
    c = signed(client, "sales_east1")
    confirm = tab(c, customer, "interactions", act="delete", row=interaction.id)
    assert "确定删除这条互动记录吗" in confirm.text
    assert session.get(Interaction, interaction.id) is not None
    data = {"csrf_token": csrf_of(confirm.text), "version": str(interaction.version)}
    data_id = interaction.id
    done = c.post(
        f"/customers/{customer.id}/interactions/{interaction.id}/delete", data=data, follow_redirects=False
    )
    assert done.status_code == 303
    assert session.scalar(select(Interaction.id).where(Interaction.id == data_id)) is None


def test_service_staff_may_add_but_not_edit_interactions(
    client: TestClient, session: Session, customer: Customer
) -> None:
    interaction = make_interaction(session, customer)
    session.commit()
    c = signed(client, "service1")
    page = tab(c, customer, "interactions", act="edit", row=interaction.id)
    assert page.status_code == 200 and f"/interactions/{interaction.id}/delete" not in page.text
    data = {"csrf_token": csrf_of(page.text), "version": str(interaction.version), "topic": "x"}
    assert c.post(f"/customers/{customer.id}/interactions/{interaction.id}", data=data).status_code == 403


def test_a_row_of_another_customer_is_404(
    client: TestClient, session: Session, world: dict[str, Any]
) -> None:
    mine = make_customer(session, world["sales_east1"])
    other = make_customer(session, world["sales_east1"])
    order = make_order(session, other)
    session.commit()
    c = signed(client, "sales_east1")
    token = csrf_of(c.get(f"/customers/{mine.id}?tab=orders").text)
    data = {"csrf_token": token, "version": str(order.version)}
    assert c.post(f"/customers/{mine.id}/orders/{order.id}/delete", data=data).status_code == 404
    south = make_order(session, make_customer(session, world["sales_south1"]))
    session.commit()
    assert c.post(f"/customers/{mine.id}/orders/{south.id}/delete", data=data).status_code == 404


def test_renew_and_terminate_a_contract_in_the_tab(
    client: TestClient, session: Session, customer: Customer
) -> None:
    contract = make_contract(session, customer, title="供货合同", ends_on=date.today() + timedelta(days=20))
    session.commit()
    c = signed(client, "sales_east1")
    page = tab(c, customer, "contracts", act="renew", row=contract.id)
    assert "新的到期日期" in page.text and "确认续签" in page.text
    token = csrf_of(page.text)
    refused = c.post(
        f"/customers/{customer.id}/contracts/{contract.id}/renew",
        data={"csrf_token": token, "version": str(contract.version), "ends_on": "", "amount": "1"},
    )
    assert refused.status_code == 422 and "is-invalid" in refused.text
    renewed = c.post(
        f"/customers/{customer.id}/contracts/{contract.id}/renew",
        data={"csrf_token": token, "version": str(contract.version), "ends_on": NEXT_YEAR, "amount": "88000"},
        follow_redirects=False,
    )
    assert renewed.status_code == 303, renewed.text
    shown = tab(c, customer, "contracts")
    assert "续签记录" in shown.text and NEXT_YEAR in shown.text and "88,000.00" in shown.text
    session.expire_all()
    assert session.scalar(
        select(ContractRenewal.amount).where(ContractRenewal.contract_id == contract.id)
    ) == Decimal("88000.00")
    current = session.get(Contract, contract.id)
    assert current is not None
    ended = c.post(
        f"/customers/{customer.id}/contracts/{contract.id}/terminate",
        data={
            "csrf_token": token,
            "version": str(current.version),
            "terminated_on": date.today().isoformat(),
            "reason": "客户业务调整",
        },
        follow_redirects=False,
    )
    assert ended.status_code == 303, ended.text
    after = tab(c, customer, "contracts")
    assert "客户业务调整" in after.text and "已终止" in after.text
    assert f"act=renew&amp;row={contract.id}" not in after.text


def test_readers_without_write_rights_see_no_row_tools(
    client: TestClient, session: Session, world: dict[str, Any], customer: Customer
) -> None:
    make_contract(session, customer)
    session.commit()
    c = signed(client, "service1")
    assert "act=renew" not in tab(c, customer, "contracts").text
