"""HTML pages of classification: tag catalogue, rule editor with preview, versions, review queue,
runs, the level-1 × level-2 report, tag quality, corrections, and the tags tab of the 360 page.

Every change to rules or tags is a proposal here; only a reviewer's approval applies it
(governance). Pages work without JavaScript; with HTMX the preview and the tags tab are
swapped in place.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from custinfo.auth.deps import DbSession, language_of
from custinfo.auth.policy import Permission, Principal, can, require
from custinfo.auth.web import FormFields, WebUser, web_user
from custinfo.classification import editor
from custinfo.classification import service as classification
from custinfo.classification.features import FEATURES
from custinfo.classification.governance import service as governance
from custinfo.classification.governance.models import Proposal
from custinfo.classification.tag_quality import service as quality
from custinfo.core import clock
from custinfo.core.errors import Conflict, FieldError, Invalid, NotPermitted
from custinfo.core.i18n import translate
from custinfo.core.jsonable import jsonable
from custinfo.core.pagination import page_count
from custinfo.customers.vocabulary import current_vocabularies
from custinfo.customers.web import show_customer
from custinfo.jobs import service as jobs
from custinfo.protection.views import view_for
from custinfo.web.forms import FormState, form_state, saving
from custinfo.web.tabs import TAB_TARGET, CustomerTab, TabRequest
from custinfo.web.templating import is_fragment_for, render, see_other

router = APIRouter(include_in_schema=False, dependencies=[Depends(web_user)])

BASE = "/classification"
PREVIEW_TARGET = "rule-preview"

PAGE_SIZE = 50
DECISIONS = {"approve", "reject", "request-changes", "comment", "resubmit"}


def _tags_by_code(session: Session) -> dict[str, Any]:
    return {t.code: t for t in classification.list_tags(session, include_inactive=True)}


def _nav(principal: Principal, session: Session) -> dict[str, Any]:
    return {
        "can_propose": can(principal, Permission.PROPOSAL_CREATE),
        "can_review": governance.can_review(session, principal),
        "can_run": can(principal, Permission.CLASSIFICATION_RUN),
        "can_quality": can(principal, Permission.TAG_QUALITY_READ),
        "can_read_proposals": governance.can_read(session, principal),
        "can_manage_settings": can(principal, Permission.SETTINGS_MANAGE),
    }


# Rule features and list parameters whose values are codes of a vocabulary (shown by its labels).
VALUE_VOCABULARIES = {
    "gender": "gender",
    "occupation": "occupation",
    "industry": "industry",
    "customer_type": "customer_type",
    "core_need": "core_need",
    "channel": "interaction_channel",
}


# List parameters whose items are values of a feature's vocabulary.
LIST_PARAMETERS = {"online_channels": "channel", "offline_channels": "channel"}
CHOICE = "::"  # a ticked value of a list shown as checkboxes: name="<field>::<code>"


def _ticked_lists(form: dict[str, str]) -> dict[str, str]:
    """The form with each list shown as checkboxes folded into one field (one code per line)."""
    out = {k: v for k, v in form.items() if CHOICE not in k}
    for key in form:
        if CHOICE in key:
            name, code = key.split(CHOICE, 1)
            items = out.setdefault(name, "")
            if code:
                out[name] = f"{items}\n{code}" if items else code
    return out


class Words:
    """The readable diff's labels in one language: parameters, features, tags, dimensions, values."""

    def __init__(self, session: Session, language: str) -> None:
        self.language = language
        self.en = language.lower().startswith("en")
        self.tags = _tags_by_code(session)
        self.dimensions = {d.code: d for d in classification.dimensions(session)}
        self.vocabularies = current_vocabularies()

    def t(self, key: str, **params: Any) -> str:
        """A translated text."""
        return translate(key, self.language, **params)

    def _or(self, key: str, fallback: str) -> str:
        text = self.t(key)
        return fallback if text == key else text

    def parameter(self, key: str) -> str:
        """The label of a rule-set parameter."""
        return self._or(f"gov.param.{key}", self._or(f"config.param.{key}", key))

    def feature(self, name: str) -> str:
        """The label of a feature."""
        feature = FEATURES.get(name)
        if feature is None:
            return name
        return feature.label_en if self.en else feature.label_zh

    def tag(self, code: str) -> str:
        """The name of a tag."""
        tag = self.tags.get(code)
        return code if tag is None else (tag.name_en if self.en else tag.name_zh)

    def dimension(self, code: str) -> str:
        """The name of a dimension."""
        dimension = self.dimensions.get(code)
        return code if dimension is None else (dimension.name_en if self.en else dimension.name_zh)

    def choices(self, name: str) -> list[tuple[str, str]]:
        """The values a feature or list parameter may take, with their labels ([] when free text)."""
        name = LIST_PARAMETERS.get(name, name)
        if name == "kind":
            return [(k, self.t(f"kind.{k}")) for k in ("individual", "company")]
        if name == "region_tier":
            return [(k, self.value(name, k)) for k in ("tier1", "tier2", "tier3", "rural")]
        vocabulary = self.vocabularies.get(VALUE_VOCABULARIES.get(name, ""))
        return vocabulary.choices(self.language) if vocabulary else []

    def value(self, feature: str, value: Any) -> str:
        """A value by its label (vocabulary term, customer kind, region tier); other text as it is."""
        text = str(value)
        if feature == "kind":
            return self._or(f"kind.{text}", text)
        if feature in ("region_tier", "region_tiers"):
            return self._or(f"config.region_tier.{text}", text)
        vocabulary = self.vocabularies.get(VALUE_VOCABULARIES.get(feature, ""))
        return vocabulary.label(text, self.language) if vocabulary else text


