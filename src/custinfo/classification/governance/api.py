"""JSON routes of tag governance (proposals and reviews) and tag quality (corrections, report)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query
from sqlalchemy.orm import Session

from custinfo.auth.deps import ApiPrincipal, DbSession
from custinfo.auth.policy import Permission, Principal, require
from custinfo.classification import service as classification
from custinfo.classification.governance import service as governance
from custinfo.classification.governance.models import Proposal
from custinfo.classification.governance.schemas import (
    ClassificationCodeIn,
    ClassificationCodeOut,
    CorrectionIn,
    CorrectionOut,
    DecisionIn,
    DimensionOut,
    GovernanceSettingsOut,
    ProposalIn,
    ProposalOut,
    ProposalPage,
    QualityOut,
    ReminderOut,
    ResolveIn,
    ReviseIn,
)
from custinfo.classification.tag_quality import service as quality
from custinfo.idempotent import Once

router = APIRouter(tags=["governance"])


def proposal_out(session: Session, principal: Principal, proposal: Proposal) -> ProposalOut:
    """Build the API shape of a proposal, its preview's sample customers limited to the caller's scope."""
    impact = governance.impact_for(session, principal, proposal)
    return ProposalOut.model_validate(proposal).model_copy(update={"impact": impact})


@router.get("/proposals", response_model=ProposalPage)
def list_proposals(
    session: DbSession,
    principal: ApiPrincipal,
    status: Annotated[
        str | None, Query(description="pending, changes_requested, approved, rejected or open")
    ] = None,
    kind: Annotated[str | None, Query(description="new_tag, rule_change, manual_tag, reactivate")] = None,
    awaiting_me: Annotated[
        bool, Query(description="Only pending proposals the caller may decide (not their own)")
    ] = False,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    size: Annotated[int, Query(ge=1, le=200)] = 50,
) -> ProposalPage:
    """Proposals, newest first."""
    rows, total = governance.list_proposals(session, principal, status, kind, page, size, awaiting_me)
    return ProposalPage(
        items=[proposal_out(session, principal, p) for p in rows], page=page, size=size, total=total
    )


@router.post("/proposals", response_model=ProposalOut, status_code=201)
def create_proposal(body: ProposalIn, session: DbSession, principal: ApiPrincipal, once: Once) -> Any:
    """Propose a new tag, a rule-set change (preview stored), a manual tag, or a re-activation (once per key)."""

    def create() -> ProposalOut:
        proposal = governance.propose(session, principal, body.kind, body.payload, body.reason, body.title)
        return proposal_out(session, principal, proposal)

    return once.run(body, create)


@router.get("/proposals/{proposal_id}", response_model=ProposalOut)
def get_proposal(proposal_id: int, session: DbSession, principal: ApiPrincipal) -> ProposalOut:
    """One proposal with its preview and every step."""
    return proposal_out(session, principal, governance.get_proposal(session, principal, proposal_id))


@router.post("/proposals/{proposal_id}/approve", response_model=ProposalOut)
def approve(proposal_id: int, body: DecisionIn, session: DbSession, principal: ApiPrincipal) -> ProposalOut:
    """Approve and apply (reviewer; never the proposer)."""
    return proposal_out(session, principal, governance.approve(session, principal, proposal_id, body.comment))


@router.post("/proposals/{proposal_id}/reject", response_model=ProposalOut)
def reject(proposal_id: int, body: DecisionIn, session: DbSession, principal: ApiPrincipal) -> ProposalOut:
    """Reject with a comment (final)."""
    return proposal_out(
        session, principal, governance.reject(session, principal, proposal_id, body.comment or "")
    )


@router.post("/proposals/{proposal_id}/request-changes", response_model=ProposalOut)
def request_changes(
    proposal_id: int, body: DecisionIn, session: DbSession, principal: ApiPrincipal
) -> ProposalOut:
    """Send back to the proposer with what to change."""
    return proposal_out(
        session, principal, governance.request_changes(session, principal, proposal_id, body.comment or "")
    )


@router.post("/proposals/{proposal_id}/resubmit", response_model=ProposalOut)
def resubmit(proposal_id: int, body: ReviseIn, session: DbSession, principal: ApiPrincipal) -> ProposalOut:
    """The proposer revises and resubmits (the preview is computed again)."""
    proposal = governance.revise(session, principal, proposal_id, body.payload, body.reason, body.comment)
    return proposal_out(session, principal, proposal)


@router.post("/proposals/{proposal_id}/comments", response_model=ProposalOut)
def comment(proposal_id: int, body: DecisionIn, session: DbSession, principal: ApiPrincipal) -> ProposalOut:
    """Add a comment (proposer or reviewer)."""
    return proposal_out(
        session, principal, governance.add_comment(session, principal, proposal_id, body.comment or "")
    )


@router.post(
    "/customers/{customer_id}/tags/{tag_code}/corrections", response_model=CorrectionOut, status_code=201
)
def report_correction(
    customer_id: int,
    tag_code: str,
    body: CorrectionIn,
    session: DbSession,
    principal: ApiPrincipal,
    once: Once,
) -> Any:
    """Mark a tag on a customer as wrong, with a reason (once per Idempotency-Key)."""

    def create() -> CorrectionOut:
        correction = quality.report_correction(session, principal, customer_id, tag_code, body.reason)
        return CorrectionOut.model_validate(correction)

    return once.run(body, create)


@router.get("/corrections", response_model=list[CorrectionOut])
def list_corrections(
    session: DbSession,
    principal: ApiPrincipal,
    status: Annotated[str | None, Query(description="open, accepted or rejected")] = None,
    customer_id: int | None = None,
) -> list[CorrectionOut]:
    """Reported wrong tags, newest first (reporters see their own)."""
    rows = quality.list_corrections(session, principal, status, customer_id)
    return [CorrectionOut.model_validate(c) for c in rows]


@router.post("/corrections/{correction_id}/resolve", response_model=CorrectionOut)
def resolve_correction(
    correction_id: int, body: ResolveIn, session: DbSession, principal: ApiPrincipal
) -> CorrectionOut:
    """Accept (manual removal proposal or rule-fix note) or reject a correction (steward)."""
    correction = quality.resolve_correction(
        session, principal, correction_id, body.decision, body.note, body.outcome
    )
    return CorrectionOut.model_validate(correction)


@router.get("/settings/governance", response_model=GovernanceSettingsOut)
@router.get("/governance/settings", response_model=GovernanceSettingsOut)
def governance_settings(session: DbSession, principal: ApiPrincipal) -> GovernanceSettingsOut:
    """The governance settings in force: reviewer roles, review cadence, anomaly thresholds."""
    return GovernanceSettingsOut.model_validate(governance.settings_for(session, principal))


@router.patch("/settings/governance", response_model=GovernanceSettingsOut)
@router.patch("/governance/settings", response_model=GovernanceSettingsOut)
def change_governance_settings(
    body: dict[str, Any], session: DbSession, principal: ApiPrincipal
) -> GovernanceSettingsOut:
    """Change some settings (admin); every value is checked first and a refusal names each field."""
    return GovernanceSettingsOut.model_validate(governance.update_settings(session, principal, body))


@router.get("/settings/classification-code", response_model=ClassificationCodeOut)
def classification_code(session: DbSession, principal: ApiPrincipal) -> ClassificationCodeOut:
    """Which dimensions form the classification code (level 1, level 2, in order) in the active rule set."""
    require(principal, Permission.CLASSIFICATION_READ)
    current = classification.current_rule_set(session)
    code = current.definition.get("classification_code") or {}
    names = {d.code: d for d in classification.dimensions(session)}

    def level(key: str) -> list[DimensionOut]:
        return [
            DimensionOut(
                code=c,
                name_zh=names[c].name_zh if c in names else c,
                name_en=names[c].name_en if c in names else c,
            )
            for c in code.get(key, [])
        ]

    return ClassificationCodeOut(
        level1=level("level1"),
        level2=level("level2"),
        separator=str(code.get("separator", "-")),
        rule_set_version=current.number,
        dimensions=[DimensionOut(code=d.code, name_zh=d.name_zh, name_en=d.name_en) for d in names.values()],
    )


@router.put("/settings/classification-code", response_model=ProposalOut, status_code=202)
def change_classification_code(
    body: ClassificationCodeIn, session: DbSession, principal: ApiPrincipal
) -> ProposalOut:
    """Propose new code dimensions (data steward): a rule-set change that applies once a reviewer approves."""
    proposal = governance.propose_classification_code(
        session, principal, body.level1, body.level2, body.separator, body.reason
    )
    return proposal_out(session, principal, proposal)


@router.get("/tags/quality", response_model=QualityOut)
def tag_quality(
    session: DbSession, principal: ApiPrincipal, as_of: Annotated[date | None, Query()] = None
) -> QualityOut:
    """Per-tag size, coverage, churn, usage, error rate; anomalies; the review reminder."""
    report = quality.quality_report(session, principal, as_of)
    return QualityOut(
        as_of=report.as_of,
        window_start=report.window_start,
        tags=report.tags,
        anomalies=[{"tag": t.code, "kind": kind} for t, kind in report.anomalies],
        reminder=ReminderOut.model_validate(report.reminder),
    )
