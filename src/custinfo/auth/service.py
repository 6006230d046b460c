"""Sign-in with throttling and lock-out, web sessions, API tokens, user administration."""

from __future__ import annotations

import hashlib
import secrets
import unicodedata
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.orm import Session

from custinfo.audit import service as audit_service
from custinfo.auth import repository
from custinfo.auth.events import PermissionChanged
from custinfo.auth.models import ROLES, AuthSession, Department, User
from custinfo.auth.policy import Principal
from custinfo.core.db import utcnow
from custinfo.core.errors import Conflict, FieldError, Invalid, NotFound, Unauthenticated
from custinfo.core.uow import actor_of, record
from custinfo.security.passwords import DUMMY_HASH, hash_password, password_problems, verify_password

MAX_FAILED_LOGINS = 5
LOCKOUT = timedelta(minutes=15)
# Per source address: this many failed sign-ins within the window throttle every sign-in from it.
MAX_FAILED_PER_ADDRESS = 20
ADDRESS_WINDOW = timedelta(minutes=15)
SCOPES = ("read", "write")
USERNAME_MAX = 64


class SignInRefused(Unauthenticated):
    """A refused sign-in: the caller sees `detail_key`; the audit log records the real `reason`."""

    def __init__(self, detail_key: str, reason: str | None = None) -> None:
        super().__init__(detail_key)
        self.reason = reason or detail_key


def normalise_username(raw: str) -> str:
    """The one form of a username used to store, look up and audit it: NFKC, no surrounding whitespace."""
    return unicodedata.normalize("NFKC", raw).strip()


