"""Domain events the activity domain emits (besides the automatic EntityChanged of its tracked rows)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from custinfo.core.uow import DomainEvent


@dataclass(frozen=True)
class EngagementRecorded(DomainEvent):
    """A browsing event was appended to a customer's engagement log (append-only rows, not Tracked)."""

    name: ClassVar[str] = "engagement_recorded"
    customer_id: int
    event_type: str
