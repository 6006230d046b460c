"""JSON routes: access requests and grants, revealing one value, the field catalogue."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from sqlalchemy.orm import Session

from custinfo.auth.deps import ApiPrincipal, DbSession
from custinfo.auth.policy import Principal
from custinfo.idempotent import Once
from custinfo.protection import service
from custinfo.protection.schemas import (
    AccessRequestIn,
    AccessRequestOut,
    CatalogueIn,
    CatalogueOut,
    CatalogueVersionOut,
    DecisionIn,
    RevealOut,
    request_out,
)

router = APIRouter(tags=["protection"])


@router.post("/access-requests", response_model=AccessRequestOut, status_code=201)
def create_request(body: AccessRequestIn, session: DbSession, principal: ApiPrincipal, once: Once) -> Any:
    """Ask for clear access to a field level (L2/L3) or to a customer outside your scope (once per key)."""
    return once.run(
        body,
        lambda: request_out(service.create_request(session, principal, body.model_dump(exclude_unset=True))),
    )


@router.get("/access-requests", response_model=list[AccessRequestOut])
def list_requests(
    session: DbSession,
    principal: ApiPrincipal,
    queue: Annotated[bool, Query(description="true: pending requests you may decide")] = False,
) -> list[AccessRequestOut]:
    """Your requests (with expired grants marked), or your approval queue."""
    return [request_out(r) for r in service.list_requests(session, principal, queue)]


@router.get("/access-requests/{request_id}", response_model=AccessRequestOut)
def get_request(request_id: int, session: DbSession, principal: ApiPrincipal) -> AccessRequestOut:
    """One request (yours, or one you may decide)."""
    return request_out(service.get_request(session, principal, request_id))


def _decided(
    session: Session, principal: Principal, request_id: int, approve: bool, body: DecisionIn | None
) -> AccessRequestOut:
    """Approve or reject a request, with the body's comment if one came."""
    return request_out(
        service.decide(session, principal, request_id, approve, body.comment if body else None)
    )


@router.post("/access-requests/{request_id}/approve", response_model=AccessRequestOut)
def approve(
    request_id: int, session: DbSession, principal: ApiPrincipal, body: DecisionIn | None = None
) -> AccessRequestOut:
    """Approve: the grant runs for the requested number of days from now."""
    return _decided(session, principal, request_id, True, body)


@router.post("/access-requests/{request_id}/reject", response_model=AccessRequestOut)
def reject(
    request_id: int, session: DbSession, principal: ApiPrincipal, body: DecisionIn | None = None
) -> AccessRequestOut:
    """Reject, with a comment for the requester."""
    return _decided(session, principal, request_id, False, body)


@router.get("/customers/{customer_id}/reveal", response_model=RevealOut)
def reveal(
    customer_id: int,
    session: DbSession,
    principal: ApiPrincipal,
    field: Annotated[str, Query(description="Customer field, e.g. id_number", max_length=40)],
) -> RevealOut:
    """One masked value in clear, if your role or a grant allows it; the read is audited."""
    revealed = service.reveal(session, principal, customer_id, field)
    return RevealOut(
        customer_id=revealed.customer_id, field=revealed.field, level=revealed.level, value=revealed.value
    )


@router.get("/field-levels", response_model=CatalogueOut)
def get_field_levels(session: DbSession, principal: ApiPrincipal) -> CatalogueOut:
    """The field catalogue in force."""
    current = service.current_catalogue(session, principal)
    return CatalogueOut(version=current.version, document=current.document)


@router.put("/field-levels", response_model=CatalogueOut)
def put_field_levels(body: CatalogueIn, session: DbSession, principal: ApiPrincipal) -> CatalogueOut:
    """Store a new catalogue version (admin); every changed entry is audited."""
    current = service.change_catalogue(session, principal, body.document, body.reason)
    return CatalogueOut(version=current.version, document=current.document)


@router.get("/field-levels/history", response_model=list[CatalogueVersionOut])
def field_level_history(session: DbSession, principal: ApiPrincipal) -> list[CatalogueVersionOut]:
    """Every catalogue version with author, time and reason, newest first."""
    return [CatalogueVersionOut.model_validate(v) for v in service.catalogue_history(session, principal)]
