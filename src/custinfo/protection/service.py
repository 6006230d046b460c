"""Protection use-cases: the field catalogue, access requests and grants, revealing one value.

Approval rules (REQUIREMENTS §3.3): a request for level L2, or for a customer,
is decided by the department head of the requester's department (L2) or of the
customer's department (customer), or by an admin; a request for L3 only by an
admin; nobody decides their own request. An approved request is a grant for
`days` days from the decision; it expires by itself (checked on every read).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_
from sqlalchemy.orm import Session

from custinfo.auth.events import PermissionChanged
from custinfo.auth.policies.access_requests import approvable_requests
from custinfo.auth.policy import Permission, Principal, in_natural_scope, require
from custinfo.core.db import utcnow
from custinfo.core.errors import FieldError, Invalid, NotFound, NotPermitted
from custinfo.core.uow import record
from custinfo.customers import service as customers
from custinfo.protection import catalogue, repository
from custinfo.protection.catalogue import MAX_GRANT_DAYS, Catalogue
from custinfo.protection.events import AccessDecided, AccessRequested, SensitiveFieldRead
from custinfo.protection.models import AccessRequest, FieldCatalogueVersion
from custinfo.protection.views import forget_views, view_for

REQUEST_LEVELS = ("L2", "L3")
TARGETS = ("level", "customer")
MAX_REASON = 1000


# --- field catalogue ---------------------------------------------------------------------------------


def current_catalogue(session: Session, principal: Principal) -> Catalogue:
    """The catalogue in force (levels, visibility per role, masks)."""
    require(principal, Permission.FIELD_LEVELS_READ)
    return catalogue.current(session)


def catalogue_history(session: Session, principal: Principal) -> list[FieldCatalogueVersion]:
    """Every catalogue version, newest first."""
    require(principal, Permission.FIELD_LEVELS_READ)
    return catalogue.history(session)


def _differences(before: dict[str, Any], after: dict[str, Any]) -> list[tuple[str, Any, Any]]:
    changed: list[tuple[str, Any, Any]] = []
    entities = set(before.get("fields", {})) | set(after.get("fields", {}))
    for entity in sorted(entities):
        old_fields, new_fields = (
            before.get("fields", {}).get(entity, {}),
            after.get("fields", {}).get(entity, {}),
        )
        for name in sorted(set(old_fields) | set(new_fields)):
            if old_fields.get(name) != new_fields.get(name):
                changed.append((f"field_level:{entity}.{name}", old_fields.get(name), new_fields.get(name)))
    for section in ("roles", "masks"):
        old, new = before.get(section, {}), after.get(section, {})
        for key in sorted(set(old) | set(new)):
            if old.get(key) != new.get(key):
                changed.append((f"{section[:-1]}:{key}", old.get(key), new.get(key)))
    for key in ("grant_days", "l3_lookups"):
        if before.get(key) != after.get(key):
            changed.append((key, before.get(key), after.get(key)))
    return changed


def change_catalogue(session: Session, principal: Principal, document: Any, reason: str | None) -> Catalogue:
    """Store a new catalogue version (admin only); each changed entry is audited as PermissionChanged."""
    require(principal, Permission.FIELD_LEVELS_MANAGE)
    errors = catalogue.problems(document)
    if not reason or not reason.strip():
        errors.append(FieldError("reason", "field.required"))
    if errors:
        raise Invalid(errors)
    before = catalogue.current(session)
    changes = _differences(before.document, document)
    if not changes:
        raise Invalid([FieldError("document", "catalogue.unchanged")])
    version = before.version + 1
    session.add(
        FieldCatalogueVersion(
            version=version, document=document, reason=str(reason).strip(), author=principal.username
        )
    )
    session.flush()
    for what, old, new in changes:
        record(session, PermissionChanged(what=what, before=old, after=new))
    forget_views(session)
    return catalogue.current(session)


# --- access requests and grants ---------------------------------------------------------------------


@dataclass(frozen=True)
class RequestRow:
    """An access request with names joined in and its status as of now (expired grants show so)."""

    request: AccessRequest
    requester: str
    approver: str | None
    status: str
    customer_name: str | None
    can_decide: bool


def status_of(request: AccessRequest, now: datetime | None = None) -> str:
    """pending / approved / rejected / expired (an approved grant past its end)."""
    now = now or utcnow()
    if request.status == "approved" and request.expires_at is not None and request.expires_at <= now:
        return "expired"
    return request.status


def _rows(
    session: Session, principal: Principal, requests: Sequence[AccessRequest], now: datetime
) -> list[RequestRow]:
    """Requests with names joined in: one query for the users and one for the customers, not one per row."""
    user_ids = {r.requester_id for r in requests} | {r.approver_id for r in requests if r.approver_id}
    usernames = repository.usernames(session, user_ids)
    customers = repository.customer_briefs(
        session, {r.customer_id for r in requests if r.customer_id is not None}
    )
    pending = {r.id for r in requests if r.status == "pending"}
    decidable = repository.ids_where(session, pending, approvable_requests(principal))
    rows = []
    for request in requests:
        customer = customers.get(request.customer_id) if request.customer_id is not None else None
        # The requester may not yet see the customer: show its number only, never its name.
        customer_name = customer[0] if customer and principal.user_id != request.requester_id else None
        rows.append(
            RequestRow(
                request,
                usernames.get(request.requester_id, "?"),
                usernames.get(request.approver_id) if request.approver_id else None,
                status_of(request, now),
                customer_name,
                request.id in decidable,
            )
        )
    return rows


def _row(session: Session, principal: Principal, request: AccessRequest, now: datetime) -> RequestRow:
    return _rows(session, principal, [request], now)[0]


def create_request(session: Session, principal: Principal, data: dict[str, Any]) -> RequestRow:
    """Ask for clear access to a level (L2/L3) or to one customer, with a reason."""
    require(principal, Permission.ACCESS_REQUEST)
    errors: list[FieldError] = []
    target = data.get("target")
    level, customer_id = data.get("level"), data.get("customer_id")
    reason = (data.get("reason") or "").strip()
    grant_days = catalogue.current(session).grant_days
    days = data.get("days")
    if days is None:
        days = grant_days
    if target not in TARGETS:
        errors.append(FieldError("target", "vocabulary.unknown", {"allowed": ", ".join(TARGETS)}))
    elif target == "level" and level not in REQUEST_LEVELS:
        errors.append(FieldError("level", "vocabulary.unknown", {"allowed": ", ".join(REQUEST_LEVELS)}))
    elif target == "customer":
        if not isinstance(customer_id, int) or customer_id < 1:
            errors.append(FieldError("customer_id", "field.required"))
        else:
            customer = repository.customer(session, customer_id)
            if customer is None:
                errors.append(FieldError("customer_id", "access.customer_unknown"))
            elif in_natural_scope(principal, customer):
                errors.append(FieldError("customer_id", "access.already_in_scope"))
    if not reason:
        errors.append(FieldError("reason", "field.required"))
    elif len(reason) > MAX_REASON:
        errors.append(FieldError("reason", "text.too_long", {"max": MAX_REASON}))
    if not isinstance(days, int) or not 1 <= days <= MAX_GRANT_DAYS:
        errors.append(FieldError("days", "integer.range", {"min": 1, "max": MAX_GRANT_DAYS}))
    if errors:
        raise Invalid(errors)
    request = AccessRequest(
        requester_id=principal.user_id,
        department_id=principal.department_id,
        target=target,
        level=level if target == "level" else None,
        customer_id=customer_id if target == "customer" else None,
        reason=reason,
        days=days,
        status="pending",
    )
    session.add(request)
    session.flush()
    described = f"level:{level}" if target == "level" else f"customer:{customer_id}"
    record(
        session,
        AccessRequested(request_id=request.id, requester=principal.username, target=described, reason=reason),
    )
    return _row(session, principal, request, utcnow())


def list_requests(session: Session, principal: Principal, queue: bool = False) -> list[RequestRow]:
    """The caller's own requests, or (queue) the pending ones the caller may decide."""
    now = utcnow()
    if not queue:
        return _rows(session, principal, repository.requests_of(session, principal.user_id), now)
    require(principal, Permission.ACCESS_APPROVE)
    return _rows(session, principal, repository.pending_where(session, approvable_requests(principal)), now)


