"""HTML page of the product category vocabulary: `/classification/categories`.

The steward (and admin) add, rename, map raw order values and retire categories here; everyone who
reads classification sees the same list without the forms. A refused save re-shows the page with the
message under the input it concerns.
"""

from __future__ import annotations

import re
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from custinfo.auth.deps import DbSession, language_of
from custinfo.auth.policy import Principal
from custinfo.auth.web import FormFields, WebUser, web_user
from custinfo.classification.categories import service
from custinfo.core.errors import Conflict, Invalid
from custinfo.web.forms import FormState, form_state, version_of
from custinfo.web.templating import render, see_other

router = APIRouter(include_in_schema=False, dependencies=[Depends(web_user)])

PAGE = "/classification/categories"
SPLIT = re.compile(r"[\n,，、;；]+")


def _values(raw: str) -> list[str]:
    """Raw values as typed: one per line, or separated by commas or 、."""
    return [v.strip() for v in SPLIT.split(raw or "") if v.strip()]


def _page(
    request: Request,
    session: Session,
    principal: Principal,
    *,
    state: FormState | None = None,
    edit_state: tuple[int, FormState] | None = None,
    map_state: tuple[str, FormState] | None = None,
    flash: str | None = None,
    status_code: int = 200,
) -> Response:
    found = service.vocabulary(session, principal)
    return render(
        request,
        "classification/categories.html",
        status_code=status_code,
        vocabulary=found,
        active=[c for c in found.categories if c.active],
        state=state or FormState(),
        edit_state=edit_state,
        map_state=map_state,
        flash=flash,
    )


@router.get(PAGE, response_class=HTMLResponse)
def categories(
    request: Request, session: DbSession, principal: WebUser, flash: str | None = None
) -> Response:
    """The product categories with their raw values and orders; forms for the steward."""
    return _page(request, session, principal, flash=flash)


@router.post(PAGE, response_class=HTMLResponse)
def create_category(request: Request, session: DbSession, principal: WebUser, form: FormFields) -> Response:
    """Add a category."""
    values = {k: form.get(k, "") for k in ("name_zh", "name_en", "values")}
    data: dict[str, Any] = {**values, "values": _values(values["values"])}
    try:
        with session.begin_nested():
            service.create(session, principal, data)
    except (Invalid, Conflict) as error:
        state = form_state(error, values, language_of(request))
        return _page(request, session, principal, state=state, status_code=error.status)
    return see_other(f"{PAGE}?flash=category_created")


@router.post(PAGE + "/seed", response_class=HTMLResponse)
def seed_categories(session: DbSession, principal: WebUser) -> Response:
    """Add a category for every raw order category no category counts yet."""
    created = service.seed(session, principal)
    return see_other(f"{PAGE}?flash={'categories_seeded' if created else 'categories_seed_none'}")


@router.post(PAGE + "/map", response_class=HTMLResponse)
def map_value(request: Request, session: DbSession, principal: WebUser, form: FormFields) -> Response:
    """Count a raw order category as one of the categories (a merge into it)."""
    value = form.get("value", "")
    values = {"value": value, "category": form.get("category", "")}
    raw_id = values["category"].strip()
    try:
        with session.begin_nested():
            service.map_value(
                session, principal, int(raw_id) if raw_id.isdigit() else None, value, version_of(form)
            )
    except (Invalid, Conflict) as error:
        state = form_state(error, values, language_of(request))
        return _page(request, session, principal, map_state=(value, state), status_code=error.status)
    return see_other(f"{PAGE}?flash=category_mapped")


@router.post(PAGE + "/{category_id}", response_class=HTMLResponse)
def update_category(
    request: Request, session: DbSession, principal: WebUser, category_id: int, form: FormFields
) -> Response:
    """Rename a category or change the raw values it counts."""
    values = {k: form.get(k, "") for k in ("name_zh", "name_en", "values")}
    data: dict[str, Any] = {**values, "values": _values(values["values"])}
    try:
        with session.begin_nested():
            service.update(session, principal, category_id, version_of(form), data)
    except (Invalid, Conflict) as error:
        state = form_state(error, values, language_of(request))
        return _page(request, session, principal, edit_state=(category_id, state), status_code=error.status)
    return see_other(f"{PAGE}?flash=category_saved")


@router.post(PAGE + "/{category_id}/retire", response_class=HTMLResponse)
def retire_category(
    request: Request, session: DbSession, principal: WebUser, category_id: int, form: FormFields
) -> Response:
    """Retire a category (its preference tag ends at the next classification run)."""
    try:
        with session.begin_nested():
            service.retire(session, principal, category_id, version_of(form))
    except (Invalid, Conflict) as error:
        state = form_state(error, {}, language_of(request))
        return _page(request, session, principal, edit_state=(category_id, state), status_code=error.status)
    return see_other(f"{PAGE}?flash=category_retired")
