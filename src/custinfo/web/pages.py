"""Every HTML route (each domain's web.py router) and the HTML rendering of domain errors."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from custinfo.activity import web as activity_pages
from custinfo.audit.web import router as audit_pages
from custinfo.auth.admin_web import router as admin_pages
from custinfo.auth.deps import language_of
from custinfo.auth.web import router as auth_pages
from custinfo.backup.web import router as backup_pages
from custinfo.classification import web as classification_pages
from custinfo.classification.categories.web import router as category_pages
from custinfo.core.errors import DomainError
from custinfo.core.problems import field_errors_of, render_field_error
from custinfo.customers import web as customer_pages
from custinfo.customers.vocabularies.web import router as vocabulary_pages
from custinfo.jobs.web import router as job_pages
from custinfo.protection.web import router as protection_pages
from custinfo.web.home import router as home_pages
from custinfo.web.pickers import router as picker_routes
from custinfo.web.settings import router as settings_pages
from custinfo.web.tabs import register_tabs
from custinfo.web.templating import render

router = APIRouter(include_in_schema=False)
router.include_router(auth_pages)
router.include_router(home_pages)
router.include_router(admin_pages)
router.include_router(picker_routes)
# Protection before customers: its /customers/{id}/reveal must win over /customers/{id}/{tab}.
router.include_router(protection_pages)
router.include_router(customer_pages.router)
router.include_router(activity_pages.router)
router.include_router(category_pages)
router.include_router(classification_pages.router)
router.include_router(audit_pages)
router.include_router(job_pages)
router.include_router(backup_pages)
router.include_router(settings_pages)
router.include_router(vocabulary_pages)
# The 360 page draws the tabs each domain declares (custinfo.web.tabs).
register_tabs(*customer_pages.TABS, *classification_pages.TABS, *activity_pages.TABS)


def render_error(request: Request, error: DomainError) -> HTMLResponse:
    """A friendly error page (or, for HTMX, an alert fragment) in the user's language."""
    language = language_of(request)
    messages = [render_field_error(e, language)["message"] for e in field_errors_of(error)]
    htmx = request.headers.get("hx-request") == "true"
    return render(
        request,
        "_error_alert.html" if htmx else "error.html",
        status_code=error.status,
        error=error,
        messages=messages,
    )