# --- tag catalogue ----------------------------------------------------------------------------------


def _catalogue_page(
    request: Request,
    session: Session,
    principal: Principal,
    new_tag: FormState,
    status_code: int = 200,
    flash: str | None = None,
    codes: bool = False,
) -> HTMLResponse:
    by_category: dict[str, list[Any]] = {}
    for tag in classification.list_tags(session):
        by_category.setdefault(tag.category_code, []).append(tag)
    return render(
        request,
        "classification/tags.html",
        status_code=status_code,
        categories=classification.categories(session),
        by_category=by_category,
        sizes=classification.tag_sizes(session, principal),
        whole_base=classification.counts_whole_base(principal),
        flash=flash,
        new_tag=new_tag,
        can_show_codes=_may_see_codes(principal),
        show_codes=codes and _may_see_codes(principal),
        **_nav(principal, session),
    )


def _may_see_codes(principal: Principal) -> bool:
    """Internal codes (tag code, dimension) are for those who write rules: the steward and the admin."""
    return can(principal, Permission.CLASSIFICATION_RUN)


@router.get(BASE, response_class=HTMLResponse)
def home() -> Response:
    """The classification section starts at the tag catalogue."""
    return see_other(f"{BASE}/tags")


@router.get(f"{BASE}/tags", response_class=HTMLResponse)
def catalogue(
    request: Request, session: DbSession, principal: WebUser, flash: str | None = None, codes: bool = False
) -> HTMLResponse:
    """Categories and their tags with current sizes (标签目录); `codes` adds the internal codes (steward, admin)."""
    require(principal, Permission.CLASSIFICATION_READ)
    return _catalogue_page(request, session, principal, FormState(), flash=flash, codes=codes)


@router.post(f"{BASE}/tags/propose", response_class=HTMLResponse)
def propose_tag(request: Request, session: DbSession, principal: WebUser, form: FormFields) -> Response:
    """Propose a new tag (data steward); it exists only after approval."""
    names = ["code", "category", "name_zh", "name_en", "dimension", "source", "description"]
    payload = {n: form.get(n, "") for n in names}
    try:
        with saving(session):
            proposal = governance.propose(session, principal, "new_tag", payload, form.get("reason", ""))
    except (Invalid, Conflict) as error:
        values = {**{f"payload.{k}": v for k, v in payload.items()}, "reason": form.get("reason", "")}
        state = form_state(error, values, language_of(request))
        return _catalogue_page(request, session, principal, state, error.status)
    return see_other(f"{BASE}/proposals/{proposal.id}?flash=proposal_created")


