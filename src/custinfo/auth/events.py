"""Domain events the auth domain emits: sign-ins and permission changes (the audit log records them)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from custinfo.core.uow import DomainEvent


@dataclass(frozen=True)
class LoginAttempted(DomainEvent):
    """A sign-in attempt (web or API), successful or not."""

    name: ClassVar[str] = "login"
    username: str
    succeeded: bool
    channel: str  # web | api
    reason: str | None = None  # e.g. auth.bad_credentials, auth.locked, auth.throttled

    def audit_actor(self, acting: str) -> str:
        """Before sign-in the unit of work runs as "anonymous"; the entry names the account tried."""
        return self.username if acting == "anonymous" else acting

    def audit_action(self) -> str:
        """login.succeeded or login.failed."""
        return "login.succeeded" if self.succeeded else "login.failed"

    def audit_target(self) -> tuple[str | None, Any]:
        """The account tried."""
        return "user", self.username


@dataclass(frozen=True)
class PermissionChanged(DomainEvent):
    """A role, field level, masking rule or user permission changed."""

    name: ClassVar[str] = "permission_changed"
    what: str  # e.g. "field_level:id_number", "user:bob.role"
    before: Any = None
    after: Any = None

    def audit_target(self) -> tuple[str | None, Any]:
        """`what` is "type:id", e.g. "field_level:id_number"."""
        target_type, _, target_id = self.what.partition(":")
        return target_type, target_id or None


@dataclass(frozen=True)
class AccountChanged(DomainEvent):
    """An account, department or integration token was created or changed by an administrator or its owner.

    `changes` maps a field to [before, after]; no password or token secret is ever part of it.
    """

    name: ClassVar[str] = "account"
    action: str  # e.g. user.created, user.updated, user.disabled, department.created, token.revoked
    target_type: str  # user | department
    target: str  # the username or the department's name
    changes: dict[str, list[Any]] = field(default_factory=dict)

    def audit_action(self) -> str:
        """The action itself, e.g. user.password_reset."""
        return self.action

    def audit_target(self) -> tuple[str | None, Any]:
        """The account (by username) or the department (by name)."""
        return self.target_type, self.target
