"""Domain events of configuration changes (the audit log records them)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from custinfo.core.uow import DomainEvent


@dataclass(frozen=True)
class ConfigurationChanged(DomainEvent):
    """A setting changed: a vocabulary (new version), a governance setting, the classification code."""

    name: ClassVar[str] = "configuration_changed"
    what: str  # "vocabulary:industry", "governance:reviewer_roles", "classification_code:level1"
    before: Any = None
    after: Any = None
    version: int | None = None
    reason: str = ""

    def audit_target(self) -> tuple[str | None, Any]:
        """`what` is "type:id", e.g. "vocabulary:industry"."""
        target_type, _, target_id = self.what.partition(":")
        return target_type, target_id or None
