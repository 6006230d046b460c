"""Domain events of backups (audited): an archive made, verified, restored, or the policy changed."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from custinfo.core.uow import DomainEvent


@dataclass(frozen=True)
class BackupEvent(DomainEvent):
    """Something happened to a backup archive or to the backup policy.

    `action` is made | verified | verify_failed | restored | deleted (by rotation) | policy_changed;
    `file_name` names the archive ("" for the policy); `details` holds counts, the failure's message key
    or the policy's changes — never a value from the data.
    """

    name: ClassVar[str] = "backup"
    action: str
    file_name: str = ""
    details: dict[str, Any] = field(default_factory=dict)

    def audit_action(self) -> str:
        """e.g. backup.made."""
        return f"backup.{self.action}"

    def audit_target(self) -> tuple[str | None, Any]:
        """The archive, by its file name."""
        return ("backup", self.file_name) if self.file_name else ("backup_policy", None)
