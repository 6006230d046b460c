"""HTML pages of protection: my access requests, the approval queue, the field catalogue, reveal."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from custinfo.auth import service as accounts
from custinfo.auth.deps import DbSession, language_of
from custinfo.auth.policy import Permission, Principal, can
from custinfo.auth.web import FormFields, WebUser, web_user
from custinfo.core.errors import FieldError, Invalid
from custinfo.core.problems import field_errors_of, render_field_error
from custinfo.protection import catalogue, service
from custinfo.protection.catalogue import ENTITIES, LEVELS, Catalogue
from custinfo.web.templating import render, see_other

router = APIRouter(include_in_schema=False, dependencies=[Depends(web_user)])


def _int(value: str | None) -> int | None:
    value = (value or "").strip()
    return int(value) if value.isdigit() else None


def _messages(request: Request, error: Invalid) -> list[str]:
    language = language_of(request)
    return [render_field_error(e, language)["message"] for e in field_errors_of(error)]


def _requests_page(
    request: Request,
    session: Session,
    principal: Principal,
    *,
    flash: str | None = None,
    errors: list[str] | None = None,
    values: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    """My requests and grants with the new-request form (again with messages after invalid input)."""
    requests = service.list_requests(session, principal)
    return render(
        request,
        "protection/requests.html",
        status_code=status_code,
        requests=requests,
        flash=flash,
        errors=errors or [],
        values=values or {},
        can_approve=can(principal, Permission.ACCESS_APPROVE),
        people_names=accounts.display_names(session, [r.approver for r in requests]),
    )


def _field_levels_page(
    request: Request,
    session: Session,
    principal: Principal,
    current: Catalogue,
    *,
    flash: str | None = None,
    errors: list[str] | None = None,
    status_code: int = 200,
) -> Response:
    """The field catalogue page (again with messages after an invalid change)."""
    return render(
        request,
        "protection/field_levels.html",
        status_code=status_code,
        catalogue=current,
        entities=[e for e in ENTITIES if current.fields(e)],
        # fields stored in clear cannot be L3 (encrypted at rest): the option is off, the reason shown
        l3_refusals={
            f"{entity}.{name}": reason
            for entity in ENTITIES
            for name in current.fields(entity)
            if (reason := catalogue.l3_refusal(entity, name)) is not None
        },
        levels=LEVELS,
        roles=sorted(current.document.get("roles", {})),
        history=service.catalogue_history(session, principal),
        can_manage=can(principal, Permission.FIELD_LEVELS_MANAGE),
        flash=flash,
        errors=errors or [],
    )


@router.get("/access-requests", response_class=HTMLResponse)
def my_requests(
    request: Request, session: DbSession, principal: WebUser, flash: str | None = None
) -> Response:
    """The caller's requests and grants (expired ones marked), with the form for a new request."""
    return _requests_page(request, session, principal, flash=flash)


@router.post("/access-requests", response_class=HTMLResponse)
def create_request(request: Request, session: DbSession, principal: WebUser, form: FormFields) -> Response:
    """Submit a request; invalid input brings the page back with the messages."""
    target = form.get("target", "")
    data = {
        "target": target,
        "level": form.get("level") or None,
        "customer_id": _int(form.get("customer_id")),
        "reason": form.get("reason", ""),
        "days": _int(form.get("days")),
    }
    if target == "customer" and data["customer_id"] is None:
        data["customer_id"] = 0
    try:
        with session.begin_nested():
            service.create_request(session, principal, {k: v for k, v in data.items() if v is not None})
    except Invalid as error:
        return _requests_page(
            request, session, principal, errors=_messages(request, error), values=form, status_code=422
        )
    return see_other("/access-requests?flash=requested")


@router.get("/access-requests/queue", response_class=HTMLResponse)
def queue(request: Request, session: DbSession, principal: WebUser, flash: str | None = None) -> Response:
    """Pending requests the caller may approve or reject."""
    requests = service.list_requests(session, principal, True)
    return render(
        request,
        "protection/queue.html",
        requests=requests,
        flash=flash,
        people_names=accounts.display_names(session, [r.requester for r in requests]),
    )


@router.post("/access-requests/{request_id}/{decision}", response_class=HTMLResponse)
def decide(
    request_id: int, decision: str, session: DbSession, principal: WebUser, form: FormFields
) -> Response:
    """Approve or reject from the queue."""
    if decision not in ("approve", "reject"):
        raise Invalid([FieldError("decision", "vocabulary.unknown", {"allowed": "approve, reject"})])
    service.decide(session, principal, request_id, decision == "approve", form.get("comment"))
    return see_other(f"/access-requests/queue?flash={decision}d")


@router.post("/customers/{customer_id}/reveal", response_class=HTMLResponse)
def reveal(
    request: Request, session: DbSession, principal: WebUser, customer_id: int, field: str
) -> Response:
    """One value in clear, swapped in next to where it was masked (HTMX); the read is audited."""
    revealed = service.reveal(session, principal, customer_id, field)
    return render(request, "protection/_revealed.html", revealed=revealed)


@router.get("/field-levels", response_class=HTMLResponse)
def field_levels(
    request: Request, session: DbSession, principal: WebUser, flash: str | None = None
) -> Response:
    """The field catalogue: level of every field, visibility per role, version history."""
    return _field_levels_page(
        request, session, principal, service.current_catalogue(session, principal), flash=flash
    )


@router.post("/field-levels", response_class=HTMLResponse)
def save_field_levels(request: Request, session: DbSession, principal: WebUser, form: FormFields) -> Response:
    """Save changed levels as a new catalogue version (admin), with the reason given."""
    current = catalogue.current(session)
    document = {
        **current.document,
        "fields": {e: dict(f) for e, f in current.document.get("fields", {}).items()},
    }
    for entity, fields in document["fields"].items():
        for name, spec in fields.items():
            chosen = form.get(f"level.{entity}.{name}")
            if chosen and chosen != spec.get("level"):
                fields[name] = {**spec, "level": chosen}
    try:
        with session.begin_nested():
            service.change_catalogue(session, principal, document, form.get("reason"))
    except Invalid as error:
        return _field_levels_page(
            request, session, principal, current, errors=_messages(request, error), status_code=422
        )
    return see_other("/field-levels?flash=levels_saved")
