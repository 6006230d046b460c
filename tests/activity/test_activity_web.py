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


def test_a_renewal_in_the_tab_also_updates_the_summary_above_it(
    client: TestClient, session: Session, customer: Customer
) -> None:
    contract = make_contract(session, customer, title="供货合同", ends_on=date.today() + timedelta(days=20))
    session.commit()
    c = signed(client, "sales_east1")
    token = csrf_of(tab(c, customer, "contracts", act="renew", row=contract.id).text)
    renewed = c.post(
        f"/customers/{customer.id}/contracts/{contract.id}/renew",
        data={"csrf_token": token, "version": str(contract.version), "ends_on": NEXT_YEAR, "amount": "88000"},
        headers={"HX-Request": "true", "HX-Target": "tab-pane"},
    )
    assert renewed.status_code == 200, renewed.text
    summary = renewed.text.split('id="customer-summary"', 1)
    assert len(summary) == 2 and 'hx-swap-oob="true"' in summary[1][:120]
    assert NEXT_YEAR in summary[1].split("</section>", 1)[0]  # the active contract's new end date


def test_readers_without_write_rights_see_no_row_tools(
    client: TestClient, session: Session, world: dict[str, Any], customer: Customer
) -> None:
    make_contract(session, customer)
    session.commit()
    c = signed(client, "service1")
    assert "act=renew" not in tab(c, customer, "contracts").text


def test_the_360_summary_shows_the_year_the_last_contact_and_the_running_contract(
    client: TestClient, session: Session, customer: Customer
) -> None:
    make_order(session, customer, ordered_on=date.today() - timedelta(days=10), amount=Decimal("1200.00"))
    make_order(session, customer, ordered_on=date.today() - timedelta(days=100), amount=Decimal("800.50"))
    make_order(session, customer, ordered_on=date.today() - timedelta(days=400), amount=Decimal("99999.00"))
    make_contract(session, customer, title="三年框架协议", ends_on=date.today() + timedelta(days=60))
    make_contract(session, customer, title="旧合同", status="terminated", terminated_on=date(2026, 2, 1))
    session.commit()
    page = signed(client, "sales_east1").get(f"/customers/{customer.id}")
    assert page.status_code == 200
    summary = page.text.split('class="customer-summary')[1].split("</section>")[0]
    assert "2,000.50" in summary and "99,999" not in summary  # only the trailing year
    assert (date.today() - timedelta(days=10)).isoformat() in summary
    assert "三年框架协议" in summary and "旧合同" not in summary
    assert (date.today() + timedelta(days=60)).isoformat() in summary


def test_the_summary_counts_open_requests_the_reader_may_see(
    client: TestClient, session: Session, customer: Customer, token: Any
) -> None:
    asked = client.post(
        "/api/v1/access-requests",
        json={"target": "customer", "customer_id": customer.id, "reason": "协助跟进"},
        headers=token("sales_south1"),
    )
    assert asked.status_code == 201, asked.text

    def count_for(username: str) -> str:
        text = signed(client, username).get(f"/customers/{customer.id}").text
        block = text.split('class="customer-summary')[1].split("</section>")[0]
        return block.split("待处理申请")[1].split("</dd>")[0]

    assert ">1<" in count_for("head_east")  # may decide it
    assert ">1<" not in count_for("sales_east1")  # neither asked nor decides


def test_the_engagement_tab_pages_the_browsing_log(
    client: TestClient, session: Session, customer: Customer, token: Any
) -> None:
    for n in range(23):
        response = client.post(
            f"/api/v1/customers/{customer.id}/engagement",
            json={
                "occurred_at": f"2026-03-01T10:{n:02d}:00+08:00",
                "event_type": "new_product_viewed" if n == 22 else "product_viewed",
                "product": f"产品{n}",
                "category": "传感器",
                "dwell_seconds": 30 + n,
            },
            headers=token("sales_east1"),
        )
        assert response.status_code == 201, response.text
    c = signed(client, "sales_east1")
    first = tab(c, customer, "engagement")
    assert first.status_code == 200
    assert "浏览新品" in first.text and "产品22" in first.text and "新品" in first.text
    assert "product_viewed" not in first.text.split('id="tab-pane"')[1]
    second = tab(c, customer, "engagement", page=2)
    assert "产品0<" in second.text and "产品22" not in second.text
    assert signed(client, "auditor").get(f"/customers/{customer.id}?tab=engagement").status_code == 403
