"""Access requests and grants, reveal, refused writes to unseen fields, and the versioned catalogue."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from custinfo.audit.models import AuditEntry
from custinfo.auth.events import PermissionChanged
from custinfo.core.db import utcnow
from custinfo.core.uow import DomainEvent
from custinfo.customers.identifiers import birth_date_from_id_number, make_id_number
from custinfo.protection.events import AccessDecided, AccessRequested, SensitiveFieldRead
from custinfo.protection.models import AccessRequest

from .conftest import Record

API = "/api/v1"


def _request(client: TestClient, headers: dict[str, str], **body: Any) -> dict[str, Any]:
    response = client.post(f"{API}/access-requests", json=body, headers=headers)
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


def test_customer_grant_widens_scope_until_it_expires(
    client: TestClient, token: Any, records: dict[str, Record], session: Session, captured: list[DomainEvent]
) -> None:
    sales, other = token("sales_east1"), records["other_department"]
    assert client.get(f"{API}/customers/{other.individual}", headers=sales).status_code == 404
    zero = client.post(
        f"{API}/access-requests",
        json={"target": "customer", "customer_id": other.individual, "reason": "x", "days": 0},
        headers=sales,
    )
    assert zero.status_code == 422 and zero.json()["errors"][0]["field"] == "days"
    created = _request(client, sales, target="customer", customer_id=other.individual, reason="协助华南跟进")
    assert created["status"] == "pending" and created["days"] == 7
    rid = created["id"]
    # The head of the requester's department is not the approver of a south customer; nor is the requester.
    assert client.post(f"{API}/access-requests/{rid}/approve", headers=token("head_east")).status_code == 404
    assert client.post(f"{API}/access-requests/{rid}/approve", headers=sales).status_code == 403
    queue = client.get(f"{API}/access-requests", params={"queue": True}, headers=token("head_south")).json()
    assert [r["id"] for r in queue] == [rid] and queue[0]["can_decide"]
    approved = client.post(
        f"{API}/access-requests/{rid}/approve", json={"comment": "同意"}, headers=token("head_south")
    )
    assert approved.status_code == 200 and approved.json()["status"] == "approved"
    assert client.post(f"{API}/access-requests/{rid}/reject", headers=token("head_south")).status_code == 422

    shown = client.get(f"{API}/customers/{other.individual}", headers=sales)
    assert shown.status_code == 200 and shown.json()["id_number"] != other.id_number
    listed = {
        c["id"] for c in client.get(f"{API}/customers", params={"size": 200}, headers=sales).json()["items"]
    }
    assert other.individual in listed and other.company not in listed
    # A grant is read access: no write, and above all no taking the customer over (issue 9).
    version = shown.json()["version"]
    for body in ({"owner": "sales_east1"}, {"region": "杭州市"}):
        taken = client.patch(
            f"{API}/customers/{other.individual}", json={**body, "version": version}, headers=sales
        )
        assert taken.status_code == 403, taken.text
    order = {
        "customer_id": other.individual,
        "ordered_on": "2026-01-05",
        "amount": "10.00",
        "product": "x",
        "quantity": 1,
    }
    assert client.post(f"{API}/orders", json=order, headers=sales).status_code == 403
    assert client.get(f"{API}/customers/{other.individual}", headers=token("head_south")).status_code == 200
    assert any(isinstance(e, AccessRequested) and e.request_id == rid for e in captured)
    assert any(isinstance(e, AccessDecided) and e.decision == "approved" for e in captured)

    session.execute(
        update(AccessRequest)
        .where(AccessRequest.id == rid)
        .values(expires_at=utcnow() - timedelta(seconds=1))
    )
    session.commit()
    assert client.get(f"{API}/customers/{other.individual}", headers=sales).status_code == 404
    mine = client.get(f"{API}/access-requests", headers=sales).json()
    assert [r["status"] for r in mine] == ["expired"]


def test_level_grants_need_the_right_approver(
    client: TestClient, token: Any, records: dict[str, Record], captured: list[DomainEvent]
) -> None:
    sales, own = token("sales_east1"), records["own"]
    reveal = f"{API}/customers/{own.individual}/reveal"
    denied = client.get(reveal, params={"field": "id_number"}, headers=sales)
    assert denied.status_code == 403 and "id_number" in denied.json()["detail"]
    assert own.id_number not in denied.text

    l3 = _request(client, sales, target="level", level="L3", reason="核验身份", days=1)
    assert (
        client.post(f"{API}/access-requests/{l3['id']}/approve", headers=token("head_east")).status_code
        == 404
    )
    l2 = _request(client, sales, target="level", level="L2", reason="查看金额")
    assert client.get(f"{API}/access-requests/{l2['id']}", headers=token("head_east")).json()["can_decide"]
    assert client.get(f"{API}/access-requests/{l2['id']}", headers=token("head_south")).status_code == 404
    rejected = client.post(
        f"{API}/access-requests/{l2['id']}/reject", json={"comment": "无需"}, headers=token("head_east")
    )
    assert rejected.json()["status"] == "rejected" and rejected.json()["comment"] == "无需"
    decided = client.post(f"{API}/access-requests/{l3['id']}/approve", headers=token("admin")).json()
    assert decided["status"] == "approved" and decided["expires_at"] is not None

    got = client.get(reveal, params={"field": "id_number"}, headers=sales)
    assert got.status_code == 200 and got.json() == {
        "customer_id": own.individual,
        "field": "id_number",
        "level": "L3",
        "value": own.id_number,
    }
    reads = [e for e in captured if isinstance(e, SensitiveFieldRead) and e.purpose == "reveal"]
    assert [(e.customer_id, e.fields, e.level) for e in reads] == [(own.individual, ("id_number",), "L3")]
    # An L3 grant shows L3 in clear on every read in scope, and each such read is logged as a view.
    detail = client.get(f"{API}/customers/{own.individual}", headers=sales).json()
    assert detail["id_number"] == own.id_number and "id_number" not in detail["masked_fields"]
    assert any(
        isinstance(e, SensitiveFieldRead) and e.purpose == "view" and e.level == "L3" for e in captured
    )


def test_reveal_rules(client: TestClient, token: Any, records: dict[str, Record]) -> None:
    own, other = records["own"], records["other_department"]
    admin = token("admin")
    assert (
        client.get(
            f"{API}/customers/{other.individual}/reveal", params={"field": "id_number"}, headers=admin
        ).json()["value"]
        == other.id_number
    )
    sales = token("sales_east1")
    assert (
        client.get(
            f"{API}/customers/{other.individual}/reveal", params={"field": "id_number"}, headers=sales
        ).status_code
        == 404
    )
    bad = client.get(f"{API}/customers/{own.individual}/reveal", params={"field": "password"}, headers=sales)
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "field"
    assert (
        client.get(
            f"{API}/customers/{own.individual}/reveal",
            params={"field": "id_number"},
            headers=token("auditor"),
        ).status_code
        == 403
    )


def test_request_validation(client: TestClient, token: Any, records: dict[str, Record]) -> None:
    sales = token("sales_east1")
    response = client.post(f"{API}/access-requests", json={"target": "level", "level": "L1"}, headers=sales)
    assert response.status_code == 422
    assert {e["field"] for e in response.json()["errors"]} == {"level", "reason"}
    own = client.post(
        f"{API}/access-requests",
        json={"target": "customer", "customer_id": records["own"].individual, "reason": "x", "days": 400},
        headers=sales,
    )
    assert {e["field"]: e["rule"] for e in own.json()["errors"]} == {
        "customer_id": "access.already_in_scope",
        "days": "integer.range",
    }
    assert (
        client.post(
            f"{API}/access-requests",
            json={"target": "level", "level": "L2", "reason": "x"},
            headers=token("auditor"),
        ).status_code
        == 403
    )
    assert client.get(f"{API}/access-requests", params={"queue": True}, headers=sales).status_code == 403


def test_writes_to_fields_not_seen_in_clear_are_refused(
    client: TestClient, token: Any, records: dict[str, Record]
) -> None:
    own = records["own"]
    for user in ("sales_east1", "head_east"):
        headers = token(user)
        current = client.get(f"{API}/customers/{own.individual}", headers=headers).json()
        response = client.patch(
            f"{API}/customers/{own.individual}",
            json={"id_number": current["id_number"], "address": "北京市", "version": current["version"]},
            headers=headers,
        )
        assert response.status_code == 422, (user, response.text)
        assert {(e["field"], e["rule"]) for e in response.json()["errors"]} == {
            ("id_number", "field.not_clear"),
            ("address", "field.not_clear"),
        }
    assert (
        client.get(
            f"{API}/customers/{own.individual}/reveal", params={"field": "id_number"}, headers=token("admin")
        ).json()["value"]
        == own.id_number
    )


def test_the_role_that_may_reveal_an_l3_field_may_correct_it_audited(
    client: TestClient, token: Any, records: dict[str, Record], session: Session
) -> None:
    own = records["own"]
    corrected = make_id_number(own.id_number[:6], birth_date_from_id_number(own.id_number), 987)
    for user in ("steward", "admin"):
        headers = token(user)
        current = client.get(f"{API}/customers/{own.individual}", headers=headers).json()
        # The masked placeholder written back is not a value: refused by the format rule, never stored.
        echoed = client.patch(
            f"{API}/customers/{own.individual}",
            json={"id_number": current["id_number"], "version": current["version"]},
            headers=headers,
        )
        assert echoed.status_code == 422 and echoed.json()["errors"][0]["field"] == "id_number"
        changed = client.patch(
            f"{API}/customers/{own.individual}",
            json={"id_number": corrected, "address": "北京市东城区", "version": current["version"]},
            headers=headers,
        )
        assert changed.status_code == 200, (user, changed.text)
        assert changed.json()["id_number"] != corrected  # still shown masked
        revealed = client.get(
            f"{API}/customers/{own.individual}/reveal", params={"field": "id_number"}, headers=headers
        )
        assert revealed.json()["value"] == corrected
        corrected = own.id_number  # the second user puts the original back
    entries = session.scalars(
        select(AuditEntry).where(
            AuditEntry.action == "customer.update", AuditEntry.customer_id == own.individual
        )
    ).all()
    assert [e.actor for e in entries] == ["steward", "admin"]
    assert all(own.id_number not in str(e.details) for e in entries)
    assert all("id_number" in e.details["changes"] for e in entries)


def test_admin_changes_levels_as_new_versions(
    client: TestClient, token: Any, records: dict[str, Record], captured: list[DomainEvent]
) -> None:
    admin = token("admin")
    current = client.get(f"{API}/field-levels", headers=admin).json()
    assert current["version"] == 1
    assert current["document"]["fields"]["customer"]["id_number"]["level"] == "L3"
    document = current["document"]
    # mobile is stored in clear (searched, matched for duplicates): L3 is refused with the reason
    document["fields"]["customer"]["mobile"]["level"] = "L3"
    refused = client.put(f"{API}/field-levels", json={"document": document, "reason": "x"}, headers=admin)
    assert refused.status_code == 422
    assert [(e["field"], e["rule"]) for e in refused.json()["errors"]] == [
        ("fields.customer.mobile", "catalogue.l3_refused.search")
    ]
    document["fields"]["customer"]["mobile"]["level"] = "L2"
    document["roles"]["sales"]["levels"]["L2"] = "masked"
    sales = token("sales_east1")
    assert (
        client.put(
            f"{API}/field-levels", json={"document": document, "reason": "x"}, headers=sales
        ).status_code
        == 403
    )
    missing = client.put(f"{API}/field-levels", json={"document": document}, headers=admin)
    assert missing.status_code == 422 and missing.json()["errors"][0]["field"] == "reason"
    broken = {
        **document,
        "roles": {**document["roles"], "sales": {"levels": {"L1": "clear", "L2": "peek", "L3": "masked"}}},
    }
    assert (
        client.put(f"{API}/field-levels", json={"document": broken, "reason": "x"}, headers=admin).status_code
        == 422
    )

    saved = client.put(
        f"{API}/field-levels", json={"document": document, "reason": "手机号按敏感处理"}, headers=admin
    )
    assert saved.status_code == 200 and saved.json()["version"] == 2
    history = client.get(f"{API}/field-levels/history", headers=admin).json()
    assert [(v["version"], v["author"], v["reason"]) for v in history][:1] == [
        (2, "admin", "手机号按敏感处理")
    ]
    changes = [e for e in captured if isinstance(e, PermissionChanged) and e.what.startswith("field_level:")]
    assert [(e.what, e.before["level"], e.after["level"]) for e in changes] == [
        ("field_level:customer.mobile", "L1", "L2")
    ]

    own = records["own"]
    seen = client.get(f"{API}/customers/{own.individual}", headers=sales).json()
    assert seen["mobile"] == own.mobile[:3] + "****" + own.mobile[-4:] and "mobile" in seen["masked_fields"]
    assert client.get(f"{API}/field-levels", headers=token("auditor")).status_code == 200
    assert client.get(f"{API}/field-levels", headers=token("marketing")).status_code == 403
