"""The picker kit: search-as-you-type lookups behind the person and customer pickers of every form.

A form never asks for a typed username or customer number: it draws `person_picker` or
`customer_picker` (templates/_pickers.html), whose script (static/pickers.js) asks these routes
for matches and submits the chosen username or customer id in a hidden input.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from fastapi.responses import JSONResponse

from custinfo.auth import service as accounts
from custinfo.auth.deps import DbSession
from custinfo.auth.policy import Permission, can
from custinfo.auth.web import WebUser, web_user
from custinfo.core.errors import NotPermitted
from custinfo.customers import service as customers
from custinfo.customers.repository import CustomerFilter

router = APIRouter(include_in_schema=False, dependencies=[Depends(web_user)])
LIMIT = 20


def _choice(value: str | int, label: str, hint: str) -> dict[str, str]:
    return {"value": str(value), "label": label, "hint": hint}


@router.get("/pickers/people")
def people(
    session: DbSession,
    principal: WebUser,
    q: Annotated[str, Query(max_length=64)] = "",
    role: Annotated[list[str] | None, Query()] = None,
) -> JSONResponse:
    """Enabled people matching `q` (username or display name), optionally of some roles."""
    found = accounts.search_people(session, principal, q, tuple(role or ()), LIMIT)
    return JSONResponse(
        [
            _choice(
                u.username,
                u.display_name,
                " · ".join(filter(None, [u.username, u.department.name if u.department else None])),
            )
            for u in found
        ]
    )


@router.get("/pickers/customers")
def customer_choices(
    session: DbSession,
    principal: WebUser,
    q: Annotated[str, Query(max_length=100)] = "",
    mode: Annotated[str, Query(max_length=10)] = "scope",
) -> JSONResponse:
    """Customers matching `q` by name: in the caller's scope, or (mode=request) companies outside it."""
    if mode == "request":
        found = customers.companies_to_request(session, principal, q)
        return JSONResponse([_choice(c.id, c.name, f"#{c.id}") for c in found])
    if not can(principal, Permission.CUSTOMER_READ):
        raise NotPermitted("error.permission", permission=Permission.CUSTOMER_READ)
    rows, _, _ = customers.list_customers(session, principal, CustomerFilter(q=q.strip() or None), 1, LIMIT)
    return JSONResponse([_choice(r.customer.id, r.customer.name, f"#{r.customer.id}") for r in rows])
