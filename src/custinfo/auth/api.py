"""Token login for API clients."""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from custinfo.auth.deps import ApiPrincipal, DbSession, settings_of
from custinfo.auth.events import LoginAttempted, PermissionChanged
from custinfo.auth.policy import Permission, require
from custinfo.auth.service import (
    SignInRefused,
    authenticate,
    issue_session,
    normalise_username,
    parse_scopes,
    revoke_session,
    revoke_user_sessions,
    user_by_username,
)
from custinfo.core.errors import FieldError, Invalid
from custinfo.core.uow import record

router = APIRouter(tags=["auth"])


class TokenOut(BaseModel):
    """A bearer token; send it as `Authorization: Bearer <access_token>`."""

    access_token: str
    token_type: str = "bearer"
    expires_in: int = Field(description="Seconds until the token expires")
    username: str
    role: str


class WhoAmI(BaseModel):
    """The signed-in user."""

    username: str
    role: str
    department_id: int | None


async def _credentials(request: Request) -> tuple[str, str, str | None]:
    """Username, password and the optional scope, from a JSON or form body (read once)."""
    if request.headers.get("content-type", "").startswith("application/json"):
        try:
            body = await request.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            raise Invalid([FieldError("body", "request.json")])
    else:
        body = dict(await request.form())
    errors = [FieldError(name, "field.required") for name in ("username", "password") if not body.get(name)]
    if errors:
        raise Invalid(errors)
    scope = body.get("scope")
    return str(body["username"]), str(body["password"]), None if scope is None else str(scope)


@router.post(
    "/auth/token",
    response_model=TokenOut,
    openapi_extra={
        "requestBody": {
            "content": {
                "application/json": {
                    "schema": {
                        "type": "object",
                        "required": ["username", "password"],
                        "properties": {
                            "username": {"type": "string"},
                            "password": {"type": "string"},
                            "scope": {
                                "type": "string",
                                "description": '"read" or "read write" (default: all)',
                            },
                        },
                    }
                },
                "application/x-www-form-urlencoded": {
                    "schema": {
                        "type": "object",
                        "required": ["username", "password"],
                        "properties": {"username": {"type": "string"}, "password": {"type": "string"}},
                    }
                },
            },
            "required": True,
        }
    },
)
async def token(request: Request, session: DbSession) -> TokenOut:
    """Exchange username and password (form or JSON) for a bearer token."""
    username, password, scope = await _credentials(request)
    scopes = parse_scopes(scope)
    try:
        user = authenticate(session, username, password)
    except SignInRefused as error:
        # The failure counter and the audit entry (per-address throttling reads it) must survive
        # the error response, or lock-out would never trigger.
        record(
            session,
            LoginAttempted(
                username=normalise_username(username), succeeded=False, channel="api", reason=error.reason
            ),
        )
        raise error.keeping_writes() from None
    record(session, LoginAttempted(username=user.username, succeeded=True, channel="api"))
    issued = issue_session(session, user, "api", timedelta(hours=settings_of(request).token_hours), scopes)
    return TokenOut(
        access_token=issued.secret,
        expires_in=issued.expires_in_seconds,
        username=user.username,
        role=user.role,
    )


@router.post("/auth/logout", status_code=204)
def logout(request: Request, session: DbSession, principal: ApiPrincipal) -> None:
    """Revoke the bearer token used for this request."""
    revoke_session(session, request.headers["authorization"].partition(" ")[2].strip())


@router.post("/auth/users/{username}/revoke-sessions", status_code=204)
def revoke_sessions(username: str, session: DbSession, principal: ApiPrincipal) -> None:
    """Admin: end every session and token of a user now."""
    require(principal, Permission.USER_MANAGE)
    user = user_by_username(session, username)
    revoke_user_sessions(session, user)
    record(session, PermissionChanged(what=f"user:{user.username}.sessions", before="open", after="revoked"))


@router.get("/auth/me", response_model=WhoAmI)
def me(principal: ApiPrincipal) -> WhoAmI:
    """Who the token belongs to."""
    return WhoAmI(username=principal.username, role=principal.role, department_id=principal.department_id)
