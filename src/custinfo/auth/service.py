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
from custinfo.auth.events import AccountChanged, PermissionChanged
from custinfo.auth.models import ROLES, USER_KINDS, AuthSession, Department, User
from custinfo.auth.policy import Permission, Principal, require
from custinfo.core.db import utcnow
from custinfo.core.errors import Conflict, FieldError, Invalid, NotFound, NotPermitted, Unauthenticated
from custinfo.core.uow import actor_of, record
from custinfo.core.versioning import check_version
from custinfo.security.passwords import DUMMY_HASH, hash_password, password_problems, verify_password

MAX_FAILED_LOGINS = 5
LOCKOUT = timedelta(minutes=15)
# Per source address: this many failed sign-ins within the window throttle every sign-in from it.
MAX_FAILED_PER_ADDRESS = 20
ADDRESS_WINDOW = timedelta(minutes=15)
SCOPES = ("read", "write")
USERNAME_MAX = 64
DISPLAY_NAME_MAX = 100
DEPARTMENT_NAME_MAX = 100
TOKEN_LABEL_MAX = 100
TOKEN_DAYS = (1, 3650)  # an integration token lives at least a day and at most ten years


class SignInRefused(Unauthenticated):
    """A refused sign-in: the caller sees `detail_key`; the audit log records the real `reason`."""

    def __init__(self, detail_key: str, reason: str | None = None) -> None:
        super().__init__(detail_key)
        self.reason = reason or detail_key


class PasswordChangeRequired(NotPermitted):
    """The account must set a new password before it may do anything else (403; the web redirects)."""

    def __init__(self) -> None:
        super().__init__("auth.password_change_required")


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
        user_id=user.id,
        username=user.username,
        role=user.role,
        department_id=user.department_id,
        display_name=user.display_name,
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
    if user.kind != "person":
        # An integration account has no password anyone knows; it uses only the tokens an admin issues.
        verify_password(DUMMY_HASH, password)
        raise SignInRefused("auth.bad_credentials", reason="auth.integration")
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


# --- Administration of accounts, departments and integration tokens (admin; the CLI acts as admin) ---------


def _changed(before: dict[str, object], after: dict[str, object]) -> dict[str, list[object]]:
    return {key: [before[key], after[key]] for key in after if before.get(key) != after[key]}


def _text(value: object) -> str:
    return unicodedata.normalize("NFKC", str(value or "")).strip()