@router.get(f"{BASE}/tags/{{code}}", response_class=HTMLResponse)
def members(
    request: Request,
    session: DbSession,
    principal: WebUser,
    code: str,
    as_of: date | None = None,
    page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
) -> HTMLResponse:
    """Customers carrying a tag, now or on a past date (标签成员); for marketing their number only."""
    counts_only = classification.members_as_counts(principal)
    rows, total = classification.tag_members(session, principal, code, as_of, page, PAGE_SIZE)
    classification.record_usage(session, code, "filter")
    return render(
        request,
        "classification/members.html",
        tag=classification.get_tag(session, code),
        rows=rows,
        total=total,
        page=page,
        pages=0 if counts_only else page_count(total, PAGE_SIZE),
        as_of=as_of,
        counts_only=counts_only,
        show_codes=_may_see_codes(principal),
    )


# --- rule editor ------------------------------------------------------------------------------------


def _editor_groups(
    session: Session, definition: dict[str, Any]
) -> list[tuple[str, list[editor.EditableField]]]:
    """Editable fields grouped: parameters first, then by the category of each rule's tag."""
    tags = _tags_by_code(session)
    groups: dict[str, list[editor.EditableField]] = {}
    for f in editor.editable_fields(definition):
        tag = tags.get(f.tag or "")
        key = "parameters" if f.rule_id is None else (tag.category_code if tag else "other")
        groups.setdefault(key, []).append(f)
    order = ["parameters", *[c.code for c in classification.categories(session)], "other"]
    return [(key, groups[key]) for key in order if key in groups]


def _editor_page(
    request: Request,
    session: Session,
    principal: Principal,
    state: FormState | None = None,
    status_code: int = 200,
    **extra: Any,
) -> HTMLResponse:
    require(principal, Permission.PROPOSAL_CREATE)
    current = classification.current_rule_set(session)
    return render(
        request,
        "classification/rules.html",
        status_code=status_code,
        current=current,
        groups=_editor_groups(session, current.definition),
        tags=_tags_by_code(session),
        categories={c.code: c for c in classification.categories(session)},
        state=state or FormState(),
        today=clock.today().isoformat(),
        words=Words(session, language_of(request)),
        **{"impact": None, "changes": [], "revising": None, **extra},
        **_nav(principal, session),
    )


@router.get(f"{BASE}/rules", response_class=HTMLResponse)
def rule_editor(
    request: Request, session: DbSession, principal: WebUser, proposal: int | None = None
) -> HTMLResponse:
    """Edit thresholds and windows of the active rule set (规则编辑), or of a sent-back proposal to revise it."""
    if proposal is None:
        return _editor_page(request, session, principal)
    revising = governance.get_proposal(session, principal, proposal)
    if revising.kind != "rule_change":
        raise Invalid([FieldError("proposal", "vocabulary.unknown", {"allowed": "rule_change"})])
    values = {f.name: f.value for f in editor.editable_fields(revising.payload["definition"])}
    values.update(reason=revising.reason, as_of=str(revising.payload.get("as_of") or ""))
    return _editor_page(request, session, principal, FormState(values=values), revising=revising)


def _on_form(error: Invalid) -> Invalid:
    """The definition's faults under the editor's fields: parameters.x → p.x (the inputs' names)."""
    return Invalid(
        [
            replace(e, field="p." + e.field.removeprefix("parameters."))
            if e.field.startswith("parameters.")
            else e
            for e in error.errors
        ]
    )


def _as_of(form: dict[str, str]) -> date:
    raw = form.get("as_of", "").strip()
    if not raw:
        return clock.today()
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise Invalid([FieldError("as_of", "date.format")]) from None


@router.post(f"{BASE}/rules/preview", response_class=HTMLResponse)
def rule_preview(request: Request, session: DbSession, principal: WebUser, form: FormFields) -> HTMLResponse:
    """Impact of the edited thresholds: entering and leaving customers per tag, with a sample (预览影响)."""
    current = classification.current_rule_set(session)
    form = _ticked_lists(form)
    try:
        candidate = editor.apply_form(current.definition, form)
        impact = jsonable(classification.preview_for(session, principal, candidate, _as_of(form)))
    except Invalid as error:
        state = form_state(_on_form(error), dict(form), language_of(request))
        if is_fragment_for(request, PREVIEW_TARGET):
            return render(request, "classification/_preview.html", status_code=422, state=state, impact=None)
        return _editor_page(request, session, principal, state, 422)
    context = {
        "impact": impact,
        "changes": editor.describe_changes(
            current.definition, candidate, Words(session, language_of(request))
        ),
        "tags": _tags_by_code(session),
        "state": FormState(values=dict(form)),
    }
    if is_fragment_for(request, PREVIEW_TARGET):
        return render(request, "classification/_preview.html", **context)
    context.pop("tags")
    return _editor_page(request, session, principal, context.pop("state"), **context)


