"""All SQL of the job runner."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, exists, func, select, true, update
from sqlalchemy.orm import Session, aliased

from custinfo.core.db import utcnow
from custinfo.core.errors import NotFound
from custinfo.jobs.models import JobRun


def add_run(session: Session, name: str, params: dict[str, Any], requested_by: str) -> JobRun:
    """A queued run, flushed in the caller's transaction."""
    run = JobRun(name=name, params=params, status="queued", requested_by=requested_by, progress_done=0)
    session.add(run)
    session.flush()
    return run


def get_run(session: Session, run_id: int, where: ColumnElement[bool] | None = None) -> JobRun:
    """One run matching `where` (404 if absent or not visible)."""
    run = session.scalar(select(JobRun).where(JobRun.id == run_id, where if where is not None else true()))
    if run is None:
        raise NotFound("error.not_found")
    return run


def list_runs(
    session: Session, name: str | None, page: int, size: int, where: ColumnElement[bool] | None = None
) -> tuple[list[JobRun], int]:
    """Runs newest first, optionally of one job, with the total."""
    stmt = select(JobRun)
    if name:
        stmt = stmt.where(JobRun.name == name)
    if where is not None:
        stmt = stmt.where(where)
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = session.scalars(stmt.order_by(JobRun.id.desc()).limit(size).offset((page - 1) * size))
    return list(rows), total


def last_runs(session: Session, names: list[str]) -> dict[str, JobRun]:
    """The newest run of each named job."""
    newest = select(func.max(JobRun.id)).where(JobRun.name.in_(names)).group_by(JobRun.name).scalar_subquery()
    return {run.name: run for run in session.scalars(select(JobRun).where(JobRun.id.in_(newest)))}


def last_finished(session: Session, name: str) -> JobRun | None:
    """The newest run of the job that has ended (succeeded or failed)."""
    return session.scalars(
        select(JobRun)
        .where(JobRun.name == name, JobRun.status.in_(("succeeded", "failed")))
        .order_by(JobRun.id.desc())
        .limit(1)
    ).first()


def has_queued(session: Session, name: str) -> bool:
    """Whether a run of the job is waiting."""
    return bool(session.scalar(select(exists().where(JobRun.name == name, JobRun.status == "queued"))))


def next_claimable(session: Session, names: list[str]) -> int | None:
    """The oldest queued run of a registered job that has no run in progress."""
    running = aliased(JobRun)
    busy = exists().where(running.name == JobRun.name, running.status == "running")
    return session.scalar(
        select(JobRun.id)
        .where(JobRun.status == "queued", JobRun.name.in_(names), ~busy)
        .order_by(JobRun.id)
        .limit(1)
    )


def claim(session: Session, run_id: int) -> bool:
    """Mark a queued run running; False if someone else took it first."""
    result = session.execute(
        update(JobRun)
        .where(JobRun.id == run_id, JobRun.status == "queued")
        .values(status="running", started_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def set_progress(session: Session, run_id: int, done: int, total: int | None, note: str | None) -> None:
    """Store how far a run is."""
    session.execute(
        update(JobRun)
        .where(JobRun.id == run_id)
        .values(progress_done=done, progress_total=total, progress_note=note)
        .execution_options(synchronize_session=False)
    )


def finish(
    session: Session,
    run_id: int,
    status: str,
    progress: tuple[int, int | None, str | None],
    result: dict[str, Any] | None = None,
    error: str | None = None,
    error_params: dict[str, Any] | None = None,
) -> None:
    """Record how a run ended, with its last progress."""
    done, total, note = progress
    session.execute(
        update(JobRun)
        .where(JobRun.id == run_id)
        .values(
            status=status,
            finished_at=utcnow(),
            progress_done=done,
            progress_total=total,
            progress_note=note,
            result=result,
            error=error,
            error_params=error_params,
        )
        .execution_options(synchronize_session=False)
    )


def fail_running(session: Session, before: datetime, error: str) -> int:
    """Mark runs left `running` by a stopped process as failed; how many."""
    result = session.execute(
        update(JobRun)
        .where(JobRun.status == "running", JobRun.started_at < before)
        .values(status="failed", finished_at=utcnow(), error=error)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]
