"""Tag governance: a data steward proposes, a reviewer decides, only approval takes effect.

Contract. A proposal is one of: a new tag, a rule-set change (a full new
definition; the impact preview is computed and stored when it is proposed or
revised), a manual tag on a customer (VIP / strategic partner, add or remove),
or the re-activation of an earlier rule-set version. Its life:

    pending ──approve──▶ approved      (the change is applied in the same transaction)
       │  ──reject───▶ rejected        (final)
       └──request changes──▶ changes_requested ──revise (proposer)──▶ pending

Every step (proposed, revised, commented, approved, rejected, changes_requested)
is kept with who, role, when and comment. Reviewers are dept_head plus any role
listed in the `reviewer_roles` governance setting (configuration as data). Nobody
decides their own proposal. A rule change is approved only against the rule-set
version it was previewed on; if another version was published meanwhile the
proposer must revise (which re-computes the preview).
"""

from __future__ import annotations

import copy
import re
from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from custinfo import defaults
from custinfo.auth.events import PermissionChanged
from custinfo.auth.policies import proposals as proposal_policy
from custinfo.auth.policy import Permission, Principal, require
from custinfo.classification import service as classification
from custinfo.classification.governance import repository
from custinfo.classification.governance.events import ProposalDecided
from custinfo.classification.governance.models import (
    PROPOSAL_KINDS,
    PROPOSAL_STATUSES,
    GovernanceSetting,
    Proposal,
    ProposalStep,
)
from custinfo.core import clock
from custinfo.core.db import utcnow
from custinfo.core.errors import Conflict, FieldError, Invalid, NotFound, NotPermitted
from custinfo.core.jsonable import jsonable
from custinfo.core.pagination import PageParams
from custinfo.core.uow import record
from custinfo.customers import service as customers
from custinfo.jobs import service as jobs

OPEN_STATUSES = ("pending", "changes_requested")
# Who may be made a reviewer: business roles (admins administer, auditors only watch, sales propose nothing).
REVIEWER_ROLE_CHOICES = ("dept_head", "data_steward", "marketing", "service")
# Numeric settings: (lowest, highest, whole number).
SETTING_RANGES: dict[str, tuple[float, float, bool]] = {
    "quality_review_cadence_days": (7, 730, True),
    "quality_review_due_soon_days": (1, 90, True),
    "churn_window_days": (7, 730, True),
    "anomaly_swallow_share": (0.01, 1, False),
    "anomaly_flip_share": (0.01, 1, False),
}
TAG_CODE = re.compile(r"^[a-z][a-z0-9_]{1,59}$")
MAX_TEXT = 2000


# --- settings (configuration as data) ---------------------------------------------------------------


def default_settings() -> dict[str, Any]:
    """The shipped governance settings (src/custinfo/defaults/governance.json)."""
    return defaults.load("governance.json")


def setting(session: Session, key: str) -> Any:
    """One governance setting: the stored value, else the shipped default."""
    row = repository.setting_row(session, key)
    return row.value if row is not None else default_settings()[key]


def settings(session: Session) -> dict[str, Any]:
    """Every governance setting with its current value (stored, else shipped)."""
    return {key: setting(session, key) for key in default_settings()}


def settings_for(session: Session, principal: Principal) -> dict[str, Any]:
    """The governance settings, for those who may see proposals (admins change them)."""
    if not can_read(session, principal):
        raise NotPermitted("error.permission", permission=Permission.PROPOSAL_READ)
    return settings(session)


def _setting_value(key: str, raw: Any) -> tuple[Any, FieldError | None]:
    """The checked value of one setting, or the error naming it and the rule it breaks."""
    if key == "reviewer_roles":
        roles = raw.split(",") if isinstance(raw, str) else raw
        if not isinstance(roles, list) or not all(isinstance(r, str) for r in roles):
            return None, FieldError(key, "vocabulary.unknown", {"allowed": ", ".join(REVIEWER_ROLE_CHOICES)})
        cleaned = sorted({r.strip() for r in roles if r.strip()})
        unknown = [r for r in cleaned if r not in REVIEWER_ROLE_CHOICES]
        if unknown:
            return None, FieldError(key, "vocabulary.unknown", {"allowed": ", ".join(REVIEWER_ROLE_CHOICES)})
        return cleaned, None
    low, high, whole = SETTING_RANGES[key]
    try:
        number = float(str(raw).strip()) if raw is not None and not isinstance(raw, bool) else None
    except ValueError:
        number = None
    if number is None or (whole and not number.is_integer()):
        return None, FieldError(key, "number.integer" if whole else "number.format")
    if not low <= number <= high:
        return None, FieldError(key, "integer.range", {"min": low, "max": high})
    return (int(number) if whole else number), None


