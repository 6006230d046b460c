"""`custinfo init`: create or upgrade the schema and make sure the admin account exists."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

import typer
from sqlalchemy import select
from sqlalchemy.engine import Engine

from custinfo.auth.models import User
from custinfo.auth.service import create_user
from custinfo.classification.categories import service as categories
from custinfo.cli import console, handles_errors, load_settings, open_database, safe_url, warn_about_storage
from custinfo.config import Settings
from custinfo.core.db import make_session_factory
from custinfo.core.schema import upgrade
from custinfo.core.uow import Actor, unit_of_work
from custinfo.security import crypto
from custinfo.security.passwords import password_problems
from custinfo.security.storage import private_directory

ADMIN_USERNAME = "admin"


@dataclass(frozen=True)
class InitResult:
    """The initialised database, and the admin password if the admin account was created now."""

    engine: Engine
    admin_password: str | None


def generate_password() -> str:
    """A random password that satisfies the password policy."""
    while True:
        candidate = secrets.token_urlsafe(12)
        if not password_problems(candidate):
            return candidate


def initialise(settings: Settings, admin_password: str | None = None) -> InitResult:
    """Create the data directory, bring the schema to the newest revision, create `admin` if missing."""
    private_directory(settings.data_dir)
    crypto.configure(settings, create=True)
    engine = open_database(settings)
    upgrade(engine)
    created: str | None = None
    with unit_of_work(make_session_factory(engine), Actor.system("init")) as session:
        if session.scalar(select(User.id).where(User.username == ADMIN_USERNAME)) is None:
            created = admin_password or generate_password()
            create_user(session, ADMIN_USERNAME, created, "admin", display_name="系统管理员")
        categories.seed(session, None)  # order categories imported since the last init become categories
    return InitResult(engine, created)


@handles_errors
def init(
    admin_password: str | None = typer.Option(
        None, "--admin-password", help="Password for the admin account if it is created (default: generated)."
    ),
) -> None:
    """Create or upgrade the database schema and create the admin account (idempotent)."""
    settings = load_settings()
    result = initialise(settings, admin_password)
    console.print(f"Database ready: {safe_url(settings.effective_database_url)}")
    warn_about_storage(settings)
    if result.admin_password is None:
        note = " (--admin-password ignored)" if admin_password else ""
        console.print(f"Admin account '{ADMIN_USERNAME}' already exists; its password is unchanged{note}.")
    elif admin_password:
        console.print(f"Created admin account '{ADMIN_USERNAME}' with the given password.")
    else:
        console.print(
            f"Created admin account '{ADMIN_USERNAME}' with password: {result.admin_password}\n"
            "This password is shown only once; change it after signing in."
        )
    result.engine.dispose()
