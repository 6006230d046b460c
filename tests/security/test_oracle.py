"""L3 values are not searchable by those who see them masked (issue 9, item 1).

For each L3 field with a blind index, a role that sees it masked sends the right value of a
customer (in its scope and out of it) and a wrong guess of the same shape to every endpoint that
could look the value up; the two answers must be the same (status and body shape), no keyed hash
may be computed for them, and nothing is audited as a search. The roles that may read the field in
clear search it exactly, audited (field name, never the value) and rate-limited per user.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Iterator
from datetime import date
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session
from tests.factories import DEFAULT_PASSWORD, make_customer

from custinfo.audit.models import AuditEntry
from custinfo.auth.models import User
from custinfo.customers import repository
from custinfo.customers.identifiers import make_id_number
from custinfo.customers.service import L3_LOOKUP_LIMIT

API = "/api/v1"
MASKED_ROLES = ("sales_east1", "head_east", "service1")
WRITERS = ("sales_east1", "head_east")
BIRTH = date(1985, 3, 9)
SEARCH_ACTION = "sensitive_read.search"


@pytest.fixture
def targets(session: Session, world: dict[str, User]) -> dict[str, dict[str, Any]]:
    """An individual in sales_east1's scope and one outside it, each with an ID number and a bank account."""
    out: dict[str, dict[str, Any]] = {}
    for n, (where, owner) in enumerate((("in_scope", "sales_east1"), ("out_of_scope", "sales_south1"))):
        values = {
            "id_number": make_id_number("320213", BIRTH, 215 + n),
            "bank_account": f"62220210010{n}4455667788",
        }
        customer = make_customer(
            session, world[owner], kind="individual", name=f"李{where}", birth_date=BIRTH, **values
        )
        out[where] = {"id": customer.id, **values}
    session.commit()
    return out


def wrong_guess(field: str, right: str) -> str:
    """A value of the same shape that belongs to nobody."""
    if field == "id_number":
        return make_id_number("320213", BIRTH, 999)
    return right[:-4] + "0000"


