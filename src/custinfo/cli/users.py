"""`custinfo users`: account administration for operators (the same service as the admin UI and /api/v1/users)."""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Annotated

import typer
from rich.table import Table
from sqlalchemy.orm import Session

from custinfo.auth import service
from custinfo.auth.policy import Principal
from custinfo.cli import console, fail, handles_errors, load_settings, open_database
from custinfo.core.db import make_session_factory
from custinfo.core.uow import Actor, unit_of_work

app = typer.Typer(help="Accounts: list, add, set a password, disable, enable.", no_args_is_help=True)
# The operator at the console acts as an administrator; the audit log names the actor "cli".
OPERATOR = Principal(user_id=0, username="cli", role="admin", department_id=None)


def _uow() -> AbstractContextManager[Session]:
    engine = open_database(load_settings())
    return unit_of_work(make_session_factory(engine), Actor.system("cli"))


@app.command("list")
@handles_errors
def list_users() -> None:
    """Every account with its role, department and state."""
    table = Table("username", "display name", "kind", "role", "department", "state")
    with _uow() as session:
        for user in service.list_users(session, OPERATOR):
            state = "enabled" if user.is_active else "disabled"
            if user.must_change_password:
                state += ", must change password"
            table.add_row(
                user.username,
                user.display_name,
                user.kind,
                user.role,
                user.department.name if user.department else "-",
                state,
            )
    console.print(table)


@app.command("add")
@handles_errors
def add(
    username: str,
    role: Annotated[
        str, typer.Option("--role", help="sales, service, dept_head, data_steward, marketing, auditor, admin")
    ],
    department: Annotated[
        str | None, typer.Option("--department", help="Department name (created if new)")
    ] = None,
    display_name: Annotated[str | None, typer.Option("--display-name", help="Name shown in the UI")] = None,
    password: Annotated[
        str | None, typer.Option("--password", help="First password (default: generated and printed once)")
    ] = None,
) -> None:
    """Create a person's account; they must set their own password at first sign-in."""
    with _uow() as session:
        department_id = None
        if department:
            found = next(
                (d for d in service.list_departments(session, OPERATOR) if d.name == department), None
            )
            department_id = (found or service.add_department(session, OPERATOR, department)).id
        data: dict[str, object] = {
            "username": username,
            "role": role,
            "display_name": display_name,
            "department_id": department_id,
            "password": password,
        }
        user, generated = service.add_user(session, OPERATOR, data)
        name = user.username
    if generated:
        console.print(f"Created '{name}' with one-time password: {generated}")
        console.print("Shown only once; the user must set a new password at first sign-in.")
    else:
        console.print(f"Created '{name}'; the user must set a new password at first sign-in.")


@app.command("set-password")
@handles_errors
def set_password(
    username: str,
    password: Annotated[
        str | None, typer.Option("--password", help="For scripts; without it the password is asked twice")
    ] = None,
) -> None:
    """Set a person's password (asked twice unless --password); their sessions end."""
    if password is None:
        password = typer.prompt("New password", hide_input=True)
        if typer.prompt("Repeat the new password", hide_input=True) != password:
            fail("the two passwords differ")
    with _uow() as session:
        user = service.set_password(session, OPERATOR, username, password)
        name = user.username
    console.print(f"Password of '{name}' set.")


def _set_active(username: str, active: bool) -> None:
    with _uow() as session:
        user = service.user_by_username(session, username)
        service.change_active(session, OPERATOR, user.id, user.version, active)
        name = user.username
    console.print(f"'{name}' {'enabled' if active else 'disabled'}.")


@app.command("disable")
@handles_errors
def disable(username: str) -> None:
    """Disable an account now (its sessions and tokens end); the last enabled admin stays."""
    _set_active(username, False)


@app.command("enable")
@handles_errors
def enable(username: str) -> None:
    """Enable a disabled account."""
    _set_active(username, True)
