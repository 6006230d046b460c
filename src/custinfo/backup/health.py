"""Whether the backups need an admin's attention: the home page's and the backups page's warning.

In order of urgency: the newest backup run failed (none succeeded after it), the newest verification
failed, there is no backup at all, or none was made in the last 48 hours. The caller decides who sees it
(admins: backup.manage).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from custinfo.backup import service
from custinfo.backup.runs import BACKUP_JOB
from custinfo.config import Settings
from custinfo.jobs import service as jobs

STALE_AFTER = timedelta(hours=48)


@dataclass(frozen=True)
class BackupWarning:
    """Why the backups need attention: `reason` (run_failed | verify_failed | none | stale), when, and why.

    `cause` is a message key with `cause_params` (the run's error or the verification's failure).
    """

    reason: str
    at: datetime | None = None
    cause: str | None = None
    cause_params: dict[str, Any] = field(default_factory=dict)
    file_name: str | None = None


def backup_warning(session: Session, settings: Settings, now: datetime) -> BackupWarning | None:
    """The most urgent reason the backups need attention now, or None when all is well."""
    run = jobs.last_finished_run(session, BACKUP_JOB)
    if run is not None and run.status == "failed":
        return BackupWarning(
            "run_failed",
            at=run.finished_at or run.requested_at,
            cause=run.error,
            cause_params=dict(run.error_params or {}),
        )
    archives = service.backups(session, settings)
    checked = [a for a in archives if a.verified_at is not None]
    if checked:
        last = max(checked, key=lambda a: a.verified_at or now)
        if last.verified_ok is False:
            return BackupWarning(
                "verify_failed",
                at=last.verified_at,
                cause=last.failure,
                cause_params=dict(last.failure_params or {}),
                file_name=last.file_name,
            )
    # An unreadable file (no header) has no trustworthy time: it is listed, red, but proves nothing here.
    readable = [a for a in archives if a.dialect]
    if not readable:
        return BackupWarning("none")
    newest = max(a.made_at for a in readable)
    if now - newest > STALE_AFTER:
        return BackupWarning("stale", at=newest)
    return None
