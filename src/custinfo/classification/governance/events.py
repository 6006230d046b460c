"""Domain events tag governance emits (audited)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from custinfo.core.uow import DomainEvent


@dataclass(frozen=True)
class ProposalDecided(DomainEvent):
    """A reviewer approved, rejected or sent back a tag governance proposal."""

    name: ClassVar[str] = "proposal_decided"
    proposal_id: int
    kind: str  # new_tag | rule_change | manual_tag | reactivate
    decision: str  # approved | rejected | changes_requested
    proposer: str

    def audit_target(self) -> tuple[str | None, Any]:
        """The proposal."""
        return "proposal", self.proposal_id
