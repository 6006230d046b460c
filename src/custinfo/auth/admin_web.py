"""HTML administration of accounts, departments and integration tokens (admin), and "change my password".

A one-time password or a new token secret is shown in the answer to the form that made it, never in a
URL or a later page: after leaving that page it cannot be seen again.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from custinfo.auth import service
from custinfo.auth.deps import DbSession, language_of
from custinfo.auth.models import ROLES, USER_KINDS, User
from custinfo.auth.policy import Permission, Principal, require
from custinfo.auth.service import TOKEN_DAYS, IssuedToken
from custinfo.auth.web import FormFields, WebUser, web_user
from custinfo.core.db import utcnow
from custinfo.core.errors import Conflict, DomainError, Invalid, NotFound
from custinfo.web.forms import FormState, form_state, version_of
from custinfo.web.templating import render, see_other

router = APIRouter(include_in_schema=False, dependencies=[Depends(web_user)])
USER_FIELDS = ["username", "display_name", "role", "department_id", "kind", "password"]
SCOPE_CHOICES = ("read", "read write")
ACTION_FLASH = {"disable": "user_disabled", "enable": "user_enabled", "unlock": "user_unlocked"}


def _int(value: str | None) -> int | None:
    text = (value or "").strip()
    return int(text) if text.isdigit() and len(text) < 18 else None


def _users_page(
    request: Request,
    session: Session,
    principal: Principal,
    state: FormState | None = None,
    flash: str | None = None,
    status_code: int = 200,
) -> Response:
    users = service.list_users(session, principal)
    now = utcnow()
    return render(
        request,
        "admin/users.html",
        status_code=status_code,
        users=users,
        locked={u.id for u in users if u.locked_until is not None and u.locked_until > now},
        departments=service.list_departments(session, principal),
        roles=ROLES,
        kinds=USER_KINDS,
        state=state or FormState(values={"kind": "person"}),
        flash=flash,
    )


def _user_page(
    request: Request,
    session: Session,
    principal: Principal,
    user: User,
    *,
    state: FormState | None = None,
    token_state: FormState | None = None,
    flash: str | None = None,
    one_time_password: str | None = None,
    issued: IssuedToken | None = None,
    status_code: int = 200,
) -> Response:
    now = utcnow()
    values = {
        "display_name": user.display_name,
        "role": user.role,
        "department_id": str(user.department_id or ""),
    }
    return render(
        request,
        "admin/user.html",
        status_code=status_code,
        user=user,
        locked=user.locked_until is not None and user.locked_until > now,
        departments=service.list_departments(session, principal),
        roles=ROLES,
        state=state or FormState(values=values),
        token_state=token_state or FormState(values={"scope": "read write", "days": "365"}),
        tokens=service.tokens(session, principal, user.id) if user.kind == "integration" else [],
        now=now,
        scope_choices=SCOPE_CHOICES,
        token_days=TOKEN_DAYS,
        flash=flash,
        one_time_password=one_time_password,
        issued=issued,
    )


def _state(request: Request, error: DomainError, values: dict[str, str]) -> FormState:
    return form_state(error, values, language_of(request))


@router.get("/admin/users", response_class=HTMLResponse)
def users(request: Request, session: DbSession, principal: WebUser, flash: str | None = None) -> Response:
    """Every account with its role, department and state, and the form for a new one."""
    return _users_page(request, session, principal, flash=flash)


@router.post("/admin/users", response_class=HTMLResponse)
def create_user(request: Request, session: DbSession, principal: WebUser, form: FormFields) -> Response:
    """Create an account; its page then shows the one-time password once."""
    values = {name: form.get(name, "") for name in USER_FIELDS}
    data: dict[str, Any] = {**values, "department_id": _int(values["department_id"])}
    try:
        with session.begin_nested():
            user, generated = service.add_user(session, principal, data)
    except (Invalid, Conflict) as error:
        values["password"] = ""
        return _users_page(
            request, session, principal, _state(request, error, values), status_code=error.status
        )
    return _user_page(request, session, principal, user, flash="user_created", one_time_password=generated)


@router.get("/admin/users/{user_id}", response_class=HTMLResponse)
def user_page(
    request: Request, session: DbSession, principal: WebUser, user_id: int, flash: str | None = None
) -> Response:
    """One account: its details to change, enable/disable, unlock, password reset and (integration) tokens."""
    return _user_page(request, session, principal, service.account(session, principal, user_id), flash=flash)


@router.post("/admin/users/{user_id}", response_class=HTMLResponse)
def update_user(
    request: Request, session: DbSession, principal: WebUser, user_id: int, form: FormFields
) -> Response:
    """Save display name, role and department."""
    values = {name: form.get(name, "") for name in ("display_name", "role", "department_id")}
    data: dict[str, Any] = {**values, "department_id": _int(values["department_id"])}
    try:
        with session.begin_nested():
            service.update_user(session, principal, user_id, version_of(form), data)
    except (Invalid, Conflict) as error:
        user = service.account(session, principal, user_id)
        return _user_page(
            request, session, principal, user, state=_state(request, error, values), status_code=error.status
        )
    return see_other(f"/admin/users/{user_id}?flash=user_saved")


@router.post("/admin/users/{user_id}/{action}", response_class=HTMLResponse)
def user_action(
    request: Request, session: DbSession, principal: WebUser, user_id: int, action: str, form: FormFields
) -> Response:
    """disable, enable, unlock or reset-password (the new one-time password is shown once)."""
    require(principal, Permission.USER_MANAGE)
    version = version_of(form)
    try:
        with session.begin_nested():
            if action in ("disable", "enable"):
                service.change_active(session, principal, user_id, version, action == "enable")
            elif action == "unlock":
                service.unlock(session, principal, user_id)
            elif action == "reset-password":
                password = service.reset_password(session, principal, user_id, version)
                user = service.account(session, principal, user_id)
                return _user_page(
                    request, session, principal, user, flash="password_reset", one_time_password=password
                )
            elif action == "tokens":
                return _issue_token(request, session, principal, user_id, form)
            else:
                raise NotFound("error.not_found")
    except (Invalid, Conflict) as error:
        user = service.account(session, principal, user_id)
        state = _state(request, error, {})
        return _user_page(request, session, principal, user, state=state, status_code=error.status)
    return see_other(f"/admin/users/{user_id}?flash={ACTION_FLASH[action]}")


def _issue_token(
    request: Request, session: Session, principal: Principal, user_id: int, form: dict[str, str]
) -> Response:
    values = {name: form.get(name, "") for name in ("label", "scope", "days")}
    data: dict[str, Any] = {**values, "days": _int(values["days"])}
    try:
        with session.begin_nested():
            issued = service.issue_token(session, principal, user_id, data)
    except Invalid as error:
        user = service.account(session, principal, user_id)
        state = _state(request, error, values)
        return _user_page(request, session, principal, user, token_state=state, status_code=error.status)
    user = service.account(session, principal, user_id)
    return _user_page(request, session, principal, user, flash="token_created", issued=issued)


@router.post("/admin/users/{user_id}/tokens/{token_id}/revoke", response_class=HTMLResponse)
def revoke_token(session: DbSession, principal: WebUser, user_id: int, token_id: int) -> Response:
    """Revoke one token now."""
    service.revoke_token(session, principal, user_id, token_id)
    return see_other(f"/admin/users/{user_id}?flash=token_revoked")


def _departments_page(
    request: Request,
    session: Session,
    principal: Principal,
    *,
    state: FormState | None = None,
    edit_state: tuple[int, FormState] | None = None,
    flash: str | None = None,
    status_code: int = 200,
) -> Response:
    require(principal, Permission.USER_MANAGE)
    departments = service.list_departments(session, principal)
    return render(
        request,
        "admin/departments.html",
        status_code=status_code,
        departments=departments,
        heads=service.head_names(session, departments),
        members=service.department_members(session),
        state=state or FormState(),
        edit_state=edit_state,
        flash=flash,
    )


@router.get("/admin/departments", response_class=HTMLResponse)
def departments(
    request: Request, session: DbSession, principal: WebUser, flash: str | None = None
) -> Response:
    """Every department with its head and members, and the form for a new one."""
    return _departments_page(request, session, principal, flash=flash)


def _head_of(session: Session, username: str) -> int | None:
    """The picked head's id (the picker sends a username); an unknown one is left for the service to refuse."""
    name = username.strip()
    if not name:
        return None
    try:
        return service.user_by_username(session, name).id
    except DomainError:
        return -1


