"""Classification use-cases: taxonomy, rule-set versions, preview, runs, manual tags, reading tags.

Other domains and the governance/web layers call only these functions. Mutations
of rules and tags are only reached through governance (after approval); the
functions here trust their caller on that point and record who wrote and who
approved each change. Services flush, never commit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement
from sqlalchemy.orm import Session

from custinfo.auth.policy import Permission, Principal, can, require
from custinfo.classification import engine, explain, repository, rules, taxonomy
from custinfo.classification.engine import Impact
from custinfo.classification.governance.models import USAGE_KINDS
from custinfo.classification.models import ClassificationRun, RuleSetVersion, Tag, TagCategory
from custinfo.classification.repository import AssignmentView, ReportCell
from custinfo.classification.rules import Change
from custinfo.core.errors import FieldError, Invalid
from custinfo.core.pagination import PageParams
from custinfo.core.uow import actor_of, settle
from custinfo.customers import service as customers

__all__ = [
    "AssignmentView",
    "Change",
    "Impact",
    "ReportCell",
    "RunReport",
    "activate_version",
    "categories",
    "classification_report",
    "code_filter",
    "codes_of",
    "counts_whole_base",
    "create_tag",
    "current_class",
    "current_rule_set",
    "customer_tag_codes",
    "customer_tags",
    "diff_versions",
    "dimensions",
    "get_run",
    "get_tag",
    "get_version",
    "list_filters",
    "list_runs",
    "list_tags",
    "members_as_counts",
    "preview_for",
    "preview_rule_set",
    "publish_rule_set",
    "record_usage",
    "rule_set_versions",
    "run_full",
    "run_incremental",
    "set_manual_tag",
    "tag_filter",
    "tag_members",
    "validate_definition",
]


# --- taxonomy ----------------------------------------------------------------------------------------


def categories(session: Session) -> list[TagCategory]:
    """Tag categories in display order."""
    return taxonomy.categories(session)


def counts_whole_base(principal: Principal) -> bool:
    """Whether the principal's counts (tag sizes, the report) are of the whole base rather than its scope."""
    return can(principal, Permission.CLASSIFICATION_COUNTS_ALL)


def dimensions(session: Session) -> list[taxonomy.Dimension]:
    """Dimensions (mutually exclusive tag sets) with their names, in taxonomy order."""
    return taxonomy.dimensions(session)


def tag_sizes(session: Session, principal: Principal) -> dict[str, int]:
    """Current members per tag among the customers the principal may see (the whole base for marketing)."""
    if counts_whole_base(principal):
        return repository.open_counts(session)
    return repository.open_counts(session, principal=principal)


def list_tags(session: Session, include_inactive: bool = False) -> list[Tag]:
    """Every tag of the taxonomy, by category and order."""
    return taxonomy.tags(session, include_inactive=include_inactive)


def get_tag(session: Session, code: str) -> Tag:
    """One tag by code (404 if unknown)."""
    return taxonomy.get_tag(session, code)


# Tags are added only after approval (governance applies an approved "new_tag" proposal).
create_tag = taxonomy.create_tag


# --- rule sets ---------------------------------------------------------------------------------------


def current_rule_set(session: Session) -> RuleSetVersion:
    """The active rule-set version."""
    return repository.active_version(session)


def rule_set_versions(session: Session) -> list[RuleSetVersion]:
    """All rule-set versions, newest first."""
    return repository.versions(session)


def get_version(session: Session, version_id: int) -> RuleSetVersion:
    """One rule-set version (404 if unknown)."""
    return repository.get_version(session, version_id)


def diff_versions(session: Session, a_id: int, b_id: int) -> list[Change]:
    """What changed from version a to version b: rules added, removed, changed; parameters changed."""
    a = repository.get_version(session, a_id)
    b = repository.get_version(session, b_id)
    return rules.diff(a.definition, b.definition)


def validate_definition(session: Session, definition: Any) -> dict[str, Any]:
    """Check a rule-set definition against the grammar, the features and the taxonomy (422 naming each fault)."""
    return rules.validate(definition, taxonomy.tag_index(session))


def preview_rule_set(session: Session, definition: dict[str, Any], as_of: date | None = None) -> Impact:
    """Impact of a candidate definition against the active one: per tag counts, entering/leaving, samples.

    Computed set-based without writing any assignment.
    """
    checked = validate_definition(session, definition)
    return engine.preview(session, checked, as_of)


def preview_for(
    session: Session, principal: Principal, definition: dict[str, Any], as_of: date | None = None
) -> Impact:
    """A caller's preview of a candidate rule set (a step of proposing one: the API and the editor alike)."""
    require(principal, Permission.PROPOSAL_CREATE)
    return preview_rule_set(session, definition, as_of)


