"""Jinja2 environment shared by every domain's web.py: i18n, CSRF token, current user."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates

from custinfo.auth.deps import language_of, settings_of
from custinfo.auth.policy import can
from custinfo.core.i18n import translate
from custinfo.customers.vocabulary import current_vocabularies
from custinfo.web import nav

TEMPLATE_DIR = Path(__file__).resolve().parent / "templates"
templates = Jinja2Templates(directory=str(TEMPLATE_DIR))


def _money(value: Decimal | str | None) -> str:
    # A masked value arrives as its mask text: shown as it is, never formatted.
    return "" if value is None else value if isinstance(value, str) else f"{value:,.2f}"


def _finalize(value: Any) -> Any:
    # A value the field view withholds is None: a page shows nothing there, never the word "None".
    return "" if value is None else value


templates.env.finalize = _finalize
templates.env.filters["money"] = _money
templates.env.globals["can"] = can  # menus and buttons follow the same permissions as the routes
templates.env.globals["nav_sidebar"] = lambda request, principal: nav.sidebar_for(
    principal, nav.served(request)
)
templates.env.globals["nav_entries"] = lambda request, principal, section=None: nav.entries_for(
    principal, nav.served(request), section
)
templates.env.globals["nav_current"] = nav.is_current


def render(request: Request, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    """Render a page with the helpers every template expects."""
    language = language_of(request)
    zone = ZoneInfo(settings_of(request).timezone)
    vocabularies = current_vocabularies()

    def t(key: str, **params: Any) -> str:
        return translate(key, language, **params)

    def label(field: str, code: str | None) -> str:
        if code is None or code == "":
            return ""
        vocabulary = vocabularies.get(field)
        return vocabulary.label(code, language) if vocabulary else code

    def local_time(value: datetime | str | None) -> str:
        if value is None or isinstance(value, str):  # hidden, or masked by the field view
            return value or ""
        return value.astimezone(zone).strftime("%Y-%m-%d %H:%M")

    base = {
        "request": request,
        "t": t,
        "label": label,
        "local_time": local_time,
        "lang": language,
        "vocabularies": vocabularies,
        "principal": getattr(request.state, "principal", None),
        "csrf_token": getattr(request.state, "csrf_token", None),
    }
    base.update(context)
    return templates.TemplateResponse(request, template, base, status_code=status_code)


def see_other(url: str) -> RedirectResponse:
    """303 to `url`: the answer to a successful form post (post/redirect/get)."""
    return RedirectResponse(url, status_code=303)


def is_fragment_for(request: Request, target: str) -> bool:
    """Whether HTMX asked for just the part of the page with id `target`."""
    return request.headers.get("hx-request") == "true" and request.headers.get("hx-target") == target