def update_settings(session: Session, principal: Principal, values: dict[str, Any]) -> dict[str, Any]:
    """Change governance settings (data steward, admin): every value checked first, then all written, or none.

    Who reviews is an administrator's choice: a steward proposes, so a steward does not pick the approvers.
    """
    require(principal, Permission.SETTINGS_MANAGE)
    known = default_settings()
    errors = [
        FieldError(key, "vocabulary.unknown", {"allowed": ", ".join(known)})
        for key in values
        if key not in known
    ]
    cleaned: dict[str, Any] = {}
    for key, raw in values.items():
        if key in known:
            value, error = _setting_value(key, raw)
            if error is not None:
                errors.append(error)
            else:
                cleaned[key] = value
    if errors:
        raise Invalid(errors)
    roles = cleaned.get("reviewer_roles")
    if roles is not None and sorted({"dept_head", *roles}) == reviewer_roles(session):
        cleaned.pop("reviewer_roles")  # the same reviewers (dept_head always reviews): nothing to change
    elif roles is not None:
        require(principal, Permission.USER_MANAGE)
    for key, value in cleaned.items():
        before = setting(session, key)
        if before == value:
            continue
        row = repository.setting_row(session, key)
        if row is None:
            session.add(GovernanceSetting(key=key, value=value, updated_by=principal.username))
        else:
            row.value = value
            row.updated_by = principal.username
        record(session, PermissionChanged(what=f"governance_setting:{key}", before=before, after=value))
    session.flush()
    return settings(session)


def reviewer_roles(session: Session) -> list[str]:
    """Roles that may review proposals: dept_head and the configured business roles."""
    configured = [str(r) for r in setting(session, "reviewer_roles") or []]
    return sorted({"dept_head", *configured})


def can_review(session: Session, principal: Principal) -> bool:
    """Whether the principal's role may approve, reject or send back proposals."""
    return proposal_policy.may_review(principal, reviewer_roles(session))


def can_read(session: Session, principal: Principal) -> bool:
    """Whether the principal may see the proposals and their history (proposers included)."""
    return proposal_policy.may_read(principal, reviewer_roles(session))


def may_decide(session: Session, principal: Principal, proposal: Proposal) -> bool:
    """Whether the principal may decide this proposal now (the same rule as the review queue)."""
    return proposal_policy.may_decide(principal, reviewer_roles(session), proposal)


# --- engine bridge ----------------------------------------------------------------------------------


def _current_version(session: Session) -> int:
    return classification.current_rule_set(session).number


# --- validation per kind ----------------------------------------------------------------------------


def _text(value: Any, field: str, required: bool = True, limit: int = MAX_TEXT) -> str:
    text = "" if value is None else str(value).strip()
    if required and not text:
        raise Invalid([FieldError(field, "field.required")])
    if len(text) > limit:
        raise Invalid([FieldError(field, "text.too_long", {"max": limit})])
    return text