def publish_rule_set(
    session: Session,
    definition: dict[str, Any],
    reason: str,
    author: str,
    approved_by: str | None,
) -> RuleSetVersion:
    """Store an (approved) definition as a new version and activate it; re-tagging is the caller's job to queue."""
    _need_reason(reason)
    checked = validate_definition(session, definition)
    version = repository.add_version(session, checked, reason, author, approved_by)
    repository.activate(session, version)
    return version


def activate_version(
    session: Session,
    version_id: int,
    reason: str,
    author: str,
    approved_by: str | None,
) -> RuleSetVersion:
    """Re-apply an earlier version as a new version (copy, with reason); re-tagging is the caller's job to queue."""
    _need_reason(reason)
    earlier = repository.get_version(session, version_id)
    checked = validate_definition(session, earlier.definition)
    version = repository.add_version(session, checked, reason, author, approved_by, based_on_id=earlier.id)
    repository.activate(session, version)
    return version


def _need_reason(reason: str) -> None:
    if not reason or not reason.strip():
        raise Invalid([FieldError("reason", "field.required")])


# --- manual tags -------------------------------------------------------------------------------------


def set_manual_tag(
    session: Session,
    customer_id: int,
    tag_code: str,
    add: bool,
    reason: str,
    author: str,
    approved_by: str | None,
) -> ClassificationRun:
    """Add or remove an (approved) manual tag such as VIP or strategic partner, then re-classify that customer."""
    _need_reason(reason)
    tag = taxonomy.get_tag(session, tag_code)
    if tag.source != "manual":
        raise Invalid([FieldError("tag", "classification.not_manual", {"tag": tag_code})])
    repository.require_customer(session, customer_id)
    by = author if not approved_by else f"{author}/{approved_by}"
    if add:
        repository.open_manual(session, customer_id, tag_code, by, reason)
    else:
        repository.close_manual(session, customer_id, tag_code, by)
    return engine.run_incremental(session, customer_id, trigger="manual", actor=author)


# --- runs --------------------------------------------------------------------------------------------


def run_full(
    session: Session, as_of: date | None = None, trigger: str = "manual", actor: str | None = None
) -> ClassificationRun:
    """Re-tag every customer with the active rule set as of a date (default today, in the configured zone)."""
    return engine.run_full(session, as_of=as_of, trigger=trigger, actor=actor)


# Re-tag one customer with the same feature and rule SQL as a full run.
run_incremental = engine.run_incremental


RUN_SAMPLE = 20
_RUN_COLUMNS = (
    "id",
    "mode",
    "trigger",
    "as_of",
    "rule_set_version_id",
    "customer_id",
    "started_at",
    "finished_at",
    "duration_ms",
    "status",
    "actor",
)


@dataclass(frozen=True)
class RunReport:
    """A run as one caller may see it: its figures are of the caller's scope only.

    A full run of a caller whose scope is not every record has no stored figure to show (they count
    every customer); its list row carries none (`scoped` and None), its detail the changes among the
    customers in scope (`added_by_tag`, `removed_by_tag`, movers), never a count before or after.
    """

    id: int
    mode: str
    trigger: str
    as_of: date
    rule_set_version_id: int
    customer_id: int | None
    started_at: datetime
    finished_at: datetime | None
    duration_ms: int | None
    status: str
    actor: str
    customers: int | None
    added: int | None
    removed: int | None
    moved: int | None
    counts_before: dict[str, Any] | None
    counts_after: dict[str, Any] | None
    moves_sample: list[Any] | None
    scoped: bool = False
    added_by_tag: dict[str, int] | None = None
    removed_by_tag: dict[str, int] | None = None


def _report(run: ClassificationRun, **figures: Any) -> RunReport:
    stored = {
        name: getattr(run, name)
        for name in (
            "customers",
            "added",
            "removed",
            "moved",
            "counts_before",
            "counts_after",
            "moves_sample",
        )
    }
    return RunReport(**{name: getattr(run, name) for name in _RUN_COLUMNS}, **{**stored, **figures})


def _narrowed(run: ClassificationRun, principal: Principal) -> bool:
    """Whether the run's stored figures count customers outside the principal's scope."""
    return run.customer_id is None and not repository.scope_is_whole(principal)


def list_runs(
    session: Session, principal: Principal, mode: str | None = None, page: int = 1, size: int = 50
) -> tuple[list[RunReport], int]:
    """Runs the caller may see, newest first, optionally only `full` or `incremental` ones; with the total."""
    require(principal, Permission.CLASSIFICATION_READ)
    rows, total = repository.list_runs(session, principal, mode, PageParams(page, size))
    unknown = dict.fromkeys(("customers", "added", "removed", "moved", "counts_before", "counts_after"))
    return [
        _report(r, **unknown, moves_sample=None, scoped=True) if _narrowed(r, principal) else _report(r)
        for r in rows
    ], total


