"""The generated authorization matrix: every role × every customer endpoint × own / same / other department.

Each case asserts the status and, where data comes back, which fields are in
clear, masked or absent (null and listed in `hidden_fields`). The expectations
below are written out independently of the policy's tables, so a change of
either shows up here.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient

from .conftest import POSITIONS, USERS, Record

API = "/api/v1"

ALL = frozenset(POSITIONS)
SCOPE = {
    "sales": frozenset({"own"}),
    "service": frozenset({"own", "same_department"}),
    "dept_head": frozenset({"own", "same_department"}),
    "data_steward": ALL,
    "admin": ALL,
    "marketing": frozenset(),
    "auditor": frozenset(),
}
READERS = frozenset({"sales", "service", "dept_head", "data_steward", "admin"})
WRITERS = frozenset({"sales", "dept_head", "data_steward", "admin"})
PERMITTED = {
    "read": READERS,
    "write": WRITERS,
    "delete": frozenset({"dept_head", "data_steward", "admin"}),
    "interaction.create": WRITERS | {"service"},
}

MASKED_ID = re.compile(r"^\d{6}\*{8}[\dX]{4}$")
MASKED_BIRTH = re.compile(r"^\d{4}-\*\*-\*\*$")
MASKED_ADDRESS = re.compile(r"^上海市浦东新区\*+$")

# entity → field → expected state per role (every reader not named sees it clear).
STATES: dict[str, dict[str, dict[str, str]]] = {
    "customer": {
        "name": {},
        "mobile": {},
        "email": {},
        "id_number": dict.fromkeys(READERS, "masked"),
        "birth_date": dict.fromkeys(READERS, "masked"),
        "address": dict.fromkeys(READERS, "masked"),
    },
    "contact": {"name": {}, "mobile": {}},
    "need": {"core_need": {"service": "hidden"}, "budget_max": {"service": "hidden"}},
    "order": {"amount": {"service": "hidden"}, "product": {"service": "hidden"}},
    "contract": {"amount": {"service": "hidden"}, "status": {"service": "hidden"}},
    "interaction": {"kind": {}, "topic": {}, "resolution": {}},
    "engagement": {"event_type": {}, "product": {}},
}


def check_fields(role: str, entity: str, item: dict[str, Any], record: Record) -> None:
    """Every catalogued field named in STATES is clear, masked or absent as expected for the role."""
    for name, by_role in STATES[entity].items():
        state = by_role.get(role, "clear")
        value = item[name]
        if state == "hidden":
            assert value is None and name in item["hidden_fields"], (role, entity, name, item)
        elif state == "masked":
            assert name in item["masked_fields"], (role, entity, name, item)
            assert value not in (record.id_number, None), (role, entity, name, value)
            pattern = {"id_number": MASKED_ID, "birth_date": MASKED_BIRTH, "address": MASKED_ADDRESS}[name]
            assert pattern.match(value), (role, entity, name, value)
        else:
            assert value is not None and name not in item["masked_fields"], (role, entity, name, item)
            assert "*" not in str(value), (role, entity, name, value)
    if entity == "customer":
        assert item["mobile"] == record.mobile


@dataclass(frozen=True)
class Endpoint:
    """One route: how to call it for a record, what permission it needs, how to read its answer."""

    name: str
    method: str
    path: Callable[[Record], str]
    needs: str
    ok: int
    entity: str | None = None
    body: Callable[[Record], dict[str, Any]] | None = None
    params: Callable[[Record], dict[str, Any]] | None = None
    items: bool = False  # the answer is a page ({"items": […]}) or a list


ENDPOINTS = [
    Endpoint("get customer", "GET", lambda r: f"/customers/{r.individual}", "read", 200, "customer"),
    Endpoint(
        "update customer",
        "PATCH",
        lambda r: f"/customers/{r.individual}",
        "write",
        200,
        "customer",
        body=lambda r: {"region": "上海市", "version": 1},
    ),
    Endpoint(
        "delete customer",
        "DELETE",
        lambda r: f"/customers/{r.company}",
        "delete",
        204,
        params=lambda r: {"version": 1},
    ),
    Endpoint(
        "contacts", "GET", lambda r: f"/customers/{r.company}/contacts", "read", 200, "contact", items=True
    ),
    Endpoint(
        "add contact",
        "POST",
        lambda r: f"/customers/{r.company}/contacts",
        "write",
        201,
        "contact",
        body=lambda r: {"name": "张新", "mobile": "13611112222"},
    ),
    Endpoint(
        "update contact",
        "PATCH",
        lambda r: f"/customers/{r.company}/contacts/{r.contact}",
        "write",
        200,
        "contact",
        body=lambda r: {"title": "经理", "version": 1},
    ),
    Endpoint("needs", "GET", lambda r: f"/customers/{r.individual}/needs", "read", 200, "need", items=True),
    Endpoint(
        "add need",
        "POST",
        lambda r: f"/customers/{r.individual}/needs",
        "write",
        201,
        "need",
        body=lambda r: {"core_need": "technical_service", "urgency": "low", "budget_max": "500.00"},
    ),
    Endpoint(
        "orders", "GET", lambda r: f"/customers/{r.individual}/orders", "read", 200, "order", items=True
    ),
    Endpoint("get order", "GET", lambda r: f"/orders/{r.order}", "read", 200, "order"),
    Endpoint(
        "add order",
        "POST",
        lambda r: "/orders",
        "write",
        201,
        "order",
        body=lambda r: {
            "customer_id": r.individual,
            "ordered_on": "2026-01-20",
            "amount": "10.00",
            "product": "A",
        },
    ),
    Endpoint(
        "contracts",
        "GET",
        lambda r: f"/customers/{r.individual}/contracts",
        "read",
        200,
        "contract",
        items=True,
    ),
    Endpoint("get contract", "GET", lambda r: f"/contracts/{r.contract}", "read", 200, "contract"),
    Endpoint(
        "interactions",
        "GET",
        lambda r: f"/customers/{r.individual}/interactions",
        "read",
        200,
        "interaction",
        items=True,
    ),
    Endpoint(
        "get interaction", "GET", lambda r: f"/interactions/{r.interaction}", "read", 200, "interaction"
    ),
    Endpoint(
        "add interaction",
        "POST",
        lambda r: "/interactions",
        "interaction.create",
        201,
        "interaction",
        body=lambda r: {
            "customer_id": r.individual,
            "kind": "call",
            "occurred_at": "2026-02-01T10:00:00+08:00",
            "topic": "回访",
            "resolution": "无",
        },
    ),
    Endpoint(
        "update interaction",
        "PATCH",
        lambda r: f"/interactions/{r.interaction}",
        "write",
        200,
        "interaction",
        body=lambda r: {"resolution": "已解决", "version": 1},
    ),
    Endpoint(
        "engagement",
        "GET",
        lambda r: f"/customers/{r.individual}/engagement",
        "read",
        200,
        "engagement",
        items=True,
    ),
    Endpoint("history", "GET", lambda r: f"/customers/{r.individual}/history", "read", 200),
    Endpoint(
        "reveal L1",
        "GET",
        lambda r: f"/customers/{r.individual}/reveal",
        "read",
        200,
        params=lambda r: {"field": "mobile"},
    ),
]


def expected_status(role: str, position: str, endpoint: Endpoint) -> int:
    """403 without the permission, 404 out of scope, else the endpoint's success status."""
    if role not in PERMITTED[endpoint.needs]:
        return 403
    if position not in SCOPE[role]:
        return 404
    return endpoint.ok


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=lambda e: e.name)
@pytest.mark.parametrize("role", list(USERS))
def test_matrix(
    role: str, endpoint: Endpoint, client: TestClient, token: Any, records: dict[str, Record]
) -> None:
    headers = token(USERS[role])
    for position in POSITIONS:
        record = records[position]
        response = client.request(
            endpoint.method,
            API + endpoint.path(record),
            headers=headers,
            json=endpoint.body(record) if endpoint.body else None,
            params=endpoint.params(record) if endpoint.params else None,
        )
        expected = expected_status(role, position, endpoint)
        assert response.status_code == expected, (role, position, endpoint.name, response.text)
        if expected >= 300 or endpoint.entity is None:
            continue
        body = response.json()
        items = (body["items"] if isinstance(body, dict) else body) if endpoint.items else [body]
        assert items, (role, position, endpoint.name)
        for item in items:
            check_fields(role, endpoint.entity, item, record)