@router.post(f"{BASE}/rules/propose", response_class=HTMLResponse)
def rule_propose(request: Request, session: DbSession, principal: WebUser, form: FormFields) -> Response:
    """Submit the edited rule set for approval (提交审批); the preview is stored with the proposal."""
    require(principal, Permission.PROPOSAL_CREATE)
    current = classification.current_rule_set(session)
    form = _ticked_lists(form)
    try:
        with saving(session):
            candidate = editor.apply_form(current.definition, form)
            if candidate == current.definition:
                raise Invalid([FieldError("definition", "rule_set.unchanged")])
            payload = {"definition": candidate, "as_of": _as_of(form).isoformat()}
            revising = form.get("proposal_id", "").strip()
            if revising.isdigit():
                proposal = governance.revise(
                    session, principal, int(revising), payload, form.get("reason"), form.get("comment")
                )
            else:
                proposal = governance.propose(
                    session, principal, "rule_change", payload, form.get("reason", "")
                )
    except (Invalid, Conflict) as error:
        shown = _on_form(error) if isinstance(error, Invalid) else error
        state = form_state(shown, dict(form), language_of(request))
        return _editor_page(request, session, principal, state, error.status)
    flash = "proposal_resubmit" if revising.isdigit() else "proposal_created"
    return see_other(f"{BASE}/proposals/{proposal.id}?flash={flash}")


# --- versions ---------------------------------------------------------------------------------------


@router.get(f"{BASE}/versions", response_class=HTMLResponse)
def versions(
    request: Request,
    session: DbSession,
    principal: WebUser,
    a: int | None = None,
    b: int | None = None,
    flash: str | None = None,
) -> HTMLResponse:
    """Rule-set versions (版本历史) with the diff of two of them and re-activation as a proposal."""
    require(principal, Permission.CLASSIFICATION_READ)
    rows = classification.rule_set_versions(session)
    by_number = {v.number: v for v in rows}
    diff = None
    if a is not None and b is not None and a in by_number and b in by_number:
        diff = editor.describe_changes(
            by_number[a].definition, by_number[b].definition, Words(session, language_of(request))
        )
    return render(
        request,
        "classification/versions.html",
        versions=rows,
        a=a,
        b=b,
        diff=diff,
        flash=flash,
        **_nav(principal, session),
    )


@router.post(f"{BASE}/versions/{{number}}/reactivate", response_class=HTMLResponse)
def reactivate(
    request: Request, session: DbSession, principal: WebUser, number: int, form: FormFields
) -> Response:
    """Propose re-activating an earlier version (重新启用); it applies after approval."""
    proposal = governance.propose(
        session, principal, "reactivate", {"version": number}, form.get("reason", "")
    )
    return see_other(f"{BASE}/proposals/{proposal.id}?flash=proposal_created")


# --- proposals and review queue ---------------------------------------------------------------------


