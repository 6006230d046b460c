"""JSON routes of backups (admins): the archives and their verification, a backup or a verification now, the policy."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from custinfo.auth.deps import ApiPrincipal, DbSession, language_of, settings_of
from custinfo.auth.policy import Permission, require
from custinfo.backup import policy, runs, service
from custinfo.backup.schemas import BackupOut, BackupRunIn, PolicyIn, PolicyOut
from custinfo.core.i18n import translate
from custinfo.idempotent import Once
from custinfo.jobs.schemas import JobRunOut

router = APIRouter(prefix="/backups", tags=["backups"])


def backup_out(view: service.BackupView, language: str) -> BackupOut:
    """The API view of an archive, its failure in words."""
    failure = translate(view.failure, language, **(view.failure_params or {})) if view.failure else None
    return BackupOut(
        file_name=view.file_name,
        kind=view.kind,
        made_at=view.made_at,
        size_bytes=view.size_bytes,
        dialect=view.dialect,
        schema_revision=view.schema_revision,
        made_by=view.made_by,
        status=view.status,
        verified_at=view.verified_at,
        failure=failure,
    )


def policy_out(current: policy.BackupPolicy) -> PolicyOut:
    """The API view of the policy."""
    return PolicyOut(
        keep_daily=current.keep_daily,
        keep_weekly=current.keep_weekly,
        keep_monthly=current.keep_monthly,
        run_at=current.run_at,
        version=current.number,
        changed_by=current.created_by,
        changed_at=current.created_at,
        reason=current.reason,
    )


@router.get("", response_model=list[BackupOut])
def list_backups(request: Request, session: DbSession, principal: ApiPrincipal) -> list[BackupOut]:
    """The archives in the backup directory, newest first, each with its last verification."""
    language = language_of(request)
    return [backup_out(v, language) for v in service.list_backups(session, principal, settings_of(request))]


@router.post("", response_model=JobRunOut, status_code=202)
def start_backup(
    request: Request, session: DbSession, principal: ApiPrincipal, once: Once, body: BackupRunIn | None = None
) -> Any:
    """Queue a backup now (once per Idempotency-Key): made, verified by a test restore, then rotated.

    Follow it with GET /jobs/runs/{id}.
    """

    def create() -> JobRunOut:
        run = runs.start_backup(
            session, principal, body.kind if body else None, body.verify if body else None
        )
        return JobRunOut.of(run, language_of(request))

    return once.run(body, create, status=202)


@router.get("/policy", response_model=PolicyOut)
def get_policy(session: DbSession, principal: ApiPrincipal) -> PolicyOut:
    """How many archives of each kind are kept and when the daily backup runs."""
    require(principal, Permission.BACKUP_MANAGE)
    return policy_out(policy.current_policy(session))


@router.put("/policy", response_model=PolicyOut)
def change_policy(body: PolicyIn, session: DbSession, principal: ApiPrincipal) -> PolicyOut:
    """Store a new version of the policy (422 naming each bad field; nothing saved then)."""
    return policy_out(policy.change_policy(session, principal, **body.model_dump()))


@router.post("/{file_name}/verify", response_model=JobRunOut, status_code=202)
def verify_backup(
    file_name: str, request: Request, session: DbSession, principal: ApiPrincipal, once: Once
) -> Any:
    """Queue a test restore of one archive (404 for a file not in the list); follow it with GET /jobs/runs/{id}."""

    def create() -> JobRunOut:
        run = runs.start_verify(session, principal, settings_of(request), file_name)
        return JobRunOut.of(run, language_of(request))

    return once.run({"file_name": file_name}, create, status=202)
