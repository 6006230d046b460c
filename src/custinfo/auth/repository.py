"""All SQL of the auth domain: users, departments, web sessions and API tokens."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from custinfo.auth.models import AuthSession, Department, User


def get_user(session: Session, user_id: int) -> User | None:
    """One account by id, or None."""
    return session.get(User, user_id)


def user_named(session: Session, username: str) -> User | None:
    """The account with this username, or None."""
    return session.scalar(select(User).where(User.username == username))


def department_named(session: Session, name: str) -> Department | None:
    """The department with this name, or None."""
    return session.scalar(select(Department).where(Department.name == name))


def session_with_hash(session: Session, secret_hash: str) -> AuthSession | None:
    """The web session or API token whose secret hashes to `secret_hash`, or None."""
    return session.scalar(select(AuthSession).where(AuthSession.secret_hash == secret_hash))


def revoke_open_sessions(session: Session, user_id: int, now: datetime) -> int:
    """Mark every unrevoked, unexpired session and token of a user revoked at `now`; how many there were."""
    result = session.execute(
        update(AuthSession)
        .where(AuthSession.user_id == user_id, AuthSession.revoked_at.is_(None), AuthSession.expires_at > now)
        .values(revoked_at=now)
    )
    return int(getattr(result, "rowcount", 0) or 0)