@router.get(f"{BASE}/proposals", response_class=HTMLResponse)
def proposals(
    request: Request,
    session: DbSession,
    principal: WebUser,
    status: str = "open",
    kind: str | None = None,
    mine: bool = False,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> HTMLResponse:
    """The review queue (审批队列): open proposals first; every status can be listed, or only those
    waiting for the caller's review."""
    rows, total = governance.list_proposals(
        session, principal, status or None, kind or None, page, PAGE_SIZE, awaiting_me=mine
    )
    return render(
        request,
        "classification/proposals.html",
        rows=rows,
        total=total,
        status=status,
        kind=kind,
        mine=mine,
        page=page,
        pages=page_count(total, PAGE_SIZE),
        tags=_tags_by_code(session),
        **_nav(principal, session),
    )


def _proposal_page(
    request: Request,
    session: Session,
    principal: Principal,
    proposal: Proposal,
    state: FormState | None = None,
    status_code: int = 200,
    flash: str | None = None,
) -> HTMLResponse:
    definition_changes: list[Any] = []
    if proposal.kind == "rule_change":
        base = classification.current_rule_set(session).definition
        words = Words(session, language_of(request))
        definition_changes = editor.describe_changes(base, proposal.payload["definition"], words)
    is_proposer = proposal.proposed_by == principal.username
    return render(
        request,
        "classification/proposal.html",
        status_code=status_code,
        p=proposal,
        impact=governance.impact_for(session, principal, proposal),
        definition_changes=definition_changes,
        tags=_tags_by_code(session),
        categories={c.code: c for c in classification.categories(session)},
        state=state or FormState(),
        flash=flash,
        is_proposer=is_proposer,
        may_decide=governance.may_decide(session, principal, proposal),
        may_revise=is_proposer and proposal.status in governance.OPEN_STATUSES,
        **_nav(principal, session),
    )


@router.get(f"{BASE}/proposals/{{proposal_id}}", response_class=HTMLResponse)
def proposal_detail(
    request: Request, session: DbSession, principal: WebUser, proposal_id: int, flash: str | None = None
) -> HTMLResponse:
    """One proposal: the change, the stored preview, every step, and the reviewer's buttons."""
    proposal = governance.get_proposal(session, principal, proposal_id)
    return _proposal_page(request, session, principal, proposal, flash=flash)


@router.post(f"{BASE}/proposals/{{proposal_id}}/{{action}}", response_class=HTMLResponse)
def proposal_action(
    request: Request, session: DbSession, principal: WebUser, proposal_id: int, action: str, form: FormFields
) -> Response:
    """Approve, reject, request changes, comment, or (proposer) resubmit."""
    if action not in DECISIONS:
        raise Invalid([FieldError("action", "vocabulary.unknown", {"allowed": ", ".join(sorted(DECISIONS))})])
    comment = form.get("comment", "")
    job_run = None
    try:
        with saving(session):
            if action == "approve":
                approved = governance.approve(session, principal, proposal_id, comment)
                job_run = (approved.result or {}).get("job_run")
            elif action == "reject":
                governance.reject(session, principal, proposal_id, comment)
            elif action == "request-changes":
                governance.request_changes(session, principal, proposal_id, comment)
            elif action == "comment":
                governance.add_comment(session, principal, proposal_id, comment)
            else:
                governance.revise(session, principal, proposal_id, None, form.get("reason") or None, comment)
    except (Invalid, Conflict) as error:
        proposal = governance.get_proposal(session, principal, proposal_id)
        state = form_state(error, {"comment": comment}, language_of(request))
        return _proposal_page(request, session, principal, proposal, state, error.status)
    if job_run:
        return see_other(f"/jobs/runs/{job_run}?flash=job_queued_approved")
    flash = {"approve": "approved", "reject": "rejected", "request-changes": "changes_requested"}
    return see_other(f"{BASE}/proposals/{proposal_id}?flash=proposal_{flash.get(action, action)}")


# --- runs -------------------------------------------------------------------------------------------


@router.get(f"{BASE}/runs", response_class=HTMLResponse)
def runs(
    request: Request,
    session: DbSession,
    principal: WebUser,
    mode: str | None = None,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    flash: str | None = None,
) -> HTMLResponse:
    """Classification runs (运行记录): duration, counts, movers; "run now" for steward and admin."""
    rows, total = classification.list_runs(session, principal, mode or None, page, PAGE_SIZE)
    return render(
        request,
        "classification/runs.html",
        rows=rows,
        total=total,
        mode=mode,
        page=page,
        pages=page_count(total, PAGE_SIZE),
        flash=flash,
        **_nav(principal, session),
    )


@router.post(f"{BASE}/runs", response_class=HTMLResponse)
def run_now(session: DbSession, principal: WebUser) -> Response:
    """Queue a full run now (立即运行) and follow its progress on the job's page."""
    require(principal, Permission.CLASSIFICATION_RUN)
    run = jobs.enqueue(session, "classify", {}, principal.username)
    return see_other(f"/jobs/runs/{run.id}?flash=job_queued")


@router.get(f"{BASE}/runs/{{run_id}}", response_class=HTMLResponse)
def run_detail(
    request: Request, session: DbSession, principal: WebUser, run_id: int, flash: str | None = None
) -> HTMLResponse:
    """One run: counts per tag before and after, and the customers that moved."""
    run = classification.get_run(session, principal, run_id)
    if run.scoped:  # the changes among the customers in scope: stored counts are of every customer
        before, after = run.removed_by_tag or {}, run.added_by_tag or {}
    else:
        before, after = run.counts_before or {}, run.counts_after or {}
    codes = sorted(set(before) | set(after))
    return render(
        request,
        "classification/run.html",
        run=run,
        counts=[(c, int(before.get(c, 0)), int(after.get(c, 0))) for c in codes],
        tags=_tags_by_code(session),
        flash=flash,
    )


# --- level-1 × level-2 report -----------------------------------------------------------------------


@router.get(f"{BASE}/report", response_class=HTMLResponse)
def report(request: Request, session: DbSession, principal: WebUser) -> HTMLResponse:
    """Customer counts per level-1 × level-2 cell (分类报表), as a table and a heat map."""
    cells = [jsonable(c) for c in classification.classification_report(session, principal)]
    rows = sorted({str(c.get("level1") or "—") for c in cells})
    cols = sorted({str(c.get("level2") or "—") for c in cells})
    grid = {
        (str(c.get("level1") or "—"), str(c.get("level2") or "—")): int(c.get("customers") or 0)
        for c in cells
    }
    chart = {
        "rows": rows,
        "cols": cols,
        "data": [[j, i, grid.get((r, k), 0)] for i, r in enumerate(rows) for j, k in enumerate(cols)],
    }
    return render(
        request,
        "classification/report.html",
        rows=rows,
        cols=cols,
        grid=grid,
        total=sum(grid.values()),
        row_totals={r: sum(n for (level1, _), n in grid.items() if level1 == r) for r in rows},
        chart_json=json.dumps(chart, ensure_ascii=False),
        whole_base=classification.counts_whole_base(principal),
        **_nav(principal, session),
    )


# --- tag quality and corrections --------------------------------------------------------------------


# --- governance settings (admin) --------------------------------------------------------------------

NUMERIC_SETTINGS = (
    "quality_review_cadence_days",
    "quality_review_due_soon_days",
    "churn_window_days",
    "anomaly_swallow_share",
    "anomaly_flip_share",
)


def _settings_page(
    request: Request,
    session: Session,
    principal: Principal,
    state: FormState,
    status_code: int = 200,
    flash: str | None = None,
) -> HTMLResponse:
    return render(
        request,
        "classification/settings.html",
        status_code=status_code,
        state=state,
        flash=flash,
        role_choices=governance.REVIEWER_ROLE_CHOICES,
        numeric_fields=NUMERIC_SETTINGS,
        can_set_reviewers=can(principal, Permission.USER_MANAGE),
        **_nav(principal, session),
    )


def _settings_values(values: dict[str, Any]) -> dict[str, str]:
    """The settings as the form shows them (roles comma-joined, numbers as typed)."""
    return {k: ",".join(v) if isinstance(v, list) else str(v) for k, v in values.items()}


@router.get(f"{BASE}/settings", response_class=HTMLResponse)
def settings_page(
    request: Request, session: DbSession, principal: WebUser, flash: str | None = None
) -> HTMLResponse:
    """Governance settings (治理设置): who reviews proposals, the quality review cadence, anomaly thresholds."""
    require(principal, Permission.SETTINGS_MANAGE)
    values = _settings_values(governance.settings(session))
    return _settings_page(request, session, principal, FormState(values), flash=flash)


@router.post(f"{BASE}/settings", response_class=HTMLResponse)
def save_settings(request: Request, session: DbSession, principal: WebUser, form: FormFields) -> Response:
    """Save the governance settings; a refusal shows every message under its field and saves nothing."""
    # One checkbox per role (dept_head always reviews, so its box is fixed).
    roles = ["dept_head", *(r for r in governance.REVIEWER_ROLE_CHOICES if form.get(f"reviewer_role_{r}"))]
    if not can(
        principal, Permission.USER_MANAGE
    ):  # a steward's page shows the reviewers without boxes to tick
        roles = governance.reviewer_roles(session)
    values: dict[str, Any] = {"reviewer_roles": roles, **{k: form.get(k, "") for k in NUMERIC_SETTINGS}}
    try:
        with saving(session):
            governance.update_settings(session, principal, values)
    except (Invalid, Conflict) as error:
        state = form_state(error, _settings_values(values), language_of(request))
        return _settings_page(request, session, principal, state, error.status)
    return see_other(f"{BASE}/settings?flash=settings_saved")


@router.get(f"{BASE}/quality", response_class=HTMLResponse)
def quality_page(
    request: Request, session: DbSession, principal: WebUser, flash: str | None = None
) -> HTMLResponse:
    """Tag quality review (标签质量): figures, anomalies, open corrections, the review reminder."""
    report_ = quality.quality_report(session, principal)
    return render(
        request,
        "classification/quality.html",
        report=report_,
        corrections=quality.list_corrections(session, principal, "open"),
        reviews=quality.reviews(session),
        tags=_tags_by_code(session),
        flash=flash,
        can_resolve=quality.may_resolve(principal),
        can_complete=can(principal, Permission.TAG_QUALITY_REVIEW),
        manual_codes=governance.manual_tag_codes(session),
    )


@router.post(f"{BASE}/quality/review", response_class=HTMLResponse)
def quality_reviewed(session: DbSession, principal: WebUser, form: FormFields) -> Response:
    """Record that this period's tag quality review was done."""
    quality.complete_review(session, principal, form.get("notes"))
    return see_other(f"{BASE}/quality?flash=review_done")


@router.get(f"{BASE}/corrections", response_class=HTMLResponse)
def corrections(
    request: Request,
    session: DbSession,
    principal: WebUser,
    status: str | None = None,
    flash: str | None = None,
) -> HTMLResponse:
    """Reported wrong tags (纠错记录) and their resolutions; for marketing their number per status only."""
    if not quality.may_list_corrections(principal):
        return render(
            request,
            "classification/corrections.html",
            counts=quality.correction_counts(session, principal),
            rows=[],
            status=None,
            **_nav(principal, session),
        )
    return render(
        request,
        "classification/corrections.html",
        counts=None,
        **_nav(principal, session),
        rows=quality.list_corrections(session, principal, status or None),
        status=status,
        tags=_tags_by_code(session),
        flash=flash,
        can_resolve=quality.may_resolve(principal),
        manual_codes=governance.manual_tag_codes(session),
    )


@router.post(f"{BASE}/corrections/{{correction_id}}/resolve", response_class=HTMLResponse)
def resolve(session: DbSession, principal: WebUser, correction_id: int, form: FormFields) -> Response:
    """Accept (manual removal proposal or rule-fix note) or reject a reported wrong tag."""
    decision, outcome = form.get("decision", ""), form.get("outcome") or None
    quality.resolve_correction(session, principal, correction_id, decision, form.get("note"), outcome)
    return see_other(f"{BASE}/corrections?flash=correction_resolved")


# --- the tags tab of the customer 360 page ----------------------------------------------------------


def tags_tab_context(tab: TabRequest) -> dict[str, Any]:
    """What the 360 page's tags tab shows: each tag with its why, corrections, manual-tag proposals."""
    session, principal, customer_id = tab.session, tab.principal, tab.row.customer.id
    clear = view_for(session, principal).is_clear
    views = classification.customer_tags(
        session, principal, customer_id, None, language_of(tab.request), clear
    )
    open_corrections = {
        c.tag_code for c in quality.list_corrections(session, principal, "open", customer_id=customer_id)
    }
    return {
        "tag_views": views,
        "tag_index": _tags_by_code(session),
        "open_corrections": open_corrections,
        "can_correct": can(principal, Permission.TAG_CORRECT),
        "can_propose": can(principal, Permission.PROPOSAL_CREATE),
        "manual_codes": governance.manual_tag_codes(session),
        "customer_proposals": governance.proposals_for_customer(session, customer_id),
        "tag_form": tab.extra.get("tag_form") or FormState(),
    }


TABS = (CustomerTab("tags", 20, tags_tab_context),)


def _tags_tab(
    request: Request, session: Session, principal: Principal, customer_id: int, **extra: Any
) -> Response:
    return show_customer(request, session, principal, customer_id, "tags", **extra)


@router.post(f"{BASE}/customers/{{customer_id}}/corrections", response_class=HTMLResponse)
def mark_wrong(
    request: Request, session: DbSession, principal: WebUser, customer_id: int, form: FormFields
) -> Response:
    """Mark a tag on this customer as wrong, with a reason (标记错误)."""
    values = {"tag_code": form.get("tag_code", ""), "reason": form.get("reason", "")}
    try:
        with saving(session):
            quality.report_correction(session, principal, customer_id, values["tag_code"], values["reason"])
    except (Invalid, Conflict) as error:
        state = form_state(error, values, language_of(request))
        return _tags_tab(request, session, principal, customer_id, status_code=error.status, tag_form=state)
    if is_fragment_for(request, TAB_TARGET):
        return _tags_tab(request, session, principal, customer_id, flash="correction_reported")
    return see_other(f"/customers/{customer_id}?tab=tags&flash=correction_reported")


@router.post(f"{BASE}/customers/{{customer_id}}/manual", response_class=HTMLResponse)
def propose_manual(
    request: Request, session: DbSession, principal: WebUser, customer_id: int, form: FormFields
) -> Response:
    """Propose adding or removing VIP / strategic partner on this customer (提议人工标签)."""
    if not can(principal, Permission.PROPOSAL_CREATE):
        raise NotPermitted("error.permission", permission="proposal.create")
    payload = {
        "customer_id": customer_id,
        "tag_code": form.get("tag_code", ""),
        "add": form.get("add", "true"),
    }
    values = {"tag_code": form.get("tag_code", ""), "reason": form.get("reason", "")}
    try:
        with saving(session):
            governance.propose(session, principal, "manual_tag", payload, form.get("reason", ""))
    except (Invalid, Conflict) as error:
        state = form_state(error, values, language_of(request))
        return _tags_tab(request, session, principal, customer_id, status_code=error.status, tag_form=state)
    if is_fragment_for(request, TAB_TARGET):
        return _tags_tab(request, session, principal, customer_id, flash="manual_proposed")
    return see_other(f"/customers/{customer_id}?tab=tags&flash=manual_proposed")


# --- classification code dimensions (settings area) -------------------------------------------------

CODE_LEVELS = ("level1", "level2")


def _code_values(code: dict[str, Any]) -> dict[str, str]:
    """The code configuration as the form shows it: per dimension its level and position."""
    values = {"separator": str(code.get("separator", "-"))}
    for level in CODE_LEVELS:
        for n, dimension in enumerate(code.get(level, [])):
            values[f"level.{dimension}"] = level
            values[f"position.{dimension}"] = str(n + 1)
    return values


def _code_page(
    request: Request,
    session: Session,
    principal: Principal,
    state: FormState | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    require(principal, Permission.SETTINGS_MANAGE)
    current = classification.current_rule_set(session)
    code = current.definition.get("classification_code") or {}
    words = Words(session, language_of(request))
    return render(
        request,
        "settings/classification_code.html",
        status_code=status_code,
        current=current,
        dimensions=classification.dimensions(session),
        code_text=[" · ".join(words.dimension(d) for d in code.get(level, [])) for level in CODE_LEVELS],
        state=state or FormState(_code_values(code)),
        can_propose=can(principal, Permission.PROPOSAL_CREATE),
    )


@router.get("/settings/classification-code", response_class=HTMLResponse)
def code_settings(request: Request, session: DbSession, principal: WebUser) -> HTMLResponse:
    """Which dimensions form the classification code (分类编码), level 1 and level 2 in order."""
    return _code_page(request, session, principal)


@router.post("/settings/classification-code", response_class=HTMLResponse)
def propose_code(request: Request, session: DbSession, principal: WebUser, form: FormFields) -> Response:
    """Propose other code dimensions: a rule-set change that applies after a reviewer approves it."""
    require(principal, Permission.SETTINGS_MANAGE)
    chosen: dict[str, list[tuple[int, str]]] = {level: [] for level in CODE_LEVELS}
    errors: list[FieldError] = []
    for d in classification.dimensions(session):
        level = form.get(f"level.{d.code}", "")
        if level not in CODE_LEVELS:
            continue
        raw = form.get(f"position.{d.code}", "").strip() or "99"
        if not raw.isdigit() or not 1 <= int(raw) <= 99:
            errors.append(FieldError(f"position.{d.code}", "integer.range", {"min": 1, "max": 99}))
            continue
        chosen[level].append((int(raw), d.code))
    try:
        with saving(session):
            if errors:
                raise Invalid(errors)
            proposal = governance.propose_classification_code(
                session,
                principal,
                [code for _, code in sorted(chosen["level1"])],
                [code for _, code in sorted(chosen["level2"])],
                form.get("separator", ""),
                form.get("reason", ""),
            )
    except (Invalid, Conflict) as error:
        state = form_state(error, dict(form), language_of(request))
        return _code_page(request, session, principal, state, error.status)
    return see_other(f"{BASE}/proposals/{proposal.id}?flash=proposal_created")
