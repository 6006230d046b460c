"""Token login for API clients."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from custinfo.auth import service
from custinfo.auth.deps import ApiPrincipal, DbSession, settings_of
from custinfo.auth.events import LoginAttempted, PermissionChanged
from custinfo.auth.models import AuthSession, Department, User
from custinfo.auth.policy import Permission, require
from custinfo.auth.schemas import (
    ApiTokenIssued,
    ApiTokenOut,
    DepartmentChange,
    DepartmentIn,
    DepartmentOut,
    PasswordChange,
    PasswordReset,
    PersonOut,
    TokenIn,
    UserChange,
    UserCreated,
    UserIn,
    UserOut,
    VersionIn,
)
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
from custinfo.core.db import utcnow
from custinfo.core.errors import FieldError, Invalid
from custinfo.core.uow import record
from custinfo.idempotent import Once

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


# --- Accounts and organisation (admin) -------------------------------------------------------------------


def user_out(user: User) -> UserOut:
    """An account as administration sees it."""
    locked = user.locked_until is not None and user.locked_until > utcnow()
    return UserOut(
        id=user.id,
        username=user.username,
        display_name=user.display_name,
        kind=user.kind,
        role=user.role,
        department_id=user.department_id,
        department=user.department.name if user.department else None,
        is_active=user.is_active,
        locked=locked,
        must_change_password=user.must_change_password,
        last_login_at=user.last_login_at,
        version=user.version,
    )


def _department_outs(session: Session, departments: list[Department]) -> list[DepartmentOut]:
    heads = service.head_names(session, departments)
    members = service.department_members(session)
    return [
        DepartmentOut(
            id=d.id,
            name=d.name,
            head_id=d.head_id,
            head=heads[d.id].username if d.id in heads else None,
            head_display_name=heads[d.id].display_name if d.id in heads else None,
            members=members.get(d.id, 0),
            version=d.version,
        )
        for d in departments
    ]


def token_out(row: AuthSession) -> ApiTokenOut:
    """An API token without its secret."""
    return ApiTokenOut(
        id=row.id,
        label=row.label,
        scopes=row.scopes,
        created_at=row.created_at,
        expires_at=row.expires_at,
        revoked_at=row.revoked_at,
        active=row.revoked_at is None and row.expires_at > utcnow(),
    )


@router.get("/users", response_model=list[UserOut])
def list_users(session: DbSession, principal: ApiPrincipal) -> list[UserOut]:
    """Admin: every account, people and integration accounts."""
    return [user_out(u) for u in service.list_users(session, principal)]


@router.post("/users", response_model=UserCreated, status_code=201)
def create_user(body: UserIn, session: DbSession, principal: ApiPrincipal, once: Once) -> Any:
    """Admin: create an account; a person gets a one-time password (returned once unless you gave one)."""

    def create() -> UserCreated:
        user, generated = service.add_user(session, principal, body.model_dump())
        return UserCreated(**user_out(user).model_dump(), one_time_password=generated)

    return once.run(body, create)


@router.get("/users/{user_id}", response_model=UserOut)
def get_user(user_id: int, session: DbSession, principal: ApiPrincipal) -> UserOut:
    """Admin: one account."""
    return user_out(service.account(session, principal, user_id))


@router.patch("/users/{user_id}", response_model=UserOut)
def update_user(user_id: int, body: UserChange, session: DbSession, principal: ApiPrincipal) -> UserOut:
    """Admin: change display name, role or department; send the `version` you read."""
    data = body.model_dump(exclude_unset=True)
    version = data.pop("version", None)
    return user_out(service.update_user(session, principal, user_id, version, data))


@router.post("/users/{user_id}/disable", response_model=UserOut)
def disable_user(user_id: int, body: VersionIn, session: DbSession, principal: ApiPrincipal) -> UserOut:
    """Admin: disable an account and end its sessions (the last enabled admin cannot be disabled: 409)."""
    return user_out(service.change_active(session, principal, user_id, body.version, False))


@router.post("/users/{user_id}/enable", response_model=UserOut)
def enable_user(user_id: int, body: VersionIn, session: DbSession, principal: ApiPrincipal) -> UserOut:
    """Admin: enable a disabled account."""
    return user_out(service.change_active(session, principal, user_id, body.version, True))


@router.post("/users/{user_id}/unlock", response_model=UserOut)
def unlock_user(user_id: int, session: DbSession, principal: ApiPrincipal) -> UserOut:
    """Admin: lift a lock-out after too many failed sign-ins."""
    return user_out(service.unlock(session, principal, user_id))


@router.post("/users/{user_id}/reset-password", response_model=PasswordReset)
def reset_password(
    user_id: int, body: VersionIn, session: DbSession, principal: ApiPrincipal
) -> PasswordReset:
    """Admin: a new one-time password (shown once); the person must choose their own at next sign-in."""
    return PasswordReset(one_time_password=service.reset_password(session, principal, user_id, body.version))


@router.get("/users/{user_id}/tokens", response_model=list[ApiTokenOut])
def list_tokens(user_id: int, session: DbSession, principal: ApiPrincipal) -> list[ApiTokenOut]:
    """Admin: the API tokens of an account (never their secrets)."""
    return [token_out(t) for t in service.tokens(session, principal, user_id)]


@router.post("/users/{user_id}/tokens", response_model=ApiTokenIssued, status_code=201)
def create_token(user_id: int, body: TokenIn, session: DbSession, principal: ApiPrincipal, once: Once) -> Any:
    """Admin: issue a scoped, expiring token for an integration account; `access_token` is shown only now."""

    def create() -> ApiTokenIssued:
        issued = service.issue_token(session, principal, user_id, body.model_dump())
        return ApiTokenIssued(**token_out(issued.token).model_dump(), access_token=issued.secret)

    return once.run(body, create)


@router.delete("/users/{user_id}/tokens/{token_id}", status_code=204)
def revoke_token(user_id: int, token_id: int, session: DbSession, principal: ApiPrincipal) -> None:
    """Admin: revoke one token now."""
    service.revoke_token(session, principal, user_id, token_id)


@router.post("/account/password", status_code=204)
def change_password(body: PasswordChange, session: DbSession, principal: ApiPrincipal) -> None:
    """Change your own password (also the way out of "must change password")."""
    service.change_own_password(
        session, principal, body.current_password, body.new_password, body.repeat_password
    )


@router.get("/people", response_model=list[PersonOut])
def people(
    session: DbSession,
    principal: ApiPrincipal,
    q: Annotated[str, Query(max_length=64)] = "",
    role: Annotated[list[str] | None, Query()] = None,
) -> list[PersonOut]:
    """Enabled people whose username or display name contains `q` (for pickers), at most 20."""
    found = service.search_people(session, principal, q, tuple(role or ()))
    return [
        PersonOut(
            username=u.username,
            display_name=u.display_name,
            role=u.role,
            department=u.department.name if u.department else None,
        )
        for u in found
    ]


@router.get("/departments", response_model=list[DepartmentOut])
def list_departments(session: DbSession, principal: ApiPrincipal) -> list[DepartmentOut]:
    """Admin: every department with its head and number of members."""
    require(principal, Permission.USER_MANAGE)
    return _department_outs(session, service.list_departments(session, principal))


@router.post("/departments", response_model=DepartmentOut, status_code=201)
def create_department(body: DepartmentIn, session: DbSession, principal: ApiPrincipal, once: Once) -> Any:
    """Admin: create a department (unique name), optionally with its head."""

    def create() -> DepartmentOut:
        created = service.add_department(session, principal, body.name, body.head_id)
        return _department_outs(session, [created])[0]

    return once.run(body, create)


@router.patch("/departments/{department_id}", response_model=DepartmentOut)
def update_department(
    department_id: int, body: DepartmentChange, session: DbSession, principal: ApiPrincipal
) -> DepartmentOut:
    """Admin: rename a department or change its head; send the `version` you read."""
    data = body.model_dump(exclude_unset=True)
    version = data.pop("version", None)
    changed = service.update_department(session, principal, department_id, version, data)
    return _department_outs(session, [changed])[0]