@pytest.fixture
def hashed(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Every blind index the customers repository computes for a look-up (the field's context only)."""
    calls: list[str] = []
    real = repository.blind_index

    def counting(value: str, context: str) -> str:
        calls.append(context)
        return real(value, context)

    monkeypatch.setattr(repository, "blind_index", counting)
    yield calls


def _sign_in(client: TestClient, username: str) -> None:
    client.cookies.clear()
    page = client.get("/login")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert csrf
    data = {"csrf_token": csrf.group(1), "username": username, "password": DEFAULT_PASSWORD, "next": ""}
    assert client.post("/login", data=data, follow_redirects=False).status_code == 303


def _shape(response: Any, guess: str) -> tuple[Any, ...]:
    """What a prober could compare: status, and the body with the guess itself and record ids blanked."""
    text = response.text.replace(guess, "<guess>")
    if response.headers.get("content-type", "").startswith("application/"):
        body = response.json()
        if isinstance(body, dict) and "items" in body:
            return response.status_code, [item["id"] for item in body["items"]], body["total"]
        if isinstance(body, dict) and "errors" in body:
            return response.status_code, sorted((e["field"], e["rule"]) for e in body["errors"])
        return response.status_code, sorted(body) if isinstance(body, dict) else body
    for token in set(re.findall(r'name="csrf[_-]token" (?:content|value)="([^"]+)"', text)):
        text = text.replace(token, "<csrf>")
    return response.status_code, text


def _probes(
    client: TestClient,
    headers: dict[str, str],
    user: str,
    field: str,
    guess: str,
    own_id: int,
    own_version: int,
) -> dict[str, tuple[Any, ...]]:
    """Every way to look an L3 value up, answered for one guess."""
    answers: dict[str, tuple[Any, ...]] = {}
    for q in (guess, f"{guess[:6]} {guess[6:14]} {guess[14:]}"):
        answers[f"api list q={q != guess}"] = _shape(
            client.get(f"{API}/customers", params={"q": q}, headers=headers), q
        )
    if user in WRITERS:
        body: dict[str, Any] = {
            "kind": "individual",
            "name": "试探",
            "source_channel": "visit",
            "purpose": "sales_service",
            field: guess,
        }
        answers["create"] = _shape(client.post(f"{API}/customers", json=body, headers=headers), guess)
        change = {field: guess, "version": own_version}
        answers["update"] = _shape(
            client.patch(f"{API}/customers/{own_id}", json=change, headers=headers), guess
        )
    lookup = {"target": "customer", field: guess, "reason": "核对"}
    answers["access request"] = _shape(
        client.post(f"{API}/access-requests", json=lookup, headers=headers), guess
    )
    _sign_in(client, user)
    answers["web list"] = _shape(client.get("/customers", params={"q": guess}), guess)
    client.cookies.clear()
    return answers


def _explain(
    user: str, where: str, field: str, name: str, right: dict[str, Any], wrong: dict[str, Any]
) -> str:
    """Where the two answers differ, as a short diff."""
    diff = difflib.unified_diff(
        str(right[name]).split("\\n"), str(wrong[name]).split("\\n"), lineterm="", n=1
    )
    return f"{user} {where} {field} {name}: " + "\n".join(list(diff)[:30])


@pytest.mark.parametrize("field", ["id_number", "bank_account"])
def test_a_masked_role_cannot_confirm_a_guessed_l3_value_anywhere(
    client: TestClient,
    session: Session,
    world: dict[str, User],
    targets: dict[str, dict[str, Any]],
    token: Callable[[str], dict[str, str]],
    hashed: list[str],
    field: str,
) -> None:
    for user in MASKED_ROLES:
        headers = token(user)
        own = targets["in_scope"]
        for where, target in targets.items():
            right = target[field]
            version = client.get(f"{API}/customers/{own['id']}", headers=token("sales_east1")).json()[
                "version"
            ]
            answers_right = _probes(client, headers, user, field, right, own["id"], version)
            answers_wrong = _probes(
                client, headers, user, field, wrong_guess(field, right), own["id"], version
            )
            for name in answers_right:
                assert answers_right[name] == answers_wrong[name], _explain(
                    user, where, field, name, answers_right, answers_wrong
                )
            for name, answer in answers_right.items():
                assert answer[0] < 500, (user, where, name, answer)
    assert hashed == [], "a keyed hash was computed for a caller who may not search the field"
    searched = session.scalars(select(AuditEntry).where(AuditEntry.action == SEARCH_ACTION)).all()
    assert searched == []


def test_a_role_that_may_reveal_searches_exactly_audited_and_rate_limited(
    client: TestClient,
    session: Session,
    targets: dict[str, dict[str, Any]],
    token: Callable[[str], dict[str, str]],
) -> None:
    steward = token("steward")
    target = targets["out_of_scope"]
    for field in ("id_number", "bank_account"):
        found = client.get(f"{API}/customers", params={"q": target[field]}, headers=steward).json()
        assert [c["id"] for c in found["items"]] == [target["id"]], field
        assert target[field] not in str(found)  # the steward still sees the value masked
    entries = session.scalars(
        select(AuditEntry).where(AuditEntry.action == SEARCH_ACTION).order_by(AuditEntry.seq)
    ).all()
    assert [(e.actor, e.details["field"], e.details["purpose"], e.details["matched"]) for e in entries] == [
        ("steward", "id_number", "search", True),
        ("steward", "bank_account", "search", True),
    ]
    assert all(
        target["id_number"] not in str(e.details) and target["bank_account"] not in str(e.details)
        for e in entries
    )

    # The duplicate check on create is an exact look-up too: audited, and it names no record.
    body = {
        "kind": "individual",
        "name": "重复",
        "source_channel": "visit",
        "purpose": "sales_service",
        "id_number": target["id_number"],
    }
    duplicate = client.post(f"{API}/customers", json=body, headers=steward)
    assert duplicate.status_code == 409 and duplicate.json()["errors"][0]["rule"] == "field.duplicate"
    assert str(target["id"]) not in duplicate.text and target["id_number"] not in duplicate.text

    # 2 searches and 1 duplicate check so far; the limit counts them all, per user.
    for _ in range(L3_LOOKUP_LIMIT - 3):
        assert (
            client.get(f"{API}/customers", params={"q": target["id_number"]}, headers=steward).status_code
            == 200
        )
    limited = client.get(f"{API}/customers", params={"q": target["id_number"]}, headers=steward)
    assert limited.status_code == 429
    assert limited.json()["title"] and str(L3_LOOKUP_LIMIT) in limited.json()["detail"]
    assert target["id_number"] not in limited.text
    # Plain searches go on; another user's budget is their own.
    assert client.get(f"{API}/customers", params={"q": "李"}, headers=steward).status_code == 200
    admin = client.get(f"{API}/customers", params={"q": target["id_number"]}, headers=token("admin"))
    assert [c["id"] for c in admin.json()["items"]] == [target["id"]]


def test_a_level_grant_opens_the_exact_search(
    client: TestClient,
    session: Session,
    targets: dict[str, dict[str, Any]],
    token: Callable[[str], dict[str, str]],
) -> None:
    sales = token("sales_east1")
    own = targets["in_scope"]
    assert client.get(f"{API}/customers", params={"q": own["id_number"]}, headers=sales).json()["items"] == []
    created = client.post(
        f"{API}/access-requests", json={"target": "level", "level": "L3", "reason": "核对身份"}, headers=sales
    ).json()
    assert (
        client.post(f"{API}/access-requests/{created['id']}/approve", headers=token("admin")).status_code
        == 200
    )
    found = client.get(f"{API}/customers", params={"q": own["id_number"]}, headers=sales).json()
    assert [c["id"] for c in found["items"]] == [own["id"]]


def test_the_lookup_limit_is_catalogue_data(
    client: TestClient, targets: dict[str, dict[str, Any]], token: Callable[[str], dict[str, str]]
) -> None:
    admin = token("admin")
    document = client.get(f"{API}/field-levels", headers=admin).json()["document"]
    assert document["l3_lookups"] == {"limit": L3_LOOKUP_LIMIT, "window_minutes": 10}
    bad = {**document, "l3_lookups": {"limit": 0, "window_minutes": 10}}
    refused = client.put(f"{API}/field-levels", json={"document": bad, "reason": "x"}, headers=admin)
    assert refused.status_code == 422
    assert [e["field"] for e in refused.json()["errors"]] == ["l3_lookups.limit"]
    tight = {**document, "l3_lookups": {"limit": 2, "window_minutes": 60}}
    assert (
        client.put(
            f"{API}/field-levels", json={"document": tight, "reason": "收紧"}, headers=admin
        ).status_code
        == 200
    )
    steward, q = token("steward"), {"q": targets["in_scope"]["id_number"]}
    assert [client.get(f"{API}/customers", params=q, headers=steward).status_code for _ in range(3)] == [
        200,
        200,
        429,
    ]
