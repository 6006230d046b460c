"""Token login for API clients."""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from custinfo.auth.deps import ApiPrincipal, DbSession, settings_of
from custinfo.auth.service import authenticate, issue_session, revoke_session
from custinfo.core.errors import FieldError, Invalid, Unauthenticated

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


async def _credentials(request: Request) -> tuple[str, str]:
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
    return str(body["username"]), str(body["password"])


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
                        "properties": {"username": {"type": "string"}, "password": {"type": "string"}},
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
    username, password = await _credentials(request)
    try:
        user = authenticate(session, username, password)
    except Unauthenticated:
        # The failure counter must survive the error response, or lock-out would never trigger.
        session.commit()
        raise
    issued = issue_session(session, user, "api", timedelta(hours=settings_of(request).token_hours))
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


@router.get("/auth/me", response_model=WhoAmI)
def me(principal: ApiPrincipal) -> WhoAmI:
    """Who the token belongs to."""
    return WhoAmI(username=principal.username, role=principal.role, department_id=principal.department_id)
