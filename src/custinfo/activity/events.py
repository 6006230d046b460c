"""Domain events the activity domain emits (besides the automatic EntityChanged of its tracked rows)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from custinfo.core.uow import DomainEvent


@dataclass(frozen=True)
class EngagementRecorded(DomainEvent):
    """A browsing event was appended to a customer's engagement log (append-only rows, not Tracked)."""

    name: ClassVar[str] = "engagement_recorded"
    customer_id: int
    event_type: str


@dataclass(frozen=True)
class ContractRenewed(DomainEvent):
    """A contract was renewed (its new term and amount are in the contract's own tracked change)."""

    name: ClassVar[str] = "contract.renewed"
    customer_id: int
    contract_id: int
    renewal_id: int

    def audit_target(self) -> tuple[str | None, Any]:
        """The renewed contract."""
        return "contract", self.contract_id


@dataclass(frozen=True)
class ContractTerminated(DomainEvent):
    """A contract was terminated (its date and reason are in the contract's own tracked change)."""

    name: ClassVar[str] = "contract.terminated"
    customer_id: int
    contract_id: int

    def audit_target(self) -> tuple[str | None, Any]:
        """The terminated contract."""
        return "contract", self.contract_id