def get_run(session: Session, principal: Principal, run_id: int) -> RunReport:
    """One run the caller may see (404 otherwise), its figures counted among the customers in scope."""
    require(principal, Permission.CLASSIFICATION_READ)
    run = repository.get_run(session, principal, run_id)
    if not _narrowed(run, principal):
        return _report(run)
    added, removed, moved, sample = repository.run_changes_in_scope(session, principal, run.id, RUN_SAMPLE)
    return _report(
        run,
        customers=repository.customers_in_scope(session, principal),
        added=sum(added.values()),
        removed=sum(removed.values()),
        moved=moved,
        counts_before=None,
        counts_after=None,
        moves_sample=sample,
        scoped=True,
        added_by_tag=added,
        removed_by_tag=removed,
    )


# --- reading tags ------------------------------------------------------------------------------------


def customer_tags(
    session: Session,
    principal: Principal,
    customer_id: int,
    as_of: date | None = None,
    language: str = "zh_CN",
    clear: explain.ClearTest | None = None,
) -> list[AssignmentView]:
    """Tags of a customer in scope (now, or on a past date) with the explanation of each in words.

    `clear(entity, field)` is the caller's field view (the edge passes it): a figure computed from a
    field the caller does not see in clear is told without its value. None only for the operator's CLI.
    """
    require(principal, Permission.CLASSIFICATION_READ)
    customers.ensure_visible(session, principal, customer_id)
    views = repository.assignments_of(session, customer_id, as_of)
    latest = repository.latest_evaluation(session, customer_id) if as_of is None else None
    earlier = repository.earlier_evaluations(session, customer_id) if latest is not None else []
    return explain.attach(session, views, language, clear, latest, earlier)


def customer_tag_codes(session: Session, customer_ids: list[int]) -> dict[int, list[str]]:
    """Current tag codes of the given customers (for list and detail output)."""
    return repository.open_tag_codes(session, customer_ids)


def tag_filter(session: Session, tag_code: str, usage: str = "filter") -> ColumnElement[bool]:
    """SQL predicate on customers: carries the tag now; records the use for the tag quality review."""
    record_usage(session, tag_code, usage)
    return repository.carries_tag(tag_code)


def list_filters(session: Session, tag: str | None, code: str | None) -> list[ColumnElement[bool]]:
    """Predicates on customers for a list filtered by tag and/or classification code (None: no filter)."""
    extra = [tag_filter(session, tag)] if tag else []
    if code:
        extra.append(code_filter(code))
    return extra


def code_filter(code: str) -> ColumnElement[bool]:
    """SQL predicate on customers: the current classification code is exactly `code`."""
    return repository.has_code(code)


def current_class(session: Session, customer_id: int) -> tuple[list[str], str | None]:
    """The customer's tags and code after settling the unit of work (a write's response shows what it caused)."""
    settle(session)
    return repository.open_tag_codes(session, [customer_id])[customer_id], codes_of(session, [customer_id])[
        customer_id
    ]


def codes_of(session: Session, customer_ids: list[int]) -> dict[int, str | None]:
    """Current classification code of each given customer (None when not classified yet)."""
    return repository.codes_of(session, customer_ids)


def record_usage(session: Session, tag_code: str, kind: str = "filter") -> None:
    """Note that a tag was used (a list filtered by it, a segment or an export built on it)."""
    if kind not in USAGE_KINDS:
        raise ValueError(f"unknown usage kind {kind!r}")
    code = tag_code.strip()[:60]
    if code:
        repository.add_usage(session, code, kind, actor_of(session).username)


def tag_members(
    session: Session,
    principal: Principal,
    tag_code: str,
    as_of: date | None = None,
    page: int = 1,
    size: int = 50,
) -> tuple[list[tuple[int, str]], int]:
    """Customers in scope carrying the tag (now or on a past date): (id, name) pairs and the total.

    A role that reads no customer but counts the whole base (marketing) gets no names and the
    whole base's number (`members_as_counts`).
    """
    require(principal, Permission.CLASSIFICATION_READ)
    taxonomy.get_tag(session, tag_code)
    if members_as_counts(principal):
        return [], repository.member_count(session, tag_code, as_of)
    return repository.members(session, principal, tag_code, as_of, PageParams(page, size))


def members_as_counts(principal: Principal) -> bool:
    """Whether the principal sees a tag's members as a number of the whole base, without names."""
    return not can(principal, Permission.CUSTOMER_READ) and counts_whole_base(principal)


def classification_report(session: Session, principal: Principal) -> list[ReportCell]:
    """Customer counts per level-1 × level-2 cell of the classification code, within the caller's scope."""
    require(principal, Permission.CLASSIFICATION_READ)
    definition = repository.active_version(session).definition
    return repository.report(session, None if counts_whole_base(principal) else principal, definition)