def username_problems(username: str) -> list[str]:
    """Rule keys a (normalised) username breaks: required, at most 64 characters, no control characters."""
    if not username:
        return ["field.required"]
    if len(username) > USERNAME_MAX:
        return ["username.too_long"]
    if any(unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Zl", "Zp") for ch in username):
        return ["username.characters"]
    return []


@dataclass(frozen=True)
class IssuedSession:
    """A new session or token: the secret is shown once and only its hash is kept."""

    secret: str
    csrf_token: str | None
    principal: Principal
    expires_in_seconds: int


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def principal_of(user: User) -> Principal:
    """The access-control view of a user."""
    return Principal(
        user_id=user.id, username=user.username, role=user.role, department_id=user.department_id
    )


def authenticate(session: Session, username: str, password: str) -> User:
    """Check credentials; five failures lock the account for 15 minutes, twenty from one address throttle it.

    `username` is normalised here. An unknown account, a wrong password and a locked account all give
    the same answer after the same work (one Argon2 verification), so the answer does not tell which
    usernames exist; the audit log keeps the real reason (`SignInRefused.reason`).
    """
    address = actor_of(session).address if session.info.get("actor") else None
    if (
        address
        and audit_service.failed_logins_from(session, address, ADDRESS_WINDOW) >= MAX_FAILED_PER_ADDRESS
    ):
        raise SignInRefused("auth.throttled")
    name = normalise_username(username)
    user = repository.user_named(session, name) if not username_problems(name) else None
    now = utcnow()
    if user is None:
        verify_password(DUMMY_HASH, password)
        raise SignInRefused("auth.bad_credentials")
    if user.locked_until is not None and user.locked_until > now:
        verify_password(user.password_hash, password)
        raise SignInRefused("auth.bad_credentials", reason="auth.locked")
    if not user.is_active or not verify_password(user.password_hash, password):
        user.failed_logins += 1
        if user.failed_logins >= MAX_FAILED_LOGINS:
            user.locked_until = now + LOCKOUT
            user.failed_logins = 0
        session.flush()
        raise SignInRefused("auth.bad_credentials")
    user.failed_logins = 0
    user.locked_until = None
    user.last_login_at = now
    session.flush()
    return user


def parse_scopes(scope: str | None) -> str | None:
    """Normalise a space-separated token scope ("read", "read write"); None means every scope."""
    if scope is None or not scope.strip():
        return None
    requested = scope.split()
    if any(item not in SCOPES for item in requested):
        raise Invalid([FieldError("scope", "vocabulary.unknown", {"allowed": ", ".join(SCOPES)})])
    return " ".join(item for item in SCOPES if item in requested)


def issue_session(
    session: Session, user: User, kind: str, lifetime: timedelta, scopes: str | None = None
) -> IssuedSession:
    """Start a web session (with a CSRF token) or an API token (optionally limited to scopes) for the user."""
    secret = secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(24) if kind == "web" else None
    session.add(
        AuthSession(
            kind=kind,
            secret_hash=_digest(secret),
            user_id=user.id,
            csrf_token=csrf,
            expires_at=utcnow() + lifetime,
            scopes=scopes,
        )
    )
    session.flush()
    return IssuedSession(secret, csrf, principal_of(user), int(lifetime.total_seconds()))


def resolve_session(session: Session, secret: str, kind: str) -> tuple[Principal, AuthSession]:
    """The principal behind a cookie or bearer secret; expired, revoked or disabled → 401."""
    row = repository.session_with_hash(session, _digest(secret))
    if (
        row is None
        or row.kind != kind
        or row.revoked_at is not None
        or row.expires_at <= utcnow()
        or not row.user.is_active
    ):
        raise Unauthenticated("auth.session_invalid")
    return principal_of(row.user), row


def revoke_session(session: Session, secret: str) -> None:
    """End a session or token now."""
    row = repository.session_with_hash(session, _digest(secret))
    if row is not None and row.revoked_at is None:
        row.revoked_at = utcnow()
        session.flush()


def revoke_user_sessions(session: Session, user: User) -> int:
    """End every open session and token of a user now; returns how many were open."""
    revoked = repository.revoke_open_sessions(session, user.id, utcnow())
    session.flush()
    return revoked


def set_active(session: Session, user: User, active: bool) -> None:
    """Enable or disable a user; disabling also revokes every session and token."""
    before = user.is_active
    user.is_active = active
    if not active:
        revoke_user_sessions(session, user)
    if before != active:
        record(session, PermissionChanged(what=f"user:{user.username}.active", before=before, after=active))
    session.flush()


def ensure_department(session: Session, name: str) -> Department:
    """The department of that name, created if missing."""
    department = repository.department_named(session, name)
    if department is None:
        department = Department(name=name)
        session.add(department)
        session.flush()
    return department


def create_user(
    session: Session,
    username: str,
    password: str,
    role: str,
    display_name: str | None = None,
    department: str | None = None,
    check_policy: bool = True,
) -> User:
    """Create a user; validates role, username and the password policy."""
    username = normalise_username(username)
    errors = [FieldError("username", rule, {"max": USERNAME_MAX}) for rule in username_problems(username)]
    if role not in ROLES:
        errors.append(FieldError("role", "vocabulary.unknown", {"allowed": ", ".join(ROLES)}))
    if check_policy:
        errors += [FieldError("password", rule) for rule in password_problems(password, username)]
    if errors:
        raise Invalid(errors)
    if repository.user_named(session, username) is not None:
        raise Conflict("error.duplicate", errors=[FieldError("username", "field.duplicate")])
    user = User(
        username=username,
        display_name=display_name or username,
        password_hash=hash_password(password),
        role=role,
        department_id=ensure_department(session, department).id if department else None,
    )
    session.add(user)
    session.flush()
    return user


def get_user(session: Session, user_id: int) -> User:
    """One account by id (404 if unknown)."""
    user = repository.get_user(session, user_id)
    if user is None:
        raise NotFound("error.not_found")
    return user


def user_by_username(session: Session, username: str) -> User:
    """Look up a user by username (404 if absent)."""
    name = normalise_username(username)
    user = repository.user_named(session, name) if not username_problems(name) else None
    if user is None:
        raise NotFound("error.not_found")
    return user
