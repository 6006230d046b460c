"""Domain events the audit domain itself emits (its own exports); other domains declare theirs beside them.

Services queue events with `custinfo.core.uow.record(session, event)`; which are audited is wired in
`custinfo.bootstrap`. Values in events are already masked: an event never carries a sensitive value in clear.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from custinfo.core.uow import DomainEvent


@dataclass(frozen=True)
class DataExported(DomainEvent):
    """Rows left the system through an export."""

    name: ClassVar[str] = "export"
    what: str
    row_count: int
    filters: dict[str, Any] = field(default_factory=dict)

    def audit_target(self) -> tuple[str | None, Any]:
        """What was exported."""
        return self.what, None
