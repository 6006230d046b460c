"""The backup jobs: `backup` (make, verify by a test restore, rotate; daily at the policy's time) and `backup-verify`."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Connection, Engine
from sqlalchemy.orm import Session

from custinfo.backup import service
from custinfo.backup.errors import BackupFailure
from custinfo.backup.policy import current_policy
from custinfo.core import clock
from custinfo.core.uow import actor_of
from custinfo.jobs.registry import Job, Progress


class BackupParams(BaseModel):
    """Parameters of the `backup` job: the kind (by default the calendar's), and whether to verify it."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["daily", "weekly", "monthly"] | None = None
    verify: bool = True


class VerifyParams(BaseModel):
    """Parameters of the `backup-verify` job: which archive of the backup directory."""

    model_config = ConfigDict(extra="forbid")

    file_name: str = Field(min_length=1, max_length=200)


def _engine(session: Session) -> Engine:
    bind = session.get_bind()
    return bind.engine if isinstance(bind, Connection) else bind


def backup(session: Session, params: BackupParams, progress: Progress) -> dict[str, Any]:
    """Make an archive of the kind due, verify it by a test restore, then rotate that kind."""
    settings = service.configured()
    actor = actor_of(session).username
    steps = 3 if params.verify else 2
    kind = params.kind or service.kind_due(session, settings, datetime.now(clock.zone()))
    made = service.make_archive(
        _engine(session), settings, kind, lambda note: progress.update(0, steps, note)
    )
    service.record_made(session, made, actor)
    verified: bool | None = None
    if params.verify:
        progress.update(1, steps, "backup.note.test_restore")
        try:
            outcome: service.Verified | BackupFailure = service.verify_archive(
                _engine(session), settings, made.path
            )
        except BackupFailure as failure:
            outcome = failure
        service.record_verification(session, settings, made.file_name, outcome, actor)
        verified = isinstance(outcome, service.Verified)
    progress.update(steps - 1, steps, "backup.note.rotating")
    deleted = service.rotate(session, settings, kind)
    progress.update(steps, steps, "jobs.note.done")
    return {
        "file_name": made.file_name,
        "kind": kind,
        "size_bytes": made.size_bytes,
        "rows": made.manifest["total_rows"],
        "verified": verified,
        "deleted": len(deleted),
    }


def verify(session: Session, params: VerifyParams, progress: Progress) -> dict[str, Any]:
    """Verify one archive of the backup directory by a test restore and record the outcome."""
    settings = service.configured()
    path = service.archive_path(settings, params.file_name)
    progress.update(0, 1, "backup.note.test_restore")
    try:
        outcome: service.Verified | BackupFailure = service.verify_archive(_engine(session), settings, path)
    except BackupFailure as failure:
        outcome = failure
    service.record_verification(session, settings, path.name, outcome, actor_of(session).username)
    progress.update(1, 1, "jobs.note.done")
    return {"file_name": path.name, "verified": isinstance(outcome, service.Verified)}


def backup_schedule(session: Session) -> str:
    """Daily at the policy's `run_at` (HH:MM, configured zone) as a cron expression."""
    hour, _, minute = current_policy(session).run_at.partition(":")
    return f"{int(minute or 0)} {int(hour)} * * *"


def backups_page(_result: dict[str, Any]) -> str:
    """Both jobs' results are seen on the backups page."""
    return "/backups"


BACKUP = Job(
    name="backup",
    description_zh="备份全部数据（加密），以试恢复验证，并按保留策略轮换",
    description_en="Back up all data (encrypted), verify it by a test restore, rotate by the policy",
    run=backup,
    params=BackupParams,
    schedule=backup_schedule,
    link=backups_page,
)

VERIFY = Job(
    name="backup-verify",
    description_zh="以试恢复验证一份备份",
    description_en="Verify one backup by a test restore",
    run=verify,
    params=VerifyParams,
    link=backups_page,
)
