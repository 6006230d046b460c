"""Backups on request: queue a backup run or the verification of one archive as jobs (admins).

The work itself is the job runner's (jobs `backup` and `backup-verify`, registered by bootstrap); the
request only enqueues it in the caller's transaction, so a rolled-back request queues nothing.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from custinfo.auth.policy import Permission, Principal, require
from custinfo.backup import service
from custinfo.config import Settings
from custinfo.jobs import service as jobs
from custinfo.jobs.models import JobRun

BACKUP_JOB = "backup"
VERIFY_JOB = "backup-verify"
JOBS = (BACKUP_JOB, VERIFY_JOB)


def start_backup(
    session: Session, principal: Principal, kind: str | None = None, verify: bool | None = None
) -> JobRun:
    """Queue a backup now: of the given kind (default: by the calendar), verified unless told otherwise."""
    require(principal, Permission.BACKUP_MANAGE)
    params: dict[str, Any] = {}
    if kind:
        params["kind"] = kind
    if verify is not None:
        params["verify"] = verify
    return jobs.request_run(session, principal, BACKUP_JOB, params)


def start_verify(session: Session, principal: Principal, settings: Settings, file_name: str) -> JobRun:
    """Queue a test restore of one archive in the backup directory (404 for a name not listed there)."""
    require(principal, Permission.BACKUP_MANAGE)
    service.archive_path(settings, file_name)
    return jobs.request_run(session, principal, VERIFY_JOB, {"file_name": file_name})