def _clean_new_tag(payload: dict[str, Any]) -> dict[str, Any]:
    errors: list[FieldError] = []
    code = str(payload.get("code") or "").strip()
    if not code:
        errors.append(FieldError("payload.code", "field.required"))
    elif not TAG_CODE.match(code):
        errors.append(FieldError("payload.code", "tag.code_format"))
    cleaned: dict[str, Any] = {"code": code}
    for name in ("category", "name_zh", "name_en"):
        value = str(payload.get(name) or "").strip()
        if not value:
            errors.append(FieldError(f"payload.{name}", "field.required"))
        elif len(value) > 100:
            errors.append(FieldError(f"payload.{name}", "text.too_long", {"max": 100}))
        cleaned[name] = value
    dimension = str(payload.get("dimension") or "").strip()
    if dimension and not re.match(r"^[a-z][a-z0-9_]{1,39}$", dimension):
        errors.append(FieldError("payload.dimension", "tag.code_format"))
    cleaned["dimension"] = dimension or None
    source = str(payload.get("source") or "rule").strip()
    if source not in ("rule", "manual"):
        errors.append(FieldError("payload.source", "vocabulary.unknown", {"allowed": "rule, manual"}))
    cleaned["source"] = source
    description = str(payload.get("description") or "").strip()
    if description:
        cleaned["description"] = description[:MAX_TEXT]
    if errors:
        raise Invalid(errors)
    return cleaned


def _clean_manual_tag(session: Session, principal: Principal, payload: dict[str, Any]) -> dict[str, Any]:
    errors: list[FieldError] = []
    raw_id = payload.get("customer_id")
    customer_id = raw_id if isinstance(raw_id, int) and not isinstance(raw_id, bool) else None
    if customer_id is None and isinstance(raw_id, str) and raw_id.strip().isdigit():
        customer_id = int(raw_id.strip())
    if customer_id is None:
        errors.append(FieldError("payload.customer_id", "field.required"))
    tag_code = str(payload.get("tag_code") or "").strip()
    manual = manual_tag_codes(session)
    if not tag_code:
        errors.append(FieldError("payload.tag_code", "field.required"))
    elif tag_code not in manual:
        errors.append(FieldError("payload.tag_code", "vocabulary.unknown", {"allowed": ", ".join(manual)}))
    add = payload.get("add", True)
    if isinstance(add, str):
        add = add.strip().lower() in ("1", "true", "yes", "on", "add")
    if errors:
        raise Invalid(errors)
    assert customer_id is not None
    customers.ensure_visible(session, principal, customer_id)  # out of the proposer's scope → 404
    return {"customer_id": customer_id, "tag_code": tag_code, "add": bool(add)}


def manual_tag_codes(session: Session) -> list[str]:
    """Codes of the tags set by a reviewed decision rather than a rule (VIP, strategic partner)."""
    return repository.manual_tag_codes(session)


def _clean_reactivate(session: Session, payload: dict[str, Any]) -> dict[str, Any]:
    raw = payload.get("version")
    version = raw if isinstance(raw, int) and not isinstance(raw, bool) else None
    if version is None and isinstance(raw, str) and raw.strip().isdigit():
        version = int(raw.strip())
    if version is None:
        raise Invalid([FieldError("payload.version", "field.required")])
    if repository.version_numbered(session, version) is None:
        raise Invalid([FieldError("payload.version", "rule_set.unknown_version", {"version": version})])
    if version == _current_version(session):
        raise Invalid([FieldError("payload.version", "rule_set.already_active", {"version": version})])
    return {"version": version}


