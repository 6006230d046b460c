"""The backups page (admins): `/backups`.

The archives in the backup directory with their verification state, "back up now" and "verify" (both
queued as jobs, their progress shown on the page), the rotation policy's form, where the archives are,
and how to restore one (only from the command line, on purpose: a restore replaces the whole database).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from custinfo.auth import service as accounts
from custinfo.auth.deps import DbSession, language_of, settings_of
from custinfo.auth.policy import Permission, Principal, require
from custinfo.auth.web import FormFields, WebUser, web_user
from custinfo.backup import health, policy, runs, service
from custinfo.backup.words import size_text
from custinfo.core import clock
from custinfo.core.errors import Invalid
from custinfo.core.i18n import translate
from custinfo.jobs import service as jobs
from custinfo.jobs.models import JobRun
from custinfo.web.forms import FormState, form_state, pick
from custinfo.web.templating import render, see_other

router = APIRouter(include_in_schema=False, dependencies=[Depends(web_user)])

PAGE = "/backups"
POLICY_FIELDS = ["keep_daily", "keep_weekly", "keep_monthly", "run_at", "reason"]
ACTIVE = ("queued", "running")


def _people(session: Session, names: set[str | None]) -> dict[str, str]:
    """How each person is shown: by display name (usernames of the system's actors are left as they are)."""
    return accounts.display_names(session, {n for n in names if n})


def _run_view(run: JobRun, language: str) -> dict[str, Any]:
    return {"run": run, "error": jobs.error_message(run, language), "active": run.status in ACTIVE}


def _runs_shown(
    session: Session, principal: Principal, run_id: int | None, language: str
) -> list[dict[str, Any]]:
    """The run just asked for (if any) and every backup or verification still waiting or running."""
    shown: dict[int, JobRun] = {}
    if run_id is not None:
        run = jobs.get_run(session, principal, run_id)
        if run.name in runs.JOBS:
            shown[run.id] = run
    for name in runs.JOBS:
        for run in jobs.list_runs(session, principal, name, 1, 5)[0]:
            if run.status in ACTIVE:
                shown.setdefault(run.id, run)
    return [_run_view(r, language) for r in sorted(shown.values(), key=lambda r: r.id, reverse=True)]


def _page(
    request: Request,
    session: Session,
    principal: Principal,
    *,
    policy_state: FormState | None = None,
    run_state: FormState | None = None,
    run_id: int | None = None,
    flash: str | None = None,
    status_code: int = 200,
) -> Response:
    language = language_of(request)
    settings = settings_of(request)
    backups = service.list_backups(session, principal, settings)
    directory = settings.effective_backup_dir.absolute()
    # The restore box names the newest archive a test restore passed, else the newest readable one.
    restorable = [b for b in backups if b.status == "passed"] or [b for b in backups if b.dialect]
    current = policy.current_policy(session)
    people = _people(session, {b.made_by for b in backups} | {current.created_by})
    rows = [
        {
            "view": b,
            "size": size_text(b.size_bytes),
            "made_by": people.get(b.made_by or "", b.made_by),
            "failure": translate(b.failure, language, **(b.failure_params or {})) if b.failure else None,
        }
        for b in backups
    ]
    values = {
        "keep_daily": str(current.keep_daily),
        "keep_weekly": str(current.keep_weekly),
        "keep_monthly": str(current.keep_monthly),
        "run_at": current.run_at,
        "reason": "",
    }
    return render(
        request,
        "backup/backups.html",
        status_code=status_code,
        rows=rows,
        policy=current,
        policy_by=people.get(current.created_by or "", current.created_by),
        policy_state=policy_state or FormState(values=values),
        run_state=run_state or FormState(),
        runs=_runs_shown(session, principal, run_id, language),
        warning=health.backup_warning(session, settings, clock.now()),
        backup_dir=str(directory),
        # The CLI takes the archive's path: the command as an operator can paste it on the server.
        restore_file=str(directory / restorable[0].file_name) if restorable else None,
        max_keep=policy.MAX_KEEP,
        flash=flash,
    )


@router.get(PAGE, response_class=HTMLResponse)
def backups_page(
    request: Request, session: DbSession, principal: WebUser, run: int | None = None, flash: str | None = None
) -> Response:
    """The archives and their verification, back up now, the policy, where they are and how to restore."""
    require(principal, Permission.BACKUP_MANAGE)
    return _page(request, session, principal, run_id=run, flash=flash)


@router.post(PAGE, response_class=HTMLResponse)
def back_up_now(request: Request, session: DbSession, principal: WebUser, form: FormFields) -> Response:
    """Queue a backup now (立即备份) of the chosen kind; the page then shows its progress."""
    values = pick(form, ["kind"])
    try:
        with session.begin_nested():
            run = runs.start_backup(session, principal, values["kind"].strip() or None)
    except Invalid as error:
        state = form_state(error, values, language_of(request))
        return _page(request, session, principal, run_state=state, status_code=error.status)
    return see_other(f"{PAGE}?run={run.id}&flash=backup_queued")


@router.post(PAGE + "/policy", response_class=HTMLResponse)
def save_policy(request: Request, session: DbSession, principal: WebUser, form: FormFields) -> Response:
    """Save a new version of the rotation policy; a refused one re-shows the form with each message under its input."""
    values = pick(form, POLICY_FIELDS)
    try:
        with session.begin_nested():
            policy.change_policy(session, principal, **values)
    except Invalid as error:
        state = form_state(error, values, language_of(request))
        return _page(request, session, principal, policy_state=state, status_code=error.status)
    return see_other(f"{PAGE}?flash=backup_policy_saved")


@router.get(PAGE + "/runs/{run_id}", response_class=HTMLResponse)
def run_fragment(request: Request, session: DbSession, principal: WebUser, run_id: int) -> Response:
    """The progress of one backup run, polled by HTMX; once it has ended the page reloads to list the result."""
    require(principal, Permission.BACKUP_MANAGE)
    run = jobs.get_run(session, principal, run_id)
    response = render(request, "backup/_run.html", **_run_view(run, language_of(request)))
    if run.status not in ACTIVE:
        response.headers["HX-Redirect"] = f"{PAGE}?run={run.id}"
    return response


@router.post(PAGE + "/{file_name}/verify", response_class=HTMLResponse)
def verify_now(request: Request, session: DbSession, principal: WebUser, file_name: str) -> Response:
    """Queue a test restore of one archive (验证); the page then shows its progress."""
    run = runs.start_verify(session, principal, settings_of(request), file_name)
    return see_other(f"{PAGE}?run={run.id}&flash=backup_verify_queued")
