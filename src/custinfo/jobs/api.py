"""JSON routes of the job runner (admins): jobs, run history, one run, run now."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from custinfo.auth.deps import ApiPrincipal, DbSession, language_of, settings_of
from custinfo.idempotent import Once
from custinfo.jobs import service
from custinfo.jobs.schemas import JobOut, JobRunIn, JobRunOut, JobRunPage

router = APIRouter(tags=["jobs"])


@router.get("/jobs", response_model=list[JobOut])
def list_jobs(request: Request, session: DbSession, principal: ApiPrincipal) -> list[JobOut]:
    """Registered jobs with schedule, newest run and next run."""
    language = language_of(request)
    statuses = service.list_jobs(session, principal, settings_of(request).timezone)
    return [JobOut.of(s, language) for s in statuses]


@router.get("/jobs/runs", response_model=JobRunPage)
def list_runs(
    request: Request,
    session: DbSession,
    principal: ApiPrincipal,
    name: Annotated[str | None, Query(max_length=60, description="only runs of this job")] = None,
    page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
    size: Annotated[int, Query(ge=1, le=200)] = 20,
) -> JobRunPage:
    """Run history, newest first."""
    rows, total = service.list_runs(session, principal, name or None, page, size)
    language = language_of(request)
    return JobRunPage(items=[JobRunOut.of(r, language) for r in rows], total=total, page=page, size=size)


@router.get("/jobs/runs/{run_id}", response_model=JobRunOut)
def get_run(run_id: int, request: Request, session: DbSession, principal: ApiPrincipal) -> JobRunOut:
    """One run with its progress, result or error."""
    return JobRunOut.of(service.get_run(session, principal, run_id), language_of(request))


@router.post("/jobs/{name}/runs", response_model=JobRunOut, status_code=202)
def start_run(
    name: str,
    request: Request,
    session: DbSession,
    principal: ApiPrincipal,
    once: Once,
    body: JobRunIn | None = None,
) -> Any:
    """Queue a run now (once per Idempotency-Key); poll GET /jobs/runs/{id} for its progress."""

    def create() -> JobRunOut:
        run = service.request_run(session, principal, name, body.params if body else None)
        return JobRunOut.of(run, language_of(request))

    return once.run(body, create, status=202)