def _clean_rule_change(session: Session, payload: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    definition = payload.get("definition")
    if not isinstance(definition, dict) or not definition:
        raise Invalid([FieldError("payload.definition", "field.required")])
    as_of_raw = payload.get("as_of")
    as_of = clock.today()
    if as_of_raw:
        try:
            as_of = date.fromisoformat(str(as_of_raw))
        except ValueError as error:
            raise Invalid([FieldError("payload.as_of", "date.format")]) from error
    impact = classification.preview_rule_set(session, definition, as_of)
    cleaned = {
        "definition": definition,
        "as_of": as_of.isoformat(),
        "base_version": _current_version(session),
    }
    return cleaned, jsonable(impact)


def propose_classification_code(
    session: Session, principal: Principal, level1: Any, level2: Any, separator: Any, reason: str
) -> Proposal:
    """Propose the active rule set with other classification-code dimensions (a rule change, approved as one)."""
    require(principal, Permission.PROPOSAL_CREATE)
    errors: list[FieldError] = []
    known = {d.code for d in classification.dimensions(session)}
    levels: dict[str, list[str]] = {}
    for key, raw in (("level1", level1), ("level2", level2)):
        names = [str(x) for x in raw] if isinstance(raw, list) else []
        for n, name in enumerate(names):
            if name not in known:
                errors.append(FieldError(f"{key}[{n}]", "classification.unknown_dimension", {"value": name}))
        levels[key] = names
    both = levels["level1"] + levels["level2"]
    if len(both) != len(set(both)):
        errors.append(FieldError("level2", "classification.dimension_twice"))
    if not levels["level1"]:
        errors.append(FieldError("level1", "field.required"))
    if not isinstance(separator, str) or not 1 <= len(separator.strip()) <= 3:
        errors.append(FieldError("separator", "classification.text_length", {"min": 1, "max": 3}))
    if errors:
        raise Invalid(errors)
    definition = copy.deepcopy(classification.current_rule_set(session).definition)
    code = {"level1": levels["level1"], "level2": levels["level2"], "separator": str(separator).strip()}
    if (definition.get("classification_code") or {}) == code:
        raise Invalid([FieldError("level1", "rule_set.unchanged")])
    definition["classification_code"] = code
    return propose(session, principal, "rule_change", {"definition": definition}, reason)


def _clean(
    session: Session, principal: Principal, kind: str, payload: Any
) -> tuple[dict[str, Any], dict[str, Any] | None, int | None]:
    """(payload, impact, customer_id) of a valid proposal; Invalid names every bad field."""
    if kind not in PROPOSAL_KINDS:
        raise Invalid([FieldError("kind", "vocabulary.unknown", {"allowed": ", ".join(PROPOSAL_KINDS)})])
    if not isinstance(payload, dict):
        raise Invalid([FieldError("payload", "field.required")])
    if kind == "new_tag":
        cleaned = _clean_new_tag(payload)
        engine = classification
        categories = [c.code for c in engine.categories(session)]
        if cleaned["category"] not in categories:
            allowed = ", ".join(categories)
            raise Invalid([FieldError("payload.category", "vocabulary.unknown", {"allowed": allowed})])
        if repository.tag_code_taken(session, cleaned["code"]):
            raise Invalid([FieldError("payload.code", "tag.code_taken", {"code": cleaned["code"]})])
        return cleaned, None, None
    if kind == "manual_tag":
        cleaned = _clean_manual_tag(session, principal, payload)
        return cleaned, None, cleaned["customer_id"]
    if kind == "reactivate":
        return _clean_reactivate(session, payload), None, None
    cleaned, impact = _clean_rule_change(session, payload)
    return cleaned, impact, None


# --- reading ----------------------------------------------------------------------------------------


def list_proposals(
    session: Session,
    principal: Principal,
    status: str | None = None,
    kind: str | None = None,
    page: int = 1,
    size: int = 50,
    awaiting_me: bool = False,
) -> tuple[list[Proposal], int]:
    """Proposals newest first, optionally by status (`open` = pending or sent back), kind, and only those
    waiting for the caller's review."""
    if not can_read(session, principal):
        raise NotPermitted("error.permission", permission="proposal.read")
    statuses: tuple[str, ...] = ()
    if status == "open":
        statuses = OPEN_STATUSES
    elif status:
        if status not in PROPOSAL_STATUSES:
            raise Invalid(
                [FieldError("status", "vocabulary.unknown", {"allowed": ", ".join(PROPOSAL_STATUSES)})]
            )
        statuses = (status,)
    if kind and kind not in PROPOSAL_KINDS:
        raise Invalid([FieldError("kind", "vocabulary.unknown", {"allowed": ", ".join(PROPOSAL_KINDS)})])
    extra = [proposal_policy.visible_proposals(principal)]
    if awaiting_me:
        extra.append(proposal_policy.reviewable_proposals(principal, reviewer_roles(session)))
    return repository.proposals(session, statuses, kind, PageParams(page, size), extra=extra)


def get_proposal(session: Session, principal: Principal, proposal_id: int) -> Proposal:
    """One proposal with all its steps (404 when it is about a customer out of the caller's scope)."""
    if not can_read(session, principal):
        raise NotPermitted("error.permission", permission="proposal.read")
    proposal = repository.get_proposal_where(
        session, proposal_id, proposal_policy.visible_proposals(principal)
    )
    if proposal is None:
        raise NotFound("error.proposal_not_found", id=proposal_id)
    return proposal


SAMPLES = ("entering_sample", "leaving_sample")


def impact_for(session: Session, principal: Principal, proposal: Proposal) -> dict[str, Any] | None:
    """The stored impact preview as the caller may see it: sample customers only those in their scope.

    The per-tag counts are company-wide aggregates naming no customer; a reviewer judges a
    company-wide rule by them (docs/protection.md).
    """
    impact = proposal.impact
    if not impact:
        return impact
    rows = impact.get("tags") or []
    named = {c.get("id") for row in rows for key in SAMPLES for c in row.get(key) or ()}
    visible = repository.customers_in_scope(session, principal, {i for i in named if isinstance(i, int)})
    return {
        **impact,
        "tags": [
            {**row, **{key: [c for c in row.get(key) or () if c.get("id") in visible] for key in SAMPLES}}
            for row in rows
        ],
    }


def proposals_for_customer(session: Session, customer_id: int) -> list[Proposal]:
    """Manual-tag proposals about a customer, newest first (caller checks scope)."""
    return repository.proposals_for_customer(session, customer_id, limit=20)


# --- the workflow -----------------------------------------------------------------------------------


def _step(
    session: Session,
    proposal: Proposal,
    principal: Principal,
    action: str,
    comment: str | None = None,
    snapshot: dict[str, Any] | None = None,
) -> None:
    session.add(
        ProposalStep(
            proposal_id=proposal.id,
            action=action,
            actor=principal.username,
            actor_role=principal.role,
            comment=comment or None,
            revision=proposal.revision,
            snapshot=snapshot,
            occurred_at=utcnow(),
        )
    )
    session.flush()
    session.expire(proposal, ["steps"])


def propose(
    session: Session,
    principal: Principal,
    kind: str,
    payload: Any,
    reason: str,
    title: str | None = None,
) -> Proposal:
    """Create a proposal (data steward); a rule change gets its impact preview stored now."""
    require(principal, Permission.PROPOSAL_CREATE)
    reason = _text(reason, "reason")
    title = _text(title, "title", required=False, limit=200)
    cleaned, impact, customer_id = _clean(session, principal, kind, payload)
    proposal = Proposal(
        kind=kind,
        status="pending",
        title=title,
        reason=reason,
        payload=cleaned,
        impact=impact,
        customer_id=customer_id,
        revision=1,
        proposed_by=principal.username,
        proposed_by_id=principal.user_id,
    )
    session.add(proposal)
    session.flush()
    _step(session, proposal, principal, "proposed", reason, {"payload": cleaned})
    return proposal


def revise(
    session: Session,
    principal: Principal,
    proposal_id: int,
    payload: Any | None,
    reason: str | None = None,
    comment: str | None = None,
) -> Proposal:
    """The proposer changes a proposal that was sent back and resubmits it (re-computing the preview)."""
    require(principal, Permission.PROPOSAL_CREATE)
    proposal = get_proposal(session, principal, proposal_id)
    if proposal.proposed_by != principal.username:
        raise NotPermitted("proposal.not_proposer")
    if proposal.status not in OPEN_STATUSES:
        raise Conflict("proposal.closed", status=proposal.status)
    cleaned, impact, customer_id = _clean(
        session, principal, proposal.kind, proposal.payload if payload is None else payload
    )
    if reason is not None and reason.strip():
        proposal.reason = _text(reason, "reason")
    comment = _text(comment, "comment", required=False)
    proposal.payload = cleaned
    proposal.impact = impact
    proposal.customer_id = customer_id
    proposal.revision += 1
    proposal.status = "pending"
    session.flush()
    _step(session, proposal, principal, "revised", comment or None, {"payload": cleaned})
    return proposal


def add_comment(session: Session, principal: Principal, proposal_id: int, comment: str) -> Proposal:
    """A comment on a proposal by its proposer or a reviewer, kept as a step."""
    proposal = get_proposal(session, principal, proposal_id)
    if proposal.proposed_by != principal.username and not can_review(session, principal):
        raise NotPermitted("error.permission", permission="proposal.review")
    _step(session, proposal, principal, "commented", _text(comment, "comment"))
    return proposal


def _decidable(session: Session, principal: Principal, proposal_id: int) -> Proposal:
    if not can_review(session, principal):
        raise NotPermitted("error.permission", permission="proposal.review")
    proposal = get_proposal(session, principal, proposal_id)
    if not may_decide(session, principal, proposal):  # say which half of the rule failed
        if proposal.proposed_by == principal.username or proposal.proposed_by_id == principal.user_id:
            raise NotPermitted("proposal.self_review")
        raise Conflict("proposal.not_pending", status=proposal.status)
    if proposal.customer_id is not None:
        customers.ensure_visible(session, principal, proposal.customer_id)  # a reviewer decides only in scope
    return proposal


def _decide(
    session: Session, principal: Principal, proposal: Proposal, decision: str, comment: str | None
) -> None:
    proposal.status = decision
    if decision != "changes_requested":
        proposal.decided_by = principal.username
        proposal.decided_at = utcnow()
    session.flush()
    _step(session, proposal, principal, decision, comment)
    record(session, ProposalDecided(proposal.id, proposal.kind, decision, proposal.proposed_by))


def reject(session: Session, principal: Principal, proposal_id: int, comment: str) -> Proposal:
    """Reject a pending proposal (final); a reason is required."""
    proposal = _decidable(session, principal, proposal_id)
    _decide(session, principal, proposal, "rejected", _text(comment, "comment"))
    return proposal


def request_changes(session: Session, principal: Principal, proposal_id: int, comment: str) -> Proposal:
    """Send a pending proposal back to its proposer with what to change."""
    proposal = _decidable(session, principal, proposal_id)
    _decide(session, principal, proposal, "changes_requested", _text(comment, "comment"))
    return proposal


def approve(session: Session, principal: Principal, proposal_id: int, comment: str | None = None) -> Proposal:
    """Approve a pending proposal and apply it in the same transaction."""
    proposal = _decidable(session, principal, proposal_id)
    comment = _text(comment, "comment", required=False)
    proposal.result = jsonable(_apply(session, proposal, principal))
    _decide(session, principal, proposal, "approved", comment or None)
    return proposal


def _apply(session: Session, proposal: Proposal, reviewer: Principal) -> Any:
    engine = classification
    payload = proposal.payload
    author, approver, reason = proposal.proposed_by, reviewer.username, proposal.reason
    if proposal.kind == "new_tag":
        tag = engine.create_tag(
            session,
            category_code=payload["category"],
            code=payload["code"],
            name_zh=payload["name_zh"],
            name_en=payload["name_en"],
            kind=payload.get("dimension") or "flag",
            description=payload.get("description"),
            source=payload.get("source") or "rule",
            author=f"{author}/{approver}",
        )
        return {"tag_code": tag.code}
    if proposal.kind == "manual_tag":
        engine.set_manual_tag(
            session,
            payload["customer_id"],
            payload["tag_code"],
            payload["add"],
            reason=reason,
            author=author,
            approved_by=approver,
        )
        return {"customer_id": payload["customer_id"], "tag_code": payload["tag_code"], "add": payload["add"]}
    if proposal.kind == "reactivate":
        earlier = repository.require_version_numbered(session, payload["version"])
        version = engine.activate_version(
            session, earlier.id, reason=reason, author=author, approved_by=approver
        )
        return {
            "version": version.number,
            "reactivated": earlier.number,
            "job_run": _retag(session, approver),
        }
    if payload.get("base_version") != _current_version(session):
        raise Conflict("proposal.stale_base", version=payload.get("base_version"))
    version = engine.publish_rule_set(
        session, payload["definition"], reason=reason, author=author, approved_by=approver
    )
    return {"version": version.number, "job_run": _retag(session, approver)}


def _retag(session: Session, approver: str) -> int:
    # Re-tagging every customer takes minutes at scale: a job, queued in this transaction (DESIGN §2.10).
    return jobs.enqueue(session, "classify", {"trigger": "rules"}, approver).id
