"""Protection in the web UI: masked values rendered on the server, reveal, request → approve pages."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session
from tests.factories import DEFAULT_PASSWORD

from custinfo.core.db import utcnow
from custinfo.customers.models import Customer
from custinfo.protection.events import SensitiveFieldRead
from custinfo.protection.models import AccessRequest

from .conftest import Record


def _sign_in(client: TestClient, username: str) -> str:
    """Sign in through the form; returns the session's CSRF token."""
    client.cookies.clear()
    page = client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token
    data = {"csrf_token": token.group(1), "username": username, "password": DEFAULT_PASSWORD, "next": ""}
    assert client.post("/login", data=data, follow_redirects=False).status_code == 303
    home = client.get("/access-requests")
    csrf = re.search(r'name="csrf-token" content="([^"]+)"', home.text)
    assert csrf
    return csrf.group(1)


def test_360_page_masks_on_the_server_and_reveal_is_audited_per_role(
    client: TestClient, world: Any, records: dict[str, Record]
) -> None:
    own = records["own"]
    csrf = _sign_in(client, "sales_east1")
    page = client.get(f"/customers/{own.individual}")
    assert page.status_code == 200
    assert own.id_number not in page.text and own.id_number[:6] + "********" + own.id_number[-4:] in page.text
    assert "张江路" not in page.text and "上海市浦东新区****" in page.text
    # sales may not reveal L3: no button is offered (a direct call is still refused)
    assert f'hx-post="/customers/{own.individual}/reveal?field=id_number"' not in page.text
    assert "reveal-button" not in page.text
    denied = client.post(
        f"/customers/{own.individual}/reveal?field=id_number",
        headers={"X-CSRF-Token": csrf, "HX-Request": "true"},
    )
    assert denied.status_code == 403 and own.id_number not in denied.text
    assert own.mobile in client.get("/customers").text  # L1 stays clear in the list

    edit = client.get(f"/customers/{own.individual}/edit")
    assert own.id_number not in edit.text and own.id_number[-4:] + "<" not in edit.text

    csrf = _sign_in(client, "admin")
    # admin may reveal L3: the button is offered, and only for the fields it masks
    admin_page = client.get(f"/customers/{own.individual}").text
    assert f'hx-post="/customers/{own.individual}/reveal?field=id_number"' in admin_page
    assert 'reveal?field=name"' not in admin_page
    revealed = client.post(
        f"/customers/{own.individual}/reveal?field=id_number",
        headers={"X-CSRF-Token": csrf, "HX-Request": "true"},
    )
    assert revealed.status_code == 200 and own.id_number in revealed.text


def test_edit_form_leaves_masked_fields_unchanged(
    client: TestClient, world: Any, records: dict[str, Record], session: Session
) -> None:
    own = records["own"]
    _sign_in(client, "sales_east1")
    form = client.get(f"/customers/{own.individual}/edit").text
    values = dict(re.findall(r'<input[^>]*name="([a-z_]+)"[^>]*?value="([^"]*)"', form))
    for name, block in re.findall(r'<select[^>]*name="([a-z_]+)"(.*?)</select>', form, re.S):
        chosen = re.search(r'<option value="([^"]*)" selected', block)
        values[name] = chosen.group(1) if chosen else ""
    # The ID number is not offered (a steward enters it); the masked address starts blank = unchanged.
    assert "id_number" not in values and values["address"] == "" and values["mobile"] == own.mobile
    values["region"] = "上海市"
    response = client.post(f"/customers/{own.individual}/edit", data=values, follow_redirects=False)
    assert response.status_code == 303, response.text
    session.expire_all()
    stored = session.get(Customer, own.individual)
    assert stored is not None and stored.id_number == own.id_number and stored.region == "上海市"
    assert stored.address is not None and stored.address.startswith("上海市浦东新区张江路")


def test_request_approve_pages(client: TestClient, world: Any, records: dict[str, Record]) -> None:
    other = records["other_department"]
    csrf = _sign_in(client, "sales_east1")
    bad = client.post(
        "/access-requests", data={"csrf_token": csrf, "target": "level", "level": "", "reason": ""}
    )
    assert bad.status_code == 422
    sent = client.post(
        "/access-requests",
        data={
            "csrf_token": csrf,
            "target": "customer",
            "customer_id": str(other.individual),
            "reason": "协助",
        },
        follow_redirects=False,
    )
    assert sent.status_code == 303
    assert "request-pending" in client.get("/access-requests").text
    csrf = _sign_in(client, "head_south")
    queue = client.get("/access-requests/queue").text
    match = re.search(r'formaction="/access-requests/(\d+)/approve"', queue)
    assert match
    done = client.post(
        f"/access-requests/{match.group(1)}/approve",
        data={"csrf_token": csrf, "comment": "同意"},
        follow_redirects=False,
    )
    assert done.status_code == 303
    _sign_in(client, "sales_east1")
    assert "request-approved" in client.get("/access-requests").text
    assert client.get(f"/customers/{other.individual}").status_code == 200


def test_field_level_page(client: TestClient, world: Any, records: dict[str, Record]) -> None:
    csrf = _sign_in(client, "admin")
    page = client.get("/field-levels")
    assert page.status_code == 200 and 'name="level.customer.id_number"' in page.text
    saved = client.post(
        "/field-levels",
        data={"csrf_token": csrf, "level.customer.email": "L2", "reason": "邮箱按重要处理"},
        follow_redirects=False,
    )
    assert saved.status_code == 303
    assert "邮箱按重要处理" in client.get("/field-levels").text
    _sign_in(client, "sales_east1")
    assert client.get("/field-levels").status_code == 403


def test_with_a_level_grant_the_list_logs_no_read_of_fields_it_does_not_show(
    client: TestClient, world: Any, records: dict[str, Record], session: Session, captured: list[Any]
) -> None:
    own = records["own"]
    session.add(
        AccessRequest(
            requester_id=world["sales_east1"].id,
            target="level",
            level="L3",
            reason="核验",
            days=1,
            status="approved",
            decided_at=utcnow(),
            expires_at=utcnow() + timedelta(days=1),
        )
    )
    session.commit()
    _sign_in(client, "sales_east1")
    captured.clear()
    listing = client.get("/customers?size=50")
    assert listing.status_code == 200
    # the list shows no L3 column: opening it with an L3 grant reads (and logs) no L3 value
    assert [e for e in captured if isinstance(e, SensitiveFieldRead) and e.level == "L3"] == []
    assert own.id_number not in listing.text
    page = client.get(f"/customers/{own.individual}").text
    # with the grant the value is clear on the 360 page (logged), so there is nothing to reveal
    assert own.id_number in page
    assert any(isinstance(e, SensitiveFieldRead) and e.level == "L3" for e in captured)
