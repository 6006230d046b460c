"""The backup warning: a failed run, a failed verification, no backup at all, none in 48 hours — or nothing."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm import Session, sessionmaker

from custinfo.backup import health
from custinfo.backup import service as backups
from custinfo.config import Settings
from custinfo.core import clock
from custinfo.core.db import utcnow
from custinfo.jobs import runner
from custinfo.jobs import service as jobs
from custinfo.jobs.models import JobRun


def _back_up(session: Session, factory: sessionmaker[Session], **params: object) -> JobRun:
    jobs.enqueue(session, "backup", dict(params), "admin")
    session.commit()
    [run] = runner.run_queued(factory)
    return run


def test_no_backup_at_all(session: Session, settings: Settings) -> None:
    warning = health.backup_warning(session, settings, clock.now())
    assert warning is not None and warning.reason == "none" and warning.at is None


def test_a_fresh_verified_backup_is_fine_until_48_hours_pass(
    session: Session, session_factory: sessionmaker[Session], settings: Settings
) -> None:
    backups.configure(settings)
    assert _back_up(session, session_factory, kind="daily").status == "succeeded"
    now = clock.now()
    assert health.backup_warning(session, settings, now) is None
    assert health.backup_warning(session, settings, now + timedelta(hours=47)) is None
    stale = health.backup_warning(session, settings, now + timedelta(hours=49))
    assert stale is not None and stale.reason == "stale" and stale.at is not None
    assert stale.at <= now


def test_the_newest_run_failed_and_none_succeeded_since(
    session: Session, session_factory: sessionmaker[Session], settings: Settings
) -> None:
    backups.configure(settings)
    _back_up(session, session_factory, kind="daily")
    failed = JobRun(
        name="backup",
        params={},
        status="failed",
        requested_by="schedule",
        started_at=utcnow(),
        finished_at=utcnow(),
        progress_done=0,
        error="backup.failure.tool_missing",
        error_params={"tool": "pg_dump"},
    )
    session.add(failed)
    session.commit()
    warning = health.backup_warning(session, settings, clock.now())
    assert warning is not None and warning.reason == "run_failed"
    assert warning.cause == "backup.failure.tool_missing" and warning.cause_params == {"tool": "pg_dump"}
    # A queued or running backup changes nothing; a successful one after the failure clears it.
    jobs.enqueue(session, "backup", {"kind": "weekly"}, "admin")
    session.commit()
    assert health.backup_warning(session, settings, clock.now()).reason == "run_failed"  # type: ignore[union-attr]
    runner.run_queued(session_factory)
    assert health.backup_warning(session, settings, clock.now()) is None


def test_the_newest_verification_failed(
    session: Session, session_factory: sessionmaker[Session], settings: Settings
) -> None:
    backups.configure(settings)
    _back_up(session, session_factory, kind="daily", verify=False)
    [view] = backups.backups(session, settings)
    path = settings.effective_backup_dir / view.file_name
    data = bytearray(path.read_bytes())
    data[-40] ^= 0xFF
    path.write_bytes(bytes(data))
    jobs.enqueue(session, "backup-verify", {"file_name": view.file_name}, "admin")
    session.commit()
    runner.run_queued(session_factory)
    warning = health.backup_warning(session, settings, clock.now())
    assert warning is not None and warning.reason == "verify_failed"
    assert warning.file_name == view.file_name and warning.cause == "backup.failure.damaged"
