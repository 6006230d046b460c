"""Renewing and terminating a contract through real HTTP: rights, rules, the dated entry, audit, re-tagging."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session
from tests.factories import make_contract, make_customer

from custinfo.activity.models import Contract, ContractRenewal
from custinfo.audit.models import AuditEntry

API = "/api/v1"
NEXT_YEAR = (date.today() + timedelta(days=400)).isoformat()
TWO_YEARS = (date.today() + timedelta(days=800)).isoformat()
TODAY = date.today().isoformat()


@pytest.fixture
def contract(session: Session, world: dict[str, Any]) -> Contract:
    """A running contract of a company of sales_east1, ending in about a month."""
    customer = make_customer(session, world["sales_east1"])
    made = make_contract(
        session,
        customer,
        title="年度供货合同",
        signed_on=date.today() - timedelta(days=300),
        starts_on=date.today() - timedelta(days=300),
        ends_on=date.today() + timedelta(days=30),
    )
    session.commit()
    return made


def renew(client: TestClient, headers: dict[str, str], contract_id: int, **body: Any) -> Any:
    return client.post(f"{API}/contracts/{contract_id}/renew", json=body, headers=headers)


def terminate(client: TestClient, headers: dict[str, str], contract_id: int, **body: Any) -> Any:
    return client.post(f"{API}/contracts/{contract_id}/terminate", json=body, headers=headers)


@pytest.mark.parametrize("action", ["renew", "terminate"])
def test_anonymous_is_401(client: TestClient, action: str) -> None:
    assert client.post(f"{API}/contracts/1/{action}", json={}).status_code == 401


@pytest.mark.parametrize("username", ["auditor", "marketing", "service1"])
def test_roles_that_may_not_change_contracts_are_refused(
    client: TestClient, token: Any, contract: Contract, username: str
) -> None:
    headers = token(username)
    body = {"ends_on": NEXT_YEAR, "amount": "1.00", "version": contract.version}
    assert renew(client, headers, contract.id, **body).status_code in (403, 404)
    stop = {"terminated_on": TODAY, "reason": "x", "version": contract.version}
    assert terminate(client, headers, contract.id, **stop).status_code in (403, 404)


def test_out_of_scope_contract_is_404(client: TestClient, token: Any, contract: Contract) -> None:
    headers = token("sales_south1")
    body = {"ends_on": NEXT_YEAR, "amount": "1.00", "version": contract.version}
    assert renew(client, headers, contract.id, **body).status_code == 404
    assert renew(client, headers, 999_999, **body).status_code == 404


def test_renewal_moves_the_term_and_keeps_a_dated_entry(
    client: TestClient, token: Any, session: Session, contract: Contract
) -> None:
    headers = token("sales_east1")
    old_end = contract.ends_on
    response = renew(
        client, headers, contract.id, ends_on=NEXT_YEAR, amount="60000.50", version=contract.version
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "renewed" and body["ends_on"] == NEXT_YEAR and body["amount"] == "60000.50"
    assert body["version"] == contract.version + 1
    [entry] = body["renewals"]
    assert entry["previous_ends_on"] == old_end.isoformat() and entry["ends_on"] == NEXT_YEAR
    assert entry["previous_amount"] == "50000.00" and entry["amount"] == "60000.50"
    assert entry["renewed_by"] == "sales_east1" and entry["renewed_on"]
    # a second renewal adds a second entry; the first is kept
    again = renew(client, headers, contract.id, ends_on=TWO_YEARS, amount="70000", version=body["version"])
    assert again.status_code == 200, again.text
    assert [r["ends_on"] for r in again.json()["renewals"]] == [NEXT_YEAR, TWO_YEARS]
    listed = client.get(f"{API}/customers/{contract.customer_id}/contracts", headers=headers).json()
    assert [r["ends_on"] for r in listed["items"][0]["renewals"]] == [NEXT_YEAR, TWO_YEARS]
    assert session.scalars(select(ContractRenewal).where(ContractRenewal.contract_id == contract.id)).all()
    actions = session.scalars(
        select(AuditEntry.action).where(AuditEntry.customer_id == contract.customer_id)
    ).all()
    assert actions.count("contract.renewed") == 2 and "contract.update" in actions


def test_renewal_rules(client: TestClient, token: Any, contract: Contract) -> None:
    headers = token("sales_east1")
    v = contract.version
    missing = renew(client, headers, contract.id, version=v)
    assert missing.status_code == 422
    assert {e["field"] for e in missing.json()["errors"]} == {"ends_on", "amount"}
    earlier = renew(client, headers, contract.id, ends_on=TODAY, amount="1", version=v)
    assert earlier.status_code == 422
    assert earlier.json()["errors"][0]["rule"] == "contract.renewal_not_later"
    bad = renew(client, headers, contract.id, ends_on="2027-02-30", amount="-1", version=v)
    assert bad.status_code == 422 and {e["field"] for e in bad.json()["errors"]} == {"ends_on", "amount"}
    assert renew(client, headers, contract.id, ends_on=NEXT_YEAR, amount="1").status_code == 422  # no version
    stale = renew(client, headers, contract.id, ends_on=NEXT_YEAR, amount="1", version=v + 5)
    assert stale.status_code == 409
    extra = renew(client, headers, contract.id, ends_on=NEXT_YEAR, amount="1", version=v, status="x")
    assert extra.status_code == 422


def test_termination_with_reason_and_no_renewal_after_it(
    client: TestClient, token: Any, session: Session, contract: Contract
) -> None:
    headers = token("head_east")
    v = contract.version
    missing = terminate(client, headers, contract.id, version=v)
    assert {e["field"] for e in missing.json()["errors"]} == {"terminated_on", "reason"}
    future = (date.today() + timedelta(days=3)).isoformat()
    assert (
        terminate(client, headers, contract.id, terminated_on=future, reason="x", version=v).status_code
        == 422
    )
    before_signing = (contract.signed_on - timedelta(days=1)).isoformat()
    early = terminate(client, headers, contract.id, terminated_on=before_signing, reason="x", version=v)
    assert early.json()["errors"][0]["rule"] == "contract.terminated_before_signed"
    done = terminate(
        client, headers, contract.id, terminated_on=TODAY, reason="客户转向其他供应商", version=v
    )
    assert done.status_code == 200, done.text
    body = done.json()
    assert body["status"] == "terminated" and body["terminated_on"] == TODAY
    assert body["termination_reason"] == "客户转向其他供应商"
    audited = session.scalars(select(AuditEntry).where(AuditEntry.action == "contract.terminated")).all()
    assert [(e.target_id, e.actor) for e in audited] == [(str(contract.id), "head_east")]
    again = terminate(client, headers, contract.id, terminated_on=TODAY, reason="x", version=body["version"])
    assert again.status_code == 409
    renewal = renew(client, headers, contract.id, ends_on=NEXT_YEAR, amount="1", version=body["version"])
    assert renewal.status_code == 409


def test_a_status_change_retags_the_customer_in_the_same_request(
    client: TestClient, token: Any, session: Session, world: dict[str, Any]
) -> None:
    """The cooperation stage follows the contract at once: the response already carries the new tags."""
    headers = token("sales_east1")
    customer = make_customer(session, world["sales_east1"])
    session.commit()
    created = client.post(
        f"{API}/contracts",
        json={"customer_id": customer.id, "status": "negotiating", "title": "洽谈"},
        headers=headers,
    )
    assert created.status_code == 201, created.text
    assert "stage_intent" in created.json()["customer_tags"]
    signed = client.patch(
        f"{API}/contracts/{created.json()['id']}",
        json={
            "status": "active",
            "signed_on": TODAY,
            "ends_on": NEXT_YEAR,
            "version": created.json()["version"],
        },
        headers=headers,
    )
    assert signed.status_code == 200, signed.text
    assert "stage_active" in signed.json()["customer_tags"]
    shown = client.get(f"{API}/customers/{customer.id}", headers=headers).json()
    assert "stage_active" in shown["tags"]
    ended = terminate(
        client,
        headers,
        created.json()["id"],
        terminated_on=TODAY,
        reason="停止合作",
        version=signed.json()["version"],
    )
    assert ended.status_code == 200, ended.text
    assert "stage_active" not in ended.json()["customer_tags"]
    assert "stage_active" not in client.get(f"{API}/customers/{customer.id}", headers=headers).json()["tags"]
