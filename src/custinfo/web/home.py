"""The home page (首页): every role lands here after sign-in and sees its own numbers.

An edge module: it asks each domain's service for the figures the user may see (customers in scope
by class, approvals waiting for them, their open access requests) and combines them; no domain
knows about the others. The navigation badge of waiting approvals is a small fragment the layout
loads, so no other page pays for the count.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from custinfo.audit import service as audit
from custinfo.auth.deps import DbSession, language_of, settings_of
from custinfo.auth.policy import Permission, Principal, can
from custinfo.auth.web import WebUser, web_user
from custinfo.backup import health as backups
from custinfo.classification import service as classification
from custinfo.classification.governance import service as governance
from custinfo.core import clock
from custinfo.customers import service as customers
from custinfo.protection import service as protection
from custinfo.web import nav
from custinfo.web.templating import render

router = APIRouter(include_in_schema=False, dependencies=[Depends(web_user)])

# The tag categories that say what class a customer is in (value and cooperation stage), in this order.
CLASS_CATEGORIES = ("value", "stage")
OPEN_REQUESTS_SHOWN = 5
QUEUE = "/access-requests/queue"
PROPOSALS = "/classification/proposals"


@dataclass
class ClassCount:
    """One tag of a class category and how many of the user's customers carry it."""

    code: str
    name: str
    count: int


@dataclass
class ClassGroup:
    """A class category (客户价值, 合作阶段) with its tags' counts."""

    name: str
    tags: list[ClassCount] = field(default_factory=list)


@dataclass
class Waiting:
    """Approvals waiting for the user: access requests to decide and proposals to review."""

    access: int = 0
    proposals: int = 0

    @property
    def total(self) -> int:
        """Everything waiting."""
        return self.access + self.proposals


def waiting_for(session: Session, principal: Principal) -> Waiting:
    """How many access requests and tag proposals wait for this user's decision (0 for roles that decide none)."""
    waiting = Waiting()
    if can(principal, Permission.ACCESS_APPROVE):
        waiting.access = len(protection.list_requests(session, principal, queue=True))
    if governance.can_review(session, principal):
        _rows, waiting.proposals = governance.list_proposals(
            session, principal, "open", awaiting_me=True, size=1
        )
    return waiting


def _classes(session: Session, principal: Principal, language: str) -> tuple[int, list[ClassGroup]]:
    total = customers.list_customers(session, principal, customers.CustomerFilter(), 1, 1)[1]
    sizes = classification.tag_sizes(session, principal)
    english = language != "zh_CN"
    names = {c.code: (c.name_en if english else c.name_zh) for c in classification.categories(session)}
    groups = {code: ClassGroup(names.get(code, code)) for code in CLASS_CATEGORIES if code in names}
    for tag in classification.list_tags(session):
        group = groups.get(tag.category_code)
        if group is not None:
            group.tags.append(
                ClassCount(tag.code, tag.name_en if english else tag.name_zh, sizes.get(tag.code, 0))
            )
    return total, [g for g in groups.values() if g.tags]


@dataclass
class AuditToday:
    """Today's audit figures for those who read the log: all entries and failed sign-ins since local midnight."""

    day: str
    entries: int
    failed_logins: int


def audit_today(session: Session, zone: ZoneInfo) -> AuditToday:
    """Entries and failed sign-ins since midnight in the configured zone (caller checks audit.read)."""
    today = datetime.now(zone).date()
    since = datetime.combine(today, time(), zone).astimezone(UTC)
    entries = audit.audit_entries(session, audit.AuditFilter(since=since), 1, 1)[1]
    failed = audit.audit_entries(session, audit.AuditFilter(action="login.failed", since=since), 1, 1)[1]
    return AuditToday(today.isoformat(), entries, failed)


def display_name(principal: Principal) -> str:
    """How the home page greets the user: by display name."""
    return principal.shown_name


@router.get("/home", response_class=HTMLResponse)
def home_page(request: Request, session: DbSession, principal: WebUser) -> HTMLResponse:
    """The user's own numbers and the pages their role may open."""
    context: dict[str, Any] = {
        "waiting": waiting_for(session, principal),
        "groups": [],
        "total": None,
        "audit": None,
        "backup_warning": None,
    }
    if can(principal, Permission.CUSTOMER_READ):
        context["total"], context["groups"] = _classes(session, principal, language_of(request))
    if can(principal, Permission.AUDIT_READ):
        context["audit"] = audit_today(session, ZoneInfo(settings_of(request).timezone))
    if can(principal, Permission.BACKUP_MANAGE):
        context["backup_warning"] = backups.backup_warning(session, settings_of(request), clock.now())
    open_requests = []
    if can(principal, Permission.ACCESS_REQUEST):
        open_requests = [r for r in protection.list_requests(session, principal) if r.status == "pending"]
    shortcuts = [
        entry
        for entry in nav.entries_for(principal, nav.served(request))
        if entry.href != "/home" and entry.section != "user"
    ]
    return render(
        request,
        "home.html",
        greeting=display_name(principal),
        open_requests=open_requests[:OPEN_REQUESTS_SHOWN],
        open_total=len(open_requests),
        may_request=can(principal, Permission.ACCESS_REQUEST),
        shortcuts=shortcuts,
        **context,
    )


@router.get("/home/badge", response_class=HTMLResponse)
def badge(request: Request, session: DbSession, principal: WebUser) -> Response:
    """The number of approvals waiting behind one navigation entry, as a badge (nothing when none wait)."""
    waiting = waiting_for(session, principal)
    count = {QUEUE: waiting.access, PROPOSALS: waiting.proposals}.get(request.query_params.get("for", ""), 0)
    return render(request, "_nav_badge.html", count=count)
