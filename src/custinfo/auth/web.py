"""HTML sign-in and sign-out, the language toggle, and the CSRF guard of every web form.

Before sign-in the login form is protected by a signed double-submit cookie
(a random nonce in a cookie, its HMAC under the secret key in the form). After
sign-in every unsafe request carries the web session's CSRF token, in the form
field `csrf_token` or the `X-CSRF-Token` header (HTMX sends the header);
`web_user` checks it once for every route that depends on it.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import timedelta
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from custinfo.auth.deps import SESSION_COOKIE, DbSession, WebPrincipal, language_of, settings_of
from custinfo.auth.events import LoginAttempted
from custinfo.auth.policy import Principal
from custinfo.auth.service import (
    USERNAME_MAX,
    SignInRefused,
    authenticate,
    issue_session,
    normalise_username,
    resolve_session,
    revoke_session,
)
from custinfo.core.errors import NotPermitted, Unauthenticated
from custinfo.core.i18n import LANGUAGES, translate
from custinfo.core.uow import record
from custinfo.web.templating import render

LOGIN_CSRF_COOKIE = "custinfo_login_csrf"
LANG_COOKIE = "lang"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
HOME = "/home"

router = APIRouter(include_in_schema=False)


def _is_https(request: Request) -> bool:
    return request.url.scheme == "https"


def safe_next(target: str | None, default: str = HOME) -> str:
    """`target` if it is a path on this site, else `default` (no open redirects)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    if any(ord(ch) < 32 for ch in target):
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return default
    return target


def _after_login(target: str | None) -> str:
    """Where to go after signing in: a same-site page, but never back to the sign-in form."""
    path = safe_next(target)
    return HOME if urlsplit(path).path in ("/login", "/logout") else path


async def form_fields(request: Request) -> dict[str, str]:
    """The submitted form's text fields (read once; Starlette caches the parsed form)."""
    if request.method in SAFE_METHODS:
        return {}
    form = await request.form()
    return {key: value for key, value in form.multi_items() if isinstance(value, str)}


FormFields = Annotated[dict[str, str], Depends(form_fields)]


def web_user(request: Request, principal: WebPrincipal, form: FormFields) -> Principal:
    """The signed-in web user; unsafe requests must carry the session's CSRF token (else 403)."""
    if request.method not in SAFE_METHODS:
        expected = getattr(request.state, "csrf_token", None) or ""
        sent = form.get("csrf_token") or request.headers.get("x-csrf-token") or ""
        if not expected or not hmac.compare_digest(sent.encode(), expected.encode()):
            raise NotPermitted("auth.csrf")
    return principal


WebUser = Annotated[Principal, Depends(web_user)]


def _login_token(request: Request, nonce: str) -> str:
    key = settings_of(request).secret_key.encode()
    return hmac.new(key, f"login-csrf:{nonce}".encode(), hashlib.sha256).hexdigest()


def _login_page(
    request: Request,
    nonce: str,
    next_url: str,
    username: str = "",
    error: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    response = render(
        request,
        "auth/login.html",
        status_code=status_code,
        csrf_token=_login_token(request, nonce),
        next_url=next_url,
        username=username[:USERNAME_MAX],
        error=error,
    )
    response.set_cookie(
        LOGIN_CSRF_COOKIE,
        nonce,
        httponly=True,
        samesite="strict",
        secure=_is_https(request),
        path="/login",
    )
    return response


def _signed_in(request: Request, session: DbSession) -> bool:
    secret = request.cookies.get(SESSION_COOKIE)
    if not secret:
        return False
    try:
        resolve_session(session, secret, "web")
    except Unauthenticated:
        return False
    return True


@router.get("/", response_class=RedirectResponse)
def home() -> RedirectResponse:
    """The start page is the home page, which every role may open."""
    return RedirectResponse(HOME, status_code=303)


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, session: DbSession, next: str | None = None) -> Response:
    """The sign-in form (a signed-in user goes straight on)."""
    target = _after_login(next)
    if _signed_in(request, session):
        return RedirectResponse(target, status_code=303)
    nonce = request.cookies.get(LOGIN_CSRF_COOKIE) or secrets.token_urlsafe(24)
    return _login_page(request, nonce, target)


@router.post("/login", response_class=HTMLResponse)
def login(request: Request, session: DbSession, form: FormFields) -> Response:
    """Check the credentials and start a web session; errors re-show the form in the user's language."""
    target = _after_login(form.get("next"))
    username = normalise_username(form.get("username", ""))
    nonce = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    sent = form.get("csrf_token", "")
    language = language_of(request)
    if not nonce or not hmac.compare_digest(sent.encode(), _login_token(request, nonce).encode()):
        fresh = secrets.token_urlsafe(24)
        return _login_page(request, fresh, target, username, translate("auth.csrf", language), 403)
    if not username or not form.get("password"):
        message = translate("web.login.missing", language)
        return _login_page(request, nonce, target, username, message, 422)
    try:
        # A failed attempt is counted by the service and committed with this request (lock-out needs it).
        user = authenticate(session, username, form["password"])
    except SignInRefused as exc:
        record(session, LoginAttempted(username=username, succeeded=False, channel="web", reason=exc.reason))
        return _login_page(request, nonce, target, username, translate(exc.detail_key, language), 401)
    record(session, LoginAttempted(username=user.username, succeeded=True, channel="web"))
    lifetime = timedelta(hours=settings_of(request).session_hours)
    issued = issue_session(session, user, "web", lifetime)
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        issued.secret,
        max_age=issued.expires_in_seconds,
        httponly=True,
        samesite="lax",
        secure=_is_https(request),
        path="/",
    )
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/login")
    return response


@router.post("/logout", response_class=RedirectResponse)
def logout(request: Request, session: DbSession, principal: WebUser) -> RedirectResponse:
    """End the web session and return to the sign-in form."""
    revoke_session(session, request.cookies.get(SESSION_COOKIE, ""))
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="lax", secure=_is_https(request))
    return response


@router.get("/lang/{language}", response_class=RedirectResponse)
def switch_language(request: Request, language: str, next: str | None = None) -> RedirectResponse:
    """Remember the chosen UI language in a cookie and go back to the page."""
    response = RedirectResponse(safe_next(next), status_code=303)
    if language in LANGUAGES:
        response.set_cookie(
            LANG_COOKIE,
            language,
            max_age=365 * 24 * 3600,
            samesite="lax",
            secure=_is_https(request),
            path="/",
        )
    return response
