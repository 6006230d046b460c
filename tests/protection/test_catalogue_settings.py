"""The field-level editor: settings that would break a screen are refused; harsh valid ones render everywhere.

Before, a catalogue naming a field with another type, dropping a field or a role, or
masking what a screen formats (a date, a quantity) was stored, and every customer screen
answered 500. Each refusal below names the field and the rule; each accepted harsh
setting (a role that sees nothing, everything masked) is saved and then every customer
page, tab and JSON route is requested as every role: none may fail.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from custinfo.auth.deps import SESSION_COOKIE
from custinfo.auth.models import User
from custinfo.auth.policy import Principal
from custinfo.auth.service import issue_session
from custinfo.protection import catalogue
from custinfo.protection import service as protection

from .test_leak_matrix import USERS, Planted, planted, routes

__all__ = ["planted"]  # the fixture, shared with the leak matrix

API = "/api/v1"


def _shipped() -> dict[str, Any]:
    return copy.deepcopy(catalogue.default_document())


def _with(change: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    document = _shipped()
    change(document)
    return document


REFUSED: dict[str, tuple[Callable[[dict[str, Any]], None], str]] = {
    "a field given another type": (
        lambda d: d["fields"]["order"]["amount"].update(type="text"),
        "fields.order.amount",
    ),
    "a field dropped": (lambda d: d["fields"]["customer"].pop("id_number"), "fields.customer.id_number"),
    "an unknown field": (
        lambda d: d["fields"]["order"].update(discount={"level": "L2", "type": "money"}),
        "fields.order.discount",
    ),
    "an unknown entity": (lambda d: d["fields"].update(invoice={}), "fields.invoice"),
    "a role dropped": (lambda d: d["roles"].pop("service"), "roles.service"),
    "an unknown role": (
        lambda d: d["roles"].update(intern={"levels": dict.fromkeys(("L1", "L2", "L3"), "clear")}),
        "roles.intern",
    ),
    "an unknown state": (lambda d: d["roles"]["sales"]["levels"].update(L2="partly"), "roles.sales"),
    "a missing level": (lambda d: d["roles"]["sales"]["levels"].pop("L3"), "roles.sales.levels"),
    "an override of an unknown field": (
        lambda d: d["roles"]["sales"].update(fields={"order.discount": "clear"}),
        "roles.sales.fields.order.discount",
    ),
    "an unknown role setting": (lambda d: d["roles"]["sales"].update(export="all"), "roles.sales"),
    "a mask number of the wrong kind": (
        lambda d: d["masks"]["mobile"].update(keep_first="three"),
        "masks.mobile.keep_first",
    ),
    "a mask number out of bounds": (
        lambda d: d["masks"]["mobile"].update(keep_last=-2),
        "masks.mobile.keep_last",
    ),
    "an empty fill": (lambda d: d["masks"]["text"].update(fill=""), "masks.text.fill"),
    "a mask of an unknown type": (lambda d: d["masks"].update(iban={"keep_last": 4}), "masks.iban"),
    "an unknown top-level setting": (lambda d: d.update(export_all=True), "export_all"),
    "grant days out of range": (lambda d: d.update(grant_days=0), "grant_days"),
}


def test_the_shipped_catalogue_is_valid() -> None:
    assert catalogue.problems(_shipped()) == []


@pytest.mark.parametrize("case", list(REFUSED))
def test_a_setting_a_screen_cannot_show_is_refused_naming_the_field(
    case: str, client: TestClient, session: Session, world: dict[str, User]
) -> None:
    change, field = REFUSED[case]
    issued = issue_session(session, world["admin"], "api", timedelta(hours=1))
    session.commit()
    response = client.put(
        f"{API}/field-levels",
        json={"document": _with(change), "reason": "试一试"},
        headers={"Authorization": f"Bearer {issued.secret}"},
    )
    assert response.status_code == 422, response.text
    fields = [e["field"] for e in response.json()["errors"]]
    assert any(f.endswith(field) for f in fields), (case, fields)
    assert all(e["message"] and "catalogue." not in e["message"] for e in response.json()["errors"])


def _nothing_for_anyone(d: dict[str, Any]) -> None:
    for settings in d["roles"].values():
        settings.update(levels=dict.fromkeys(("L1", "L2", "L3"), "hidden"), entities={}, fields={})


def _everything_masked(d: dict[str, Any]) -> None:
    for settings in d["roles"].values():
        settings.update(levels=dict.fromkeys(("L1", "L2", "L3"), "masked"), entities={}, fields={})


def _formatted_fields_hidden_or_masked(d: dict[str, Any]) -> None:
    overrides = {
        "order.quantity": "masked",
        "order.ordered_on": "masked",
        "interaction.occurred_at": "masked",
        "interaction.satisfaction": "masked",
        "need.recorded_at": "masked",
        "need.budget_max": "hidden",
        "contract.status": "hidden",
        "customer.name": "hidden",
        "customer.kind": "hidden",
        "customer.employee_count": "masked",
        "contact.in_post": "masked",
    }
    for settings in d["roles"].values():
        settings["fields"] = {k: v for k, v in overrides.items() if k != "customer.kind"}


HARSH = {
    "a role that sees nothing (every role)": _nothing_for_anyone,
    "everything masked": _everything_masked,
    "formatted fields masked or hidden": _formatted_fields_hidden_or_masked,
}


@pytest.mark.parametrize("setting", list(HARSH))
def test_every_screen_renders_under_every_valid_setting(
    setting: str, client: TestClient, session: Session, world: dict[str, User], planted: Planted
) -> None:
    admin = world["admin"]
    principal = Principal(admin.id, admin.username, admin.role, admin.department_id)
    document = _with(HARSH[setting])
    assert catalogue.problems(document) == []
    protection.change_catalogue(session, principal, document, setting)
    session.commit()
    chosen = [
        r for r in routes(planted) if r.customer is not None or r.path.endswith(("/customers", "size=200"))
    ]
    for role, username in USERS.items():
        user = world[username]
        api = issue_session(session, user, "api", timedelta(hours=1))
        web = issue_session(session, user, "web", timedelta(hours=1))
        session.commit()
        client.cookies.set(SESSION_COOKIE, web.secret)
        for route in chosen:
            headers = {} if route.web else {"Authorization": f"Bearer {api.secret}"}
            response = client.get(route.path, headers=headers, follow_redirects=False)
            assert response.status_code < 500, (setting, role, route.path, response.text[:300])
            if route.web and response.status_code == 200:  # a withheld value is a dash, never Python's None
                shown = re.findall(r">\s*None\s*<|\bNone\b(?=[^<>]*<)", response.text)
                assert not shown, (setting, role, route.path, shown[:3])