def _text_problems(name: str, value: str, maximum: int, required: bool = True) -> list[FieldError]:
    if not value:
        return [FieldError(name, "field.required")] if required else []
    if len(value) > maximum:
        return [FieldError(name, "text.too_long", {"max": maximum})]
    if any(unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Zl", "Zp") for ch in value):
        return [FieldError(name, "username.characters")]
    return []


def _snapshot(user: User) -> dict[str, object]:
    return {
        "display_name": user.display_name,
        "role": user.role,
        "department": user.department.name if user.department else None,
        "is_active": user.is_active,
    }


def _refuse_last_admin(session: Session, user: User, field: str) -> None:
    """409 when the change would leave no enabled admin (nobody could administer accounts any more)."""
    lone = user.role == "admin" and user.is_active and user.kind == "person"
    if lone and repository.count_active_admins(session) <= 1:
        raise Conflict("user.last_admin", errors=[FieldError(field, "user.last_admin")])


def _department_of(session: Session, department_id: object) -> tuple[Department | None, list[FieldError]]:
    """The department of that id (None for none) and the rule it breaks if it does not exist."""
    if department_id is None:
        return None, []
    found = repository.get_department(session, department_id) if isinstance(department_id, int) else None
    return found, [] if found is not None else [FieldError("department_id", "department.unknown")]


def list_users(session: Session, principal: Principal) -> list[User]:
    """Every account (people and integration accounts), for administration."""
    require(principal, Permission.USER_MANAGE)
    return repository.users(session)


def account(session: Session, principal: Principal, user_id: int) -> User:
    """One account for administration (404 if unknown)."""
    require(principal, Permission.USER_MANAGE)
    return get_user(session, user_id)


def add_user(
    session: Session,
    principal: Principal,
    data: dict[str, object],
) -> tuple[User, str | None]:
    """Create a person or an integration account; a person must change the password on first sign-in.

    `data`: username, role, display_name, department_id, kind (person | integration) and, for a
    person, an optional password (else one is generated and returned once). An integration
    account gets an unusable password: it signs in only with the tokens an admin issues.
    """
    require(principal, Permission.USER_MANAGE)
    kind = _text(data.get("kind")) or "person"
    errors: list[FieldError] = []
    if kind not in USER_KINDS:
        errors.append(FieldError("kind", "vocabulary.unknown", {"allowed": ", ".join(USER_KINDS)}))
    display_name = _text(data.get("display_name"))
    errors += _text_problems("display_name", display_name, DISPLAY_NAME_MAX, required=False)
    department, problems = _department_of(session, data.get("department_id"))
    errors += problems
    username = normalise_username(str(data.get("username") or ""))
    errors += [FieldError("username", rule, {"max": USERNAME_MAX}) for rule in username_problems(username)]
    role = str(data.get("role") or "")
    if not role:
        errors.append(FieldError("role", "field.required"))
    elif role not in ROLES:
        errors.append(FieldError("role", "vocabulary.unknown", {"allowed": ", ".join(ROLES)}))
    password = str(data.get("password") or "")
    generated: str | None = None
    if kind == "integration":
        password = secrets.token_urlsafe(32)
    elif not password:
        generated = password = generate_password()
    else:
        errors += [FieldError("password", rule) for rule in password_problems(password, username)]
    if errors:
        raise Invalid(errors)
    user = create_user(
        session,
        username,
        password,
        role,
        display_name=display_name or None,
        department=department.name if department else None,
    )
    user.kind = kind
    user.must_change_password = kind == "person"
    session.flush()
    after = {**_snapshot(user), "kind": kind}
    record(
        session,
        AccountChanged("user.created", "user", user.username, {k: [None, v] for k, v in after.items()}),
    )
    return user, generated


def generate_password() -> str:
    """A random password that satisfies the password policy (shown once to whoever must pass it on)."""
    while True:
        candidate = secrets.token_urlsafe(12)
        if not password_problems(candidate):
            return candidate


def update_user(
    session: Session, principal: Principal, user_id: int, version: int | None, data: dict[str, object]
) -> User:
    """Change display name, role or department (only the keys given); the last enabled admin keeps the role."""
    require(principal, Permission.USER_MANAGE)
    user = get_user(session, user_id)
    check_version(user.version, version)
    before = _snapshot(user)
    errors: list[FieldError] = []
    if "display_name" in data:
        display_name = _text(data["display_name"])
        errors += _text_problems("display_name", display_name, DISPLAY_NAME_MAX)
    if "role" in data and data["role"] not in ROLES:
        errors.append(FieldError("role", "vocabulary.unknown", {"allowed": ", ".join(ROLES)}))
    department: Department | None = user.department
    if "department_id" in data:
        department, problems = _department_of(session, data["department_id"])
        errors += problems
    if errors:
        raise Invalid(errors)
    if "role" in data and data["role"] != "admin":
        _refuse_last_admin(session, user, "role")
    if "display_name" in data:
        user.display_name = _text(data["display_name"])
    if "role" in data:
        user.role = str(data["role"])
    if "department_id" in data:
        user.department_id = department.id if department else None
        user.department = department
    changes = _changed(before, _snapshot(user))
    if changes:
        user.version += 1
        session.flush()
        record(session, AccountChanged("user.updated", "user", user.username, changes))
        if "role" in changes or "department" in changes:
            # Sessions carry the old role's scope until they end: a changed role takes effect now.
            revoke_user_sessions(session, user)
    return user


def change_active(
    session: Session, principal: Principal, user_id: int, version: int | None, active: bool
) -> User:
    """Enable or disable an account (disabling ends its sessions); the last enabled admin stays enabled."""
    require(principal, Permission.USER_MANAGE)
    user = get_user(session, user_id)
    check_version(user.version, version)
    if user.is_active == active:
        return user
    if not active:
        _refuse_last_admin(session, user, "is_active")
    set_active(session, user, active)
    user.version += 1
    session.flush()
    record(
        session,
        AccountChanged(
            "user.enabled" if active else "user.disabled",
            "user",
            user.username,
            {"is_active": [not active, active]},
        ),
    )
    return user


def unlock(session: Session, principal: Principal, user_id: int) -> User:
    """Lift a lock-out after too many failed sign-ins now."""
    require(principal, Permission.USER_MANAGE)
    user = get_user(session, user_id)
    was_locked = user.locked_until is not None and user.locked_until > utcnow()
    user.locked_until = None
    user.failed_logins = 0
    session.flush()
    record(session, AccountChanged("user.unlocked", "user", user.username, {"locked": [was_locked, False]}))
    return user


def reset_password(session: Session, principal: Principal, user_id: int, version: int | None) -> str:
    """Give a person a new one-time password (returned once); they must choose their own at next sign-in."""
    require(principal, Permission.USER_MANAGE)
    user = get_user(session, user_id)
    check_version(user.version, version)
    if user.kind != "person":
        raise Invalid([FieldError("kind", "user.integration_no_password")])
    password = generate_password()
    user.password_hash = hash_password(password)
    user.must_change_password = True
    user.failed_logins = 0
    user.locked_until = None
    user.version += 1
    revoke_user_sessions(session, user)
    session.flush()
    record(session, AccountChanged("user.password_reset", "user", user.username))
    return password


def set_password(session: Session, principal: Principal, username: str, password: str) -> User:
    """Operators (CLI): set a person's password directly; it satisfies the policy and needs no change."""
    require(principal, Permission.USER_MANAGE)
    user = user_by_username(session, username)
    if user.kind != "person":
        raise Invalid([FieldError("username", "user.integration_no_password")])
    problems = password_problems(password, user.username)
    if problems:
        raise Invalid([FieldError("password", rule) for rule in problems])
    user.password_hash = hash_password(password)
    user.must_change_password = False
    user.version += 1
    revoke_user_sessions(session, user)
    session.flush()
    record(session, AccountChanged("user.password_set", "user", user.username))
    return user


def change_own_password(session: Session, principal: Principal, current: str, new: str, repeat: str) -> None:
    """The signed-in person replaces their password: the current one, then the new one twice, by the policy."""
    user = get_user(session, principal.user_id)
    errors: list[FieldError] = []
    if not current:
        errors.append(FieldError("current_password", "field.required"))
    elif not verify_password(user.password_hash, current):
        errors.append(FieldError("current_password", "password.wrong_current"))
    if not new:
        errors.append(FieldError("new_password", "field.required"))
    else:
        errors += [FieldError("new_password", rule) for rule in password_problems(new, user.username)]
        if new != repeat:
            errors.append(FieldError("repeat_password", "password.mismatch"))
        elif current and new == current:
            errors.append(FieldError("new_password", "password.unchanged"))
    if errors:
        raise Invalid(errors)
    user.password_hash = hash_password(new)
    user.must_change_password = False
    session.flush()
    record(session, AccountChanged("user.password_changed", "user", user.username))


def must_change_password(session: Session, user_id: int) -> bool:
    """Whether the account has to set a new password before anything else."""
    user = repository.get_user(session, user_id)
    return bool(user and user.must_change_password)


def display_names(session: Session, usernames: object) -> dict[str, str]:
    """username → display name for every known username given (unknown ones are left out)."""
    names = sorted({str(name) for name in usernames or () if name})  # type: ignore[attr-defined]
    return repository.display_names(session, names)


def person_label(display_name: str | None, username: str | None) -> str:
    """How a person is shown: 'display name (username)', or the username alone when both are the same."""
    if not username:
        return ""
    if not display_name or display_name == username:
        return username
    return f"{display_name} ({username})"


def search_people(
    session: Session, principal: Principal, text: str, roles: tuple[str, ...] = (), limit: int = 20
) -> list[User]:
    """Enabled people matching `text` in username or display name (any signed-in user may pick a person)."""
    return repository.search_users(session, _text(text)[:USERNAME_MAX], roles, max(1, min(limit, 50)))


def list_departments(session: Session, principal: Principal) -> list[Department]:
    """Every department (any signed-in user may see their names, e.g. in a filter)."""
    return repository.departments(session)


def department_members(session: Session) -> dict[int, int]:
    """department id → enabled accounts in it."""
    return repository.member_counts(session)


def department(session: Session, principal: Principal, department_id: int) -> Department:
    """One department (404 if unknown)."""
    found = repository.get_department(session, department_id)
    if found is None:
        raise NotFound("error.not_found")
    return found


def _head_or_invalid(session: Session, head_id: object) -> User | None:
    if head_id is None:
        return None
    head = repository.get_user(session, head_id) if isinstance(head_id, int) else None
    if head is None or head.kind != "person" or not head.is_active:
        raise Invalid([FieldError("head_id", "department.head_unknown")])
    return head


def _department_snapshot(session: Session, department: Department) -> dict[str, object]:
    head = repository.get_user(session, department.head_id) if department.head_id else None
    return {"name": department.name, "head": head.username if head else None}


def add_department(
    session: Session, principal: Principal, name: object, head_id: object = None
) -> Department:
    """Create a department with a unique name and, optionally, its head."""
    require(principal, Permission.USER_MANAGE)
    text = _text(name)
    errors = _text_problems("name", text, DEPARTMENT_NAME_MAX)
    if errors:
        raise Invalid(errors)
    head = _head_or_invalid(session, head_id)
    if repository.department_named(session, text) is not None:
        raise Conflict("error.duplicate", errors=[FieldError("name", "field.duplicate")])
    created = Department(name=text, head_id=head.id if head else None)
    session.add(created)
    session.flush()
    after = _department_snapshot(session, created)
    record(
        session,
        AccountChanged("department.created", "department", text, {k: [None, v] for k, v in after.items()}),
    )
    return created


def update_department(
    session: Session, principal: Principal, department_id: int, version: int | None, data: dict[str, object]
) -> Department:
    """Rename a department or give it a head (only the keys given; head_id None removes the head)."""
    require(principal, Permission.USER_MANAGE)
    found = department(session, principal, department_id)
    check_version(found.version, version)
    before = _department_snapshot(session, found)
    if "name" in data:
        text = _text(data["name"])
        errors = _text_problems("name", text, DEPARTMENT_NAME_MAX)
        if errors:
            raise Invalid(errors)
        other = repository.department_named(session, text)
        if other is not None and other.id != found.id:
            raise Conflict("error.duplicate", errors=[FieldError("name", "field.duplicate")])
        found.name = text
    if "head_id" in data:
        head = _head_or_invalid(session, data["head_id"])
        found.head_id = head.id if head else None
    changes = _changed(before, _department_snapshot(session, found))
    if changes:
        found.version += 1
        session.flush()
        record(session, AccountChanged("department.updated", "department", found.name, changes))
    return found


def head_names(session: Session, departments: list[Department]) -> dict[int, User]:
    """department id → its head, for the departments that have one."""
    heads = {}
    for item in departments:
        if item.head_id:
            head = repository.get_user(session, item.head_id)
            if head is not None:
                heads[item.id] = head
    return heads


@dataclass(frozen=True)
class IssuedToken:
    """A new integration token: the secret is shown once and only its hash is kept."""

    token: AuthSession
    secret: str


def tokens(session: Session, principal: Principal, user_id: int) -> list[AuthSession]:
    """The API tokens of an account, newest first."""
    require(principal, Permission.USER_MANAGE)
    get_user(session, user_id)
    return repository.api_tokens(session, user_id)


def issue_token(session: Session, principal: Principal, user_id: int, data: dict[str, object]) -> IssuedToken:
    """Issue a scoped, expiring token for an integration account (label, scope "read"/"read write", days)."""
    require(principal, Permission.USER_MANAGE)
    user = get_user(session, user_id)
    errors: list[FieldError] = []
    if user.kind != "integration":
        errors.append(FieldError("kind", "token.person"))
    if not user.is_active:
        errors.append(FieldError("kind", "token.disabled"))
    label = _text(data.get("label"))
    errors += _text_problems("label", label, TOKEN_LABEL_MAX)
    days = data.get("days")
    if not isinstance(days, int) or isinstance(days, bool) or not TOKEN_DAYS[0] <= days <= TOKEN_DAYS[1]:
        errors.append(FieldError("days", "integer.range", {"min": TOKEN_DAYS[0], "max": TOKEN_DAYS[1]}))
    scope = str(data.get("scope") or "")
    if not scope.strip():
        errors.append(FieldError("scope", "field.required"))
    elif any(item not in SCOPES for item in scope.split()):
        errors.append(FieldError("scope", "vocabulary.unknown", {"allowed": ", ".join(SCOPES)}))
    if errors:
        raise Invalid(errors)
    scopes = parse_scopes(scope)
    assert isinstance(days, int)  # checked above
    issued = issue_session(session, user, "api", timedelta(days=days), scopes)
    row = repository.session_with_hash(session, _digest(issued.secret))
    assert row is not None  # just added in this transaction
    row.label = label
    session.flush()
    record(
        session,
        AccountChanged(
            "token.created",
            "user",
            user.username,
            {"label": [None, label], "scopes": [None, scopes], "expires_at": [None, row.expires_at]},
        ),
    )
    return IssuedToken(row, issued.secret)


def revoke_token(session: Session, principal: Principal, user_id: int, token_id: int) -> AuthSession:
    """Revoke one API token of an account now (revoking it twice changes nothing)."""
    require(principal, Permission.USER_MANAGE)
    user = get_user(session, user_id)
    row = repository.get_token(session, user_id, token_id)
    if row is None:
        raise NotFound("error.not_found")
    if row.revoked_at is None:
        row.revoked_at = utcnow()
        session.flush()
        record(
            session, AccountChanged("token.revoked", "user", user.username, {"label": [row.label, row.label]})
        )
    return row


def usernames_by_id(session: Session, user_ids: object) -> dict[int, str]:
    """user id → username for every known id given (history records the owner by id)."""
    ids = sorted({int(i) for i in user_ids or () if isinstance(i, int) and not isinstance(i, bool)})  # type: ignore[attr-defined]
    return repository.usernames_by_id(session, ids)


def department_names_by_id(session: Session, department_ids: object) -> dict[int, str]:
    """department id → name for every known id given."""
    ids = sorted({int(i) for i in department_ids or () if isinstance(i, int) and not isinstance(i, bool)})  # type: ignore[attr-defined]
    return repository.department_names_by_id(session, ids)
