"""JSON routes: tags, rule-set versions and preview, runs, a customer's tags with explanations, the report.

Rule and tag changes are made only through governance (proposals and approval), never here.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from custinfo.auth.deps import ApiPrincipal, DbSession, language_of
from custinfo.auth.policy import Permission, require
from custinfo.classification import service
from custinfo.classification.schemas import (
    AssignmentOut,
    ChangeOut,
    ImpactOut,
    MembersOut,
    PreviewIn,
    ReportCellOut,
    RunIn,
    RunOut,
    RunPage,
    TagOut,
    VersionOut,
    VersionSummaryOut,
)
from custinfo.idempotent import Once
from custinfo.jobs import service as jobs
from custinfo.jobs.schemas import JobRunOut
from custinfo.protection.views import view_for

router = APIRouter(tags=["classification"])


@router.get("/tags", response_model=list[TagOut])
def list_tags(session: DbSession, principal: ApiPrincipal) -> list[TagOut]:
    """The tag taxonomy."""
    require(principal, Permission.CLASSIFICATION_READ)
    return [TagOut.model_validate(t) for t in service.list_tags(session)]


@router.get("/tags/{code}/members", response_model=MembersOut)
def tag_members(
    code: str,
    session: DbSession,
    principal: ApiPrincipal,
    as_of: Annotated[date | None, Query(description="Membership at the end of this day")] = None,
    page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
    size: Annotated[int, Query(ge=1, le=200)] = 50,
) -> MembersOut:
    """Customers in scope carrying the tag, now or on a past date (marketing: the whole base's number, no names)."""
    rows, total = service.tag_members(session, principal, code, as_of, page, size)
    items = [{"id": i, "name": n} for i, n in rows]
    return MembersOut(
        tag=code, as_of=as_of, total=total, items=items, counts_only=service.members_as_counts(principal)
    )


@router.get("/rules", response_model=VersionOut)
def current_rules(session: DbSession, principal: ApiPrincipal) -> VersionOut:
    """The active rule-set version."""
    require(principal, Permission.CLASSIFICATION_READ)
    return VersionOut.model_validate(service.current_rule_set(session))


@router.get("/rules/versions", response_model=list[VersionSummaryOut])
def rule_versions(session: DbSession, principal: ApiPrincipal) -> list[VersionSummaryOut]:
    """Every rule-set version, newest first."""
    require(principal, Permission.CLASSIFICATION_READ)
    return [VersionSummaryOut.model_validate(v) for v in service.rule_set_versions(session)]


@router.get("/rules/versions/{version_id}", response_model=VersionOut)
def rule_version(version_id: int, session: DbSession, principal: ApiPrincipal) -> VersionOut:
    """One rule-set version with its definition."""
    require(principal, Permission.CLASSIFICATION_READ)
    return VersionOut.model_validate(service.get_version(session, version_id))


@router.get("/rules/diff", response_model=list[ChangeOut])
def rule_diff(
    session: DbSession,
    principal: ApiPrincipal,
    a: Annotated[int, Query(description="Older version id")],
    b: Annotated[int, Query(description="Newer version id")],
) -> list[ChangeOut]:
    """What changed from version a to version b."""
    require(principal, Permission.CLASSIFICATION_READ)
    return [ChangeOut.model_validate(c) for c in service.diff_versions(session, a, b)]


@router.post("/rules/preview", response_model=ImpactOut)
def rule_preview(body: PreviewIn, session: DbSession, principal: ApiPrincipal) -> ImpactOut:
    """Impact of a candidate definition: per tag current/new counts, entering/leaving with samples (read-only)."""
    impact = service.preview_for(session, principal, body.definition, body.as_of)
    return ImpactOut(
        as_of=impact.as_of,
        customers=impact.customers,
        tags=impact.tags,
    )


@router.get("/classification/runs", response_model=RunPage)
def list_runs(
    session: DbSession,
    principal: ApiPrincipal,
    mode: Annotated[str | None, Query(pattern="^(full|incremental)$")] = None,
    page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
    size: Annotated[int, Query(ge=1, le=200)] = 50,
) -> RunPage:
    """Runs the caller may see, newest first; a full run's figures only where the caller sees every customer."""
    rows, total = service.list_runs(session, principal, mode, page, size)
    return RunPage(items=[RunOut.model_validate(r) for r in rows], total=total)


@router.get("/classification/runs/{run_id}", response_model=RunOut)
def get_run(run_id: int, session: DbSession, principal: ApiPrincipal) -> RunOut:
    """One run with counts before/after and the customers that moved (only those in the caller's scope)."""
    return RunOut.model_validate(service.get_run(session, principal, run_id))


@router.post("/classification/runs", response_model=JobRunOut, status_code=202)
def start_run(
    request: Request, session: DbSession, principal: ApiPrincipal, once: Once, body: RunIn | None = None
) -> Any:
    """Queue a re-tag of every customer (data steward, admin): a `classify` job; poll /jobs/runs/{id}."""

    def create() -> JobRunOut:
        require(principal, Permission.CLASSIFICATION_RUN)
        params = {"as_of": body.as_of} if body and body.as_of else {}
        run = jobs.enqueue(session, "classify", params, principal.username)
        return JobRunOut.of(run, language_of(request))

    return once.run(body, create, status=202)


@router.get("/customers/{customer_id}/tags", response_model=list[AssignmentOut])
def customer_tags(
    customer_id: int,
    request: Request,
    session: DbSession,
    principal: ApiPrincipal,
    as_of: Annotated[date | None, Query(description="Tags held at the end of this day")] = None,
) -> list[AssignmentOut]:
    """A customer's tags with the reason for each, in the caller's language."""
    clear = view_for(session, principal).is_clear
    views = service.customer_tags(session, principal, customer_id, as_of, language_of(request), clear)
    return [AssignmentOut.model_validate(v) for v in views]


@router.get("/classification/report", response_model=list[ReportCellOut])
def report(session: DbSession, principal: ApiPrincipal) -> list[ReportCellOut]:
    """Customer counts per level-1 × level-2 cell, within the caller's scope."""
    return [ReportCellOut.model_validate(c) for c in service.classification_report(session, principal)]
