"""Job use-cases: enqueue a run in the caller's transaction, list jobs and their runs.

Running a job (claiming, the job's own unit of work, progress) is jobs.runner's business; the
functions here flush, never commit, so a rolled-back request enqueues nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger
from pydantic import ValidationError
from sqlalchemy import ColumnElement, true
from sqlalchemy.orm import Session

from custinfo.auth.policy import Permission, Principal, can, require
from custinfo.core.db import utcnow
from custinfo.core.errors import DomainError
from custinfo.core.i18n import translate
from custinfo.core.problems import from_pydantic
from custinfo.jobs import repository
from custinfo.jobs.models import JobRun
from custinfo.jobs.registry import Job, registry


@dataclass(frozen=True)
class JobStatus:
    """A registered job with its schedule, its newest run and when it runs next."""

    job: Job
    schedule: str | None
    next_run_at: datetime | None
    last_run: JobRun | None


def checked_params(job: Job, params: dict[str, Any] | None) -> dict[str, Any]:
    """The job's parameters validated and in JSON form (422 naming each field and rule)."""
    try:
        model = job.params.model_validate(params or {})
    except ValidationError as error:
        raise from_pydantic(list(error.errors())) from None
    return model.model_dump(mode="json", exclude_none=True)


def enqueue(session: Session, name: str, params: dict[str, Any] | None, requested_by: str) -> JobRun:
    """Queue a run of a registered job inside the caller's transaction (404 unknown job, 422 bad params)."""
    job = registry.get(name)
    return repository.add_run(session, job.name, checked_params(job, params), requested_by)


def request_run(
    session: Session, principal: Principal, name: str, params: dict[str, Any] | None = None
) -> JobRun:
    """An admin asks for a run now (queued; the runner picks it up)."""
    require(principal, Permission.JOBS_MANAGE)
    return enqueue(session, name, params, principal.username)


def schedule_of(session: Session, job: Job) -> str | None:
    """The job's cron expression now (None when unscheduled or its source cannot say)."""
    if job.schedule is None:
        return None
    try:
        return job.schedule(session)
    except DomainError:
        return None


def next_fire(cron: str | None, zone: str, now: datetime | None = None) -> datetime | None:
    """When a cron expression fires next after `now`, in the given zone."""
    if not cron:
        return None
    trigger = CronTrigger.from_crontab(cron, timezone=ZoneInfo(zone))
    return trigger.get_next_fire_time(None, (now or utcnow()).astimezone(ZoneInfo(zone)))


def describe_schedule(cron: str | None, language: str) -> str:
    """A schedule in words ("每天 02:00"); other cron expressions as they are."""
    if not cron:
        return translate("jobs.schedule.none", language)
    fields = cron.split()
    if len(fields) == 5 and fields[2:] == ["*", "*", "*"] and fields[0].isdigit() and fields[1].isdigit():
        return translate("jobs.schedule.daily", language, time=f"{int(fields[1]):02d}:{int(fields[0]):02d}")
    return cron


def list_jobs(session: Session, principal: Principal, zone: str) -> list[JobStatus]:
    """Every registered job with its schedule, newest run and next run."""
    require(principal, Permission.JOBS_MANAGE)
    return job_statuses(session, zone)


def job_statuses(session: Session, zone: str) -> list[JobStatus]:
    """Every registered job with its schedule, newest run and next run (for operators at the CLI)."""
    jobs = registry.all()
    last = repository.last_runs(session, [j.name for j in jobs])
    statuses = []
    for job in jobs:
        cron = schedule_of(session, job)
        statuses.append(JobStatus(job, cron, next_fire(cron, zone), last.get(job.name)))
    return statuses


def last_finished_run(session: Session, name: str) -> JobRun | None:
    """The newest ended run of a job (for health checks; the caller decides who may see it)."""
    return repository.last_finished(session, name)


def _visible(principal: Principal) -> ColumnElement[bool]:
    # Admins see every run; whoever asked for a run (a steward's "run now", a reviewer's approval)
    # may follow that one run.
    if can(principal, Permission.JOBS_MANAGE):
        return true()
    return JobRun.requested_by == principal.username


def list_runs(
    session: Session, principal: Principal, name: str | None = None, page: int = 1, size: int = 20
) -> tuple[list[JobRun], int]:
    """The run history, newest first, optionally of one job; with the total."""
    require(principal, Permission.JOBS_MANAGE)
    if name:
        registry.get(name)
    return repository.list_runs(session, name, page, size)


def get_run(session: Session, principal: Principal, run_id: int) -> JobRun:
    """One run: any for an admin, else only one the caller asked for (404 otherwise)."""
    return repository.get_run(session, run_id, _visible(principal))


def error_message(run: JobRun, language: str) -> str | None:
    """Why a run failed, in words."""
    if run.error is None:
        return None
    return translate(run.error, language, **(run.error_params or {}))


def result_link(run: JobRun) -> str | None:
    """The page showing what a finished run produced, if its job has one."""
    job = registry.jobs.get(run.name)
    if job is None or job.link is None or not run.result:
        return None
    return job.link(run.result)
