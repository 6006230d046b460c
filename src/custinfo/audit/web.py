"""The auditor's pages: the audit log with filters and paging, and its CSV export."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from custinfo.audit import service
from custinfo.audit.api import csv_response, export_csv
from custinfo.auth.deps import DbSession, WebPrincipal, settings_of
from custinfo.auth.policy import Permission, require
from custinfo.core.errors import FieldError, Invalid
from custinfo.core.pagination import page_count
from custinfo.web.templating import render

router = APIRouter(include_in_schema=False)
PAGE_SIZE = 50


def _day(request: Request, name: str, value: str | None, end: bool = False) -> datetime | None:
    """A local calendar day from the form as a UTC instant (the start of the day, or of the next one)."""
    if not value:
        return None
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise Invalid([FieldError(name, "date.format")]) from None
    if end:
        day += timedelta(days=1)
    zone = ZoneInfo(settings_of(request).timezone)
    return datetime.combine(day, time(), zone).astimezone(UTC)


def _filters(request: Request) -> tuple[service.AuditFilter, dict[str, str]]:
    params = {k: v.strip() for k, v in request.query_params.items() if k != "page" and v.strip()}
    customer = params.get("customer_id")
    if customer is not None and not customer.isdigit():
        raise Invalid([FieldError("customer_id", "integer.format")])
    filters = service.AuditFilter(
        actor=params.get("actor"),
        customer_id=int(customer) if customer else None,
        action=params.get("action"),
        since=_day(request, "since", params.get("since")),
        until=_day(request, "until", params.get("until"), end=True),
    )
    return filters, params


@router.get("/audit", response_class=HTMLResponse)
def audit_page(request: Request, session: DbSession, principal: WebPrincipal, page: int = 1) -> Response:
    """The audit log, newest first, filtered by actor, customer, action and day range."""
    require(principal, Permission.AUDIT_READ)
    filters, params = _filters(request)
    page = max(page, 1)
    rows, total = service.audit_entries(session, filters, page, PAGE_SIZE)
    pages = page_count(total, PAGE_SIZE)
    query = urlencode(params)
    return render(
        request,
        "audit/list.html",
        entries=service.shown_entries(session, principal, rows),
        total=total,
        page=page,
        pages=pages,
        params=params,
        query=query,
    )


@router.get("/audit/export.csv", response_class=Response)
def audit_export(request: Request, session: DbSession, principal: WebPrincipal) -> Response:
    """The filtered audit log as CSV (the export is itself audited)."""
    filters, _params = _filters(request)
    return csv_response(export_csv(session, principal, filters))
