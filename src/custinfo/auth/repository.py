"""All SQL of the auth domain: users, departments, web sessions and API tokens."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, or_, select, update
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


def users(session: Session) -> list[User]:
    """Every account, people first, then by username."""
    return list(session.scalars(select(User).order_by(User.kind.desc(), User.username)))


def count_active_admins(session: Session) -> int:
    """How many enabled people hold the admin role."""
    return int(
        session.scalar(
            select(func.count())
            .select_from(User)
            .where(User.role == "admin", User.is_active.is_(True), User.kind == "person")
        )
        or 0
    )


def search_users(session: Session, text: str, roles: tuple[str, ...], limit: int) -> list[User]:
    """Enabled people whose username or display name contains `text` (any case), limited to `roles` if given."""
    stmt = select(User).where(User.is_active.is_(True), User.kind == "person")
    if text:
        pattern = f"%{text.lower()}%"
        stmt = stmt.where(
            or_(func.lower(User.username).like(pattern), func.lower(User.display_name).like(pattern))
        )
    if roles:
        stmt = stmt.where(User.role.in_(roles))
    return list(session.scalars(stmt.order_by(User.display_name, User.username).limit(limit)))


def display_names(session: Session, usernames: list[str]) -> dict[str, str]:
    """username → display name for those of `usernames` that exist."""
    if not usernames:
        return {}
    rows = session.execute(select(User.username, User.display_name).where(User.username.in_(usernames)))
    return {row.username: row.display_name for row in rows}


def departments(session: Session) -> list[Department]:
    """Every department by name."""
    return list(session.scalars(select(Department).order_by(Department.name)))


def get_department(session: Session, department_id: int) -> Department | None:
    """One department by id, or None."""
    return session.get(Department, department_id)


def member_counts(session: Session) -> dict[int, int]:
    """department id → number of enabled accounts in it."""
    rows = session.execute(
        select(User.department_id, func.count())
        .where(User.department_id.is_not(None), User.is_active.is_(True))
        .group_by(User.department_id)
    )
    return {int(department_id or 0): int(count) for department_id, count in rows}


def api_tokens(session: Session, user_id: int) -> list[AuthSession]:
    """The API tokens of one account, newest first."""
    return list(
        session.scalars(
            select(AuthSession)
            .where(AuthSession.user_id == user_id, AuthSession.kind == "api")
            .order_by(AuthSession.created_at.desc(), AuthSession.id.desc())
        )
    )


def get_token(session: Session, user_id: int, token_id: int) -> AuthSession | None:
    """One API token of one account, or None."""
    return session.scalar(
        select(AuthSession).where(
            AuthSession.id == token_id, AuthSession.user_id == user_id, AuthSession.kind == "api"
        )
    )


def usernames_by_id(session: Session, user_ids: list[int]) -> dict[int, str]:
    """user id → username for those of `user_ids` that exist."""
    if not user_ids:
        return {}
    rows = session.execute(select(User.id, User.username).where(User.id.in_(user_ids)))
    return {row.id: row.username for row in rows}


def department_names_by_id(session: Session, department_ids: list[int]) -> dict[int, str]:
    """department id → name for those of `department_ids` that exist."""
    if not department_ids:
        return {}
    rows = session.execute(select(Department.id, Department.name).where(Department.id.in_(department_ids)))
    return {row.id: row.name for row in rows}