@router.post("/admin/departments", response_class=HTMLResponse)
def create_department(request: Request, session: DbSession, principal: WebUser, form: FormFields) -> Response:
    """Create a department (and give it a head)."""
    values = {"name": form.get("name", ""), "head": form.get("head", "")}
    try:
        with session.begin_nested():
            service.add_department(session, principal, values["name"], _head_of(session, values["head"]))
    except (Invalid, Conflict) as error:
        state = _state(request, error, {**values, "head_id": values["head"]})
        return _departments_page(request, session, principal, state=state, status_code=error.status)
    return see_other("/admin/departments?flash=department_created")


@router.post("/admin/departments/{department_id}", response_class=HTMLResponse)
def update_department(
    request: Request, session: DbSession, principal: WebUser, department_id: int, form: FormFields
) -> Response:
    """Rename a department or change its head."""
    values = {"name": form.get("name", ""), "head": form.get("head", "")}
    data: dict[str, Any] = {"name": values["name"], "head_id": _head_of(session, values["head"])}
    try:
        with session.begin_nested():
            service.update_department(session, principal, department_id, version_of(form), data)
    except (Invalid, Conflict) as error:
        state = _state(request, error, {**values, "head_id": values["head"]})
        return _departments_page(
            request, session, principal, edit_state=(department_id, state), status_code=error.status
        )
    return see_other("/admin/departments?flash=department_saved")


@router.get("/account/password", response_class=HTMLResponse)
def password_form(
    request: Request, session: DbSession, principal: WebUser, flash: str | None = None
) -> Response:
    """Change my password (an account flagged by an admin is sent here before anything else)."""
    return render(
        request,
        "auth/password.html",
        state=FormState(),
        forced=service.must_change_password(session, principal.user_id),
        flash=flash,
    )


@router.post("/account/password", response_class=HTMLResponse)
def change_password(request: Request, session: DbSession, principal: WebUser, form: FormFields) -> Response:
    """Check the current password and store the new one; then go on to the start page."""
    forced = service.must_change_password(session, principal.user_id)
    fields = ("current_password", "new_password", "repeat_password")
    try:
        with session.begin_nested():
            service.change_own_password(session, principal, *(form.get(name, "") for name in fields))
    except Invalid as error:
        state = _state(request, error, dict.fromkeys(fields, ""))
        return render(request, "auth/password.html", status_code=422, state=state, forced=forced, flash=None)
    # A first password set goes on to the start page; a voluntary change stays here to confirm it.
    return see_other("/" if forced else "/account/password?flash=password_changed")
