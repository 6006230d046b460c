"""The audit log over the API: GET /audit with filters, for auditors and admins."""

from __future__ import annotations

import csv
import io
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Query
from fastapi.responses import Response
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from custinfo.audit import service
from custinfo.audit.chain import canonical
from custinfo.audit.events import DataExported
from custinfo.audit.models import AuditEntry
from custinfo.auth.deps import ApiPrincipal, DbSession
from custinfo.auth.policy import Permission, Principal, require
from custinfo.core.errors import FieldError, Invalid
from custinfo.core.spreadsheet import safe_cell
from custinfo.core.uow import record

router = APIRouter(tags=["audit"])
CSV_COLUMNS = (
    "seq", "occurred_at", "actor", "role", "action", "target_type", "target_id", "customer_id", "address",
    "details", "prev_hash", "hash",
)  # fmt: skip


DETAILS_DESCRIPTION = (
    "What happened, as the caller's field view allows. For a change (`details.changes`: field → "
    "[old, new]), clear fields show their values, masked fields their masked values (L3 values are "
    "stored masked), and fields the caller may not see keep their name with both values null and are "
    "listed in `details.hidden_fields`. `hash` seals the stored entry, not this shaped view of it."
)


class AuditEntryOut(BaseModel):
    """One audit-log entry, its change values shaped by the caller's field view (see `details`)."""

    seq: int
    occurred_at: datetime
    actor: str
    role: str | None
    action: str = Field(description="e.g. customer.update, login.failed, sensitive_read, export")
    target_type: str | None
    target_id: str | None
    customer_id: int | None
    details: dict[str, Any] = Field(description=DETAILS_DESCRIPTION)
    address: str | None
    prev_hash: str
    hash: str


class AuditPage(BaseModel):
    """A page of entries, newest first."""

    items: list[AuditEntryOut]
    total: int
    page: int
    size: int


def shown(session: Session, principal: Principal, entries: list[AuditEntry]) -> list[AuditEntryOut]:
    """API view of entries, through the caller's field view."""
    return [AuditEntryOut.model_validate(row) for row in service.shown_entries(session, principal, entries)]


def audit_filter(
    actor: str | None,
    customer_id: int | None,
    action: str | None,
    since: datetime | None,
    until: datetime | None,
) -> service.AuditFilter:
    """Validated filters (times must carry a zone)."""
    errors = [
        FieldError(name, "datetime.timezone")
        for name, value in (("since", since), ("until", until))
        if value is not None and value.tzinfo is None
    ]
    if errors:
        raise Invalid(errors)
    return service.AuditFilter(actor or None, customer_id, action or None, since, until)


def export_csv(session: Session, principal: Principal, filters: service.AuditFilter) -> str:
    """Matching entries as CSV text; the export itself is recorded in the audit log."""
    require(principal, Permission.AUDIT_READ)
    entries = service.all_audit_entries(session, filters)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    for entry in shown(session, principal, entries):
        data = entry.model_dump(mode="json")
        writer.writerow(
            [
                safe_cell(canonical(data[c]) if c == "details" else ("" if data[c] is None else data[c]))
                for c in CSV_COLUMNS
            ]
        )
    used = {k: str(v) for k, v in vars(filters).items() if v is not None}
    record(session, DataExported(what="audit_log", row_count=len(entries), filters=used))
    return buffer.getvalue()


def csv_response(body: str) -> Response:
    """The audit-log CSV as a download (UTF-8 with a byte-order mark)."""
    return Response(
        body.encode("utf-8-sig"),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="audit-log.csv"'},
    )


@router.get("/audit", response_model=AuditPage)
def list_audit(
    session: DbSession,
    principal: ApiPrincipal,
    actor: str | None = Query(None, description="Username of the actor"),
    customer_id: int | None = Query(None, description="Entries about this customer"),
    action: str | None = Query(None, description="Action, or its prefix before a dot (customer, login)"),
    since: datetime | None = Query(None, description="From this time (ISO 8601 with zone)"),
    until: datetime | None = Query(None, description="Before this time (ISO 8601 with zone)"),
    page: int = Query(1, ge=1),
    size: int = Query(50, ge=1, le=500),
) -> AuditPage:
    """Audit-log entries, newest first (auditor, admin)."""
    require(principal, Permission.AUDIT_READ)
    filters = audit_filter(actor, customer_id, action, since, until)
    rows, total = service.audit_entries(session, filters, page, size)
    return AuditPage(items=shown(session, principal, rows), total=total, page=page, size=size)


@router.get("/audit/export.csv", response_class=Response)
def export_audit(
    session: DbSession,
    principal: ApiPrincipal,
    actor: str | None = None,
    customer_id: int | None = None,
    action: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> Response:
    """The matching entries as CSV (the export is itself audited)."""
    return csv_response(
        export_csv(session, principal, audit_filter(actor, customer_id, action, since, until))
    )
