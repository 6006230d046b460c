"""Request dependencies: the per-request unit of work, the caller, the language."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator, Sequence
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from custinfo.auth.policy import Principal, with_grants
from custinfo.auth.service import PasswordChangeRequired, resolve_session
from custinfo.config import Settings
from custinfo.core.errors import NotPermitted, Unauthenticated
from custinfo.core.i18n import pick_language
from custinfo.core.uow import Actor, unit_of_work
from custinfo.customers.vocabularies import service as vocabularies

SESSION_COOKIE = "custinfo_session"
PASSWORD_PAGE = "/account/password"
# What an account that must change its password may still reach: the change itself, who am I, sign out.
OPEN_BEFORE_PASSWORD_CHANGE = frozenset(
    {PASSWORD_PAGE, "/logout", "/api/v1/account/password", "/api/v1/auth/me", "/api/v1/auth/logout"}
)


Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def _trusted(address: str, proxies: Sequence[Network]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip.version == net.version and ip in net for net in proxies)


def forwarded_client(peer: str | None, forwarded_for: str | None, proxies: Sequence[Network]) -> str | None:
    """The client's address: the peer, unless the peer is a trusted proxy and X-Forwarded-For names one.

    The header is read from the right (the entry the nearest proxy added) past further trusted proxies;
    the first entry that is not one is the client. A spoofed entry further left is never reached.
    """
    if peer is None or not forwarded_for or not _trusted(peer, proxies):
        return peer
    for hop in reversed(forwarded_for.split(",")):
        candidate = hop.strip()
        try:
            candidate = str(ipaddress.ip_address(candidate))
        except ValueError:
            return peer
        if not _trusted(candidate, proxies):
            return candidate
    return peer


def client_address(request: Request) -> str | None:
    """The caller's address, for history, audit and per-address throttling."""
    peer = request.client.host if request.client else None
    settings: Settings = request.app.state.settings
    return forwarded_client(peer, request.headers.get("x-forwarded-for"), settings.trusted_proxy_networks)


def get_uow(request: Request) -> Iterator[Session]:
    """One transaction per request: committed when the route returns, rolled back on error."""
    actor = Actor(username="anonymous", address=client_address(request))
    with unit_of_work(request.app.state.session_factory, actor) as session:
        vocabularies.refresh(session)  # validation and pages read the vocabularies stored now
        yield session


DbSession = Annotated[Session, Depends(get_uow, scope="function")]


def settings_of(request: Request) -> Settings:
    """The app's settings."""
    return request.app.state.settings


def language_of(request: Request) -> str:
    """Language from ?lang=, the lang cookie, Accept-Language, then the configured default."""
    requested = (
        request.query_params.get("lang")
        or request.cookies.get("lang")
        or request.headers.get("accept-language")
    )
    return pick_language(requested, settings_of(request).language)


def _bind(session: Session, principal: Principal, request: Request) -> Principal:
    principal = with_grants(session, principal)
    session.info["actor"] = Actor(
        username=principal.username,
        user_id=principal.user_id,
        role=principal.role,
        address=client_address(request),
    )
    request.state.principal = principal
    return principal


def _refuse_until_password_changed(request: Request, must_change: bool) -> None:
    """An account flagged by an admin (new, or password reset) may do nothing else until it sets its own."""
    if must_change and request.url.path not in OPEN_BEFORE_PASSWORD_CHANGE:
        raise PasswordChangeRequired()


def api_principal(request: Request, session: DbSession) -> Principal:
    """The caller of an API route, from `Authorization: Bearer <token>`."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("auth.token_missing")
    principal, row = resolve_session(session, token.strip(), "api")
    _refuse_until_password_changed(request, row.user.must_change_password)
    if row.scopes is not None:
        # A token limited to scopes: reading needs "read", anything that changes state needs "write".
        needed = "read" if request.method in ("GET", "HEAD", "OPTIONS") else "write"
        if needed not in row.scopes.split() and request.url.path != "/api/v1/auth/logout":
            raise NotPermitted("auth.scope", scope=needed)
    return _bind(session, principal, request)


def web_principal(request: Request, session: DbSession) -> Principal:
    """The caller of a web page, from the session cookie (form routes check CSRF through auth.web.web_user)."""
    secret = request.cookies.get(SESSION_COOKIE)
    if not secret:
        raise Unauthenticated("auth.login_required")
    principal, row = resolve_session(session, secret, "web")
    request.state.csrf_token = row.csrf_token
    _refuse_until_password_changed(request, row.user.must_change_password)
    return _bind(session, principal, request)


ApiPrincipal = Annotated[Principal, Depends(api_principal)]
WebPrincipal = Annotated[Principal, Depends(web_principal)]
