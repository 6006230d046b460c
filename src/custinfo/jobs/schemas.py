"""API shapes of jobs and their runs."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from custinfo.jobs import service
from custinfo.jobs.models import JobRun
from custinfo.jobs.service import JobStatus


class ProgressOut(BaseModel):
    """How far a run is: `done` of `total` (null: unknown), with what it is doing."""

    done: int
    total: int | None
    note: str | None


class JobRunOut(BaseModel):
    """One run of a job."""

    id: int
    name: str
    params: dict[str, Any]
    status: str = Field(description="queued, running, succeeded or failed")
    requested_by: str
    requested_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    duration_ms: int | None
    progress: ProgressOut
    result: dict[str, Any] | None
    error: str | None = Field(description="why it failed, in the caller's language")
    link: str | None = Field(description="page showing what the run produced")

    @classmethod
    def of(cls, run: JobRun, language: str) -> JobRunOut:
        """The API view of a run."""
        return cls(
            id=run.id,
            name=run.name,
            params=run.params or {},
            status=run.status,
            requested_by=run.requested_by,
            requested_at=run.requested_at,
            started_at=run.started_at,
            finished_at=run.finished_at,
            duration_ms=run.duration_ms,
            progress=ProgressOut(done=run.progress_done, total=run.progress_total, note=run.progress_note),
            result=run.result,
            error=service.error_message(run, language),
            link=service.result_link(run),
        )


class JobOut(BaseModel):
    """A registered job with its schedule, newest run and next run."""

    name: str
    description: str
    schedule: str | None = Field(description="cron expression in the configured zone; null: on request only")
    schedule_text: str
    next_run_at: datetime | None
    last_run: JobRunOut | None

    @classmethod
    def of(cls, status: JobStatus, language: str) -> JobOut:
        """The API view of a job."""
        return cls(
            name=status.job.name,
            description=status.job.description(language),
            schedule=status.schedule,
            schedule_text=service.describe_schedule(status.schedule, language),
            next_run_at=status.next_run_at,
            last_run=JobRunOut.of(status.last_run, language) if status.last_run else None,
        )


class JobRunPage(BaseModel):
    """A page of runs, newest first."""

    items: list[JobRunOut]
    total: int
    page: int
    size: int


class JobRunIn(BaseModel):
    """Parameters of a run (each job says which it takes)."""

    model_config = ConfigDict(extra="forbid")

    params: dict[str, Any] = Field(default_factory=dict)