@pytest.mark.parametrize("role", list(USERS))
def test_lists_and_search_follow_the_scope(
    role: str, client: TestClient, token: Any, records: dict[str, Record]
) -> None:
    headers = token(USERS[role])
    visible = SCOPE[role]
    response = client.get(f"{API}/customers", params={"size": 200}, headers=headers)
    if role not in READERS:
        assert response.status_code == 403
        assert client.get(f"{API}/orders", headers=headers).status_code == 403
        return
    ids = {item["id"] for item in response.json()["items"]}
    for position in POSITIONS:
        record = records[position]
        shown = position in visible
        assert (record.individual in ids) is shown and (record.company in ids) is shown, (role, position)
        found = client.get(f"{API}/customers", params={"q": record.mobile}, headers=headers).json()["items"]
        assert [c["id"] for c in found] == ([record.individual] if shown else []), (role, position)
        if shown:
            check_fields(role, "customer", next(c for c in found), record)
    for path, attribute in (("orders", "order"), ("contracts", "contract"), ("interactions", "interaction")):
        listed = {
            i["id"]
            for i in client.get(f"{API}/{path}", params={"size": 200}, headers=headers).json()["items"]
        }
        for position in POSITIONS:
            assert (getattr(records[position], attribute) in listed) is (position in visible), (
                role,
                path,
                position,
            )
