"""Domain events that the tamper-evident audit log records (besides EntityChanged).

Services queue them with `custinfo.core.uow.record(session, event)`; the audit
recorder writes them in the same transaction (no audit, no change). Values in
events are already masked: an event never carries a sensitive value in clear.
"""

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


@dataclass(frozen=True)
class SensitiveFieldRead(DomainEvent):
    """Someone saw an L2 or L3 value in clear (a reveal, or a view their role shows unmasked)."""

    name: ClassVar[str] = "sensitive_read"
    customer_id: int
    fields: tuple[str, ...]
    level: str  # L2 | L3
    purpose: str  # reveal | view | export


@dataclass(frozen=True)
class DataExported(DomainEvent):
    """Rows left the system through an export."""

    name: ClassVar[str] = "export"
    what: str
    row_count: int
    filters: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class AccessRequested(DomainEvent):
    """A user asked for clear access to a field level or to a customer outside their scope."""

    name: ClassVar[str] = "access_requested"
    request_id: int
    requester: str
    target: str  # e.g. "level:L3" or "customer:42"
    reason: str


@dataclass(frozen=True)
class AccessDecided(DomainEvent):
    """An approver approved or rejected an access request."""

    name: ClassVar[str] = "access_decided"
    request_id: int
    decision: str  # approved | rejected
    expires_at: str | None = None


@dataclass(frozen=True)
class PermissionChanged(DomainEvent):
    """A role, field level, masking rule or user permission changed."""

    name: ClassVar[str] = "permission_changed"
    what: str  # e.g. "field_level:id_number", "user:bob.role"
    before: Any = None
    after: Any = None


@dataclass(frozen=True)
class ProposalDecided(DomainEvent):
    """A reviewer approved, rejected or sent back a tag governance proposal."""

    name: ClassVar[str] = "proposal_decided"
    proposal_id: int
    kind: str  # new_tag | rule_change | manual_tag | reactivate
    decision: str  # approved | rejected | changes_requested
    proposer: str