def get_request(session: Session, principal: Principal, request_id: int) -> RequestRow:
    """One request, for its requester or an approver of it (otherwise 404)."""
    request = repository.get_request(session, request_id)
    if request is None or (
        request.requester_id != principal.user_id
        and principal.role != "auditor"
        and not repository.ids_where(session, [request.id], approvable_requests(principal))
    ):
        raise NotFound("error.access_request_not_found", id=request_id)
    return _row(session, principal, request, utcnow())


def decide(
    session: Session, principal: Principal, request_id: int, approve: bool, comment: str | None
) -> RequestRow:
    """Approve (the grant runs `days` days from now) or reject a pending request."""
    require(principal, Permission.ACCESS_APPROVE)
    request = repository.get_request(session, request_id, for_update=True)
    if request is not None and request.requester_id == principal.user_id:
        raise NotPermitted("access.own_request")
    if request is None or not repository.ids_where(session, [request.id], approvable_requests(principal)):
        raise NotFound("error.access_request_not_found", id=request_id)
    if request.status != "pending":
        raise Invalid([FieldError("status", "access.already_decided")])
    now = utcnow()
    request.status = "approved" if approve else "rejected"
    request.approver_id = principal.user_id
    request.decided_at = now
    request.comment = (comment or "").strip() or None
    request.expires_at = now + timedelta(days=request.days) if approve else None
    session.flush()
    record(
        session,
        AccessDecided(
            request_id=request.id,
            decision=request.status,
            expires_at=request.expires_at.isoformat() if request.expires_at else None,
        ),
    )
    return _row(session, principal, request, now)


# --- reveal ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Revealed:
    """One value shown in clear, with its level."""

    customer_id: int
    field: str
    level: str
    value: str | None


def reveal(session: Session, principal: Principal, customer_id: int, field: str) -> Revealed:
    """Show one customer field in clear if the role or a grant allows it; logged as SensitiveFieldRead."""
    row = customers.get_customer(session, principal, customer_id)
    view = view_for(session, principal)
    rule = view.rule("customer", field)
    if rule is None or not hasattr(row.customer, field):
        raise Invalid([FieldError("field", "catalogue.unknown_field")])
    if not view.may_reveal("customer", field):
        raise NotPermitted("access.reveal_denied", field=field)
    value = getattr(row.customer, field)
    text = value.isoformat() if hasattr(value, "isoformat") else (None if value is None else str(value))
    if rule.level != "L1":
        record(
            session,
            SensitiveFieldRead(customer_id=customer_id, fields=(field,), level=rule.level, purpose="reveal"),
        )
    return Revealed(customer_id, field, rule.level, text)


def open_requests_for(session: Session, principal: Principal, customer_id: int) -> int:
    """Pending access requests for one customer that the reader made or may decide (the 360 summary)."""
    seen = or_(AccessRequest.requester_id == principal.user_id, approvable_requests(principal))
    return repository.count_pending_for_customer(session, customer_id, seen)
