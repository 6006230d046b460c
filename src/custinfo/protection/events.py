"""Domain events the protection domain emits: sensitive reads and access requests (audited).

Values in events are already masked: an event never carries a sensitive value in clear.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from custinfo.core.uow import DomainEvent


@dataclass(frozen=True)
class SensitiveFieldRead(DomainEvent):
    """Someone saw an L2 or L3 value in clear (a reveal, or a view their role shows unmasked)."""

    name: ClassVar[str] = "sensitive_read"
    customer_id: int
    fields: tuple[str, ...]
    level: str  # L2 | L3
    purpose: str  # reveal | view | export


@dataclass(frozen=True)
class SensitiveSearch(DomainEvent):
    """Someone looked an L3 value up exactly (search, duplicate check): a read of the value, never its text."""

    name: ClassVar[str] = "sensitive_read.search"
    field: str  # id_number | bank_account
    level: str
    purpose: str  # search | duplicate_check
    matched: bool


@dataclass(frozen=True)
class AccessRequested(DomainEvent):
    """A user asked for clear access to a field level or to a customer outside their scope."""

    name: ClassVar[str] = "access_requested"
    request_id: int
    requester: str
    target: str  # e.g. "level:L3" or "customer:42"
    reason: str

    def audit_target(self) -> tuple[str | None, Any]:
        """The access request."""
        return "access_request", self.request_id


@dataclass(frozen=True)
class AccessDecided(DomainEvent):
    """An approver approved or rejected an access request."""

    name: ClassVar[str] = "access_decided"
    request_id: int
    decision: str  # approved | rejected
    expires_at: str | None = None

    def audit_target(self) -> tuple[str | None, Any]:
        """The access request."""
        return "access_request", self.request_id
