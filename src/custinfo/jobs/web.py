"""HTML pages of the job runner: the jobs page (admins), one run with its live progress, "run now"."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response

from custinfo.auth.deps import DbSession, language_of, settings_of
from custinfo.auth.web import WebUser, web_user
from custinfo.core.pagination import page_count
from custinfo.jobs import service
from custinfo.jobs.models import JobRun
from custinfo.web.templating import render, see_other

router = APIRouter(include_in_schema=False, dependencies=[Depends(web_user)])

PAGE_SIZE = 20


def run_view(run: JobRun, language: str) -> dict[str, Any]:
    """What the templates show of a run: the run, its error in words, its result page."""
    return {"run": run, "error": service.error_message(run, language), "link": service.result_link(run)}


@router.get("/jobs", response_class=HTMLResponse)
def jobs_page(
    request: Request,
    session: DbSession,
    principal: WebUser,
    name: str | None = None,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> HTMLResponse:
    """Every job with schedule, last and next run and "run now"; below, the run history."""
    language = language_of(request)
    statuses = service.list_jobs(session, principal, settings_of(request).timezone)
    rows, total = service.list_runs(session, principal, name or None, page, PAGE_SIZE)
    return render(
        request,
        "jobs/jobs.html",
        jobs=[
            {
                "status": s,
                "description": s.job.description(language),
                "schedule": service.describe_schedule(s.schedule, language),
                "last": run_view(s.last_run, language) if s.last_run else None,
            }
            for s in statuses
        ],
        rows=[run_view(r, language) for r in rows],
        total=total,
        name=name,
        page=page,
        pages=page_count(total, PAGE_SIZE),
    )


@router.post("/jobs/{name}/runs", response_class=HTMLResponse)
def run_now(session: DbSession, principal: WebUser, name: str) -> Response:
    """Queue a run now (立即运行) and follow it on its page."""
    run = service.request_run(session, principal, name)
    return see_other(f"/jobs/runs/{run.id}?flash=job_queued")


@router.get("/jobs/runs/{run_id}", response_class=HTMLResponse)
def run_page(
    request: Request, session: DbSession, principal: WebUser, run_id: int, flash: str | None = None
) -> HTMLResponse:
    """One run: parameters, who asked, when, its progress (polled while it runs), result or error."""
    run = service.get_run(session, principal, run_id)
    return render(request, "jobs/run.html", flash=flash, **run_view(run, language_of(request)))


@router.get("/jobs/runs/{run_id}/progress", response_class=HTMLResponse)
def run_progress(request: Request, session: DbSession, principal: WebUser, run_id: int) -> HTMLResponse:
    """The progress fragment HTMX polls until the run has finished."""
    run = service.get_run(session, principal, run_id)
    return render(request, "jobs/_progress.html", **run_view(run, language_of(request)))
