"""The navigation as one declarative list: each entry names the permissions that open its page.

The sidebar, the user menu and the classification sub-menu are all drawn from `NAV`, so a role
sees exactly the pages it may open, and every page shows the same complete menu. An entry whose
route is not served by this app (a page another part adds later) is left out rather than linking
to a 404.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from starlette.requests import Request
from starlette.routing import BaseRoute

from custinfo.auth.policy import Permission, Principal, can

P = Permission


@dataclass(frozen=True)
class NavEntry:
    """One link: where it goes, its icon and label key, and the permissions that open it (any one)."""

    href: str
    icon: str
    label: str
    section: str
    permissions: tuple[Permission, ...] = ()  # empty: every signed-in user
    sidebar: bool = True  # False: only in its section's sub-menu (classification)
    badge: bool = False  # shows the number of approvals waiting for the user


@dataclass(frozen=True)
class NavSection:
    """A heading and the entries under it that the user may open."""

    name: str
    label: str
    entries: tuple[NavEntry, ...]


SECTION_LABELS = {
    "work": "home.nav.section_work",
    "classification": "gov.nav.section",
    "protection": "protection.nav.section",
    "audit": "web.nav.section_audit",
    "admin": "web.nav.section_admin",
    "user": "home.nav.section_user",
}

_PROPOSALS = (P.PROPOSAL_READ, P.PROPOSAL_CREATE, P.PROPOSAL_REVIEW)
NAV: tuple[NavEntry, ...] = (
    NavEntry("/home", "bi-house", "home.nav.home", "work"),
    NavEntry("/customers", "bi-people", "web.nav.customers", "work", (P.CUSTOMER_READ,)),
    NavEntry("/classification/tags", "bi-tags", "gov.nav.tags", "classification", (P.CLASSIFICATION_READ,)),
    NavEntry(
        "/classification/categories", "bi-boxes", "gov.nav.categories", "classification",
        (P.CLASSIFICATION_READ,), False,
    ),
    NavEntry("/classification/rules", "bi-sliders", "gov.nav.rules", "classification", (P.PROPOSAL_CREATE,), False),
    NavEntry(
        "/classification/versions", "bi-clock-history", "gov.nav.versions", "classification",
        (P.CLASSIFICATION_READ,), False,
    ),
    NavEntry(
        "/classification/proposals", "bi-inboxes", "gov.nav.proposals", "classification", _PROPOSALS, badge=True
    ),
    NavEntry("/classification/runs", "bi-play-circle", "gov.nav.runs", "classification", (P.CLASSIFICATION_READ,), False),
    NavEntry("/classification/report", "bi-grid-3x3", "gov.nav.report", "classification", (P.CLASSIFICATION_READ,)),
    NavEntry(
        "/classification/quality", "bi-clipboard-check", "gov.nav.quality", "classification", (P.TAG_QUALITY_READ,)
    ),
    NavEntry(
        "/classification/corrections", "bi-flag", "gov.nav.corrections", "classification",
        (P.TAG_CORRECT, P.TAG_QUALITY_READ), False,
    ),
    NavEntry("/classification/settings", "bi-gear", "gov.nav.settings", "classification", (P.USER_MANAGE,), False),
    NavEntry("/access-requests", "bi-key", "protection.nav.requests", "protection", (P.ACCESS_REQUEST,)),
    NavEntry("/access-requests/queue", "bi-inbox", "protection.nav.queue", "protection", (P.ACCESS_APPROVE,), badge=True),
    NavEntry("/field-levels", "bi-shield-lock", "protection.nav.levels", "protection", (P.FIELD_LEVELS_READ,)),
    NavEntry("/audit", "bi-journal-check", "web.nav.audit", "audit", (P.AUDIT_READ,)),
    NavEntry("/admin/users", "bi-person-gear", "home.nav.users", "admin", (P.USER_MANAGE,)),
    NavEntry("/admin/departments", "bi-diagram-2", "home.nav.departments", "admin", (P.USER_MANAGE,)),
    NavEntry("/settings", "bi-sliders2", "home.nav.settings", "admin", (P.SETTINGS_MANAGE,)),
    NavEntry("/jobs", "bi-gear-wide-connected", "web.nav.jobs", "admin", (P.JOBS_MANAGE,)),
    NavEntry("/backups", "bi-database-check", "backups.nav", "admin", (P.BACKUP_MANAGE,)),
    NavEntry("/account/password", "bi-key-fill", "home.nav.password", "user"),
)  # fmt: skip


def may_open(principal: Principal, entry: NavEntry) -> bool:
    """Whether the principal's role carries one of the entry's permissions (none listed: everyone)."""
    return not entry.permissions or any(can(principal, p) for p in entry.permissions)


def _served_paths(routes: Iterable[BaseRoute]) -> Iterator[str]:
    for route in routes:
        path = getattr(route, "path", None)
        if path:
            yield str(path)
        # FastAPI includes routers lazily: an inclusion yields its own routes on demand.
        candidates = getattr(route, "effective_candidates", None)
        if candidates is not None:
            yield from _served_paths(candidates())


def served(request: Request) -> frozenset[str]:
    """The paths this app serves (computed once per app)."""
    state = request.app.state
    paths: frozenset[str] | None = getattr(state, "nav_served_paths", None)
    if paths is None:
        paths = frozenset(_served_paths(request.app.routes))
        state.nav_served_paths = paths
    return paths


def entries_for(principal: Principal, paths: frozenset[str], section: str | None = None) -> list[NavEntry]:
    """The entries the principal may open among the served paths, in menu order (one section, or all)."""
    return [
        entry
        for entry in NAV
        if (section is None or entry.section == section)
        and entry.href in paths
        and may_open(principal, entry)
    ]


def sidebar_for(principal: Principal, paths: frozenset[str]) -> list[NavSection]:
    """The sidebar's sections, each with the entries the principal may open; empty sections left out."""
    sections: dict[str, list[NavEntry]] = {}
    for entry in entries_for(principal, paths):
        if entry.sidebar and entry.section != "user":
            sections.setdefault(entry.section, []).append(entry)
    return [NavSection(name, SECTION_LABELS[name], tuple(items)) for name, items in sections.items()]


def is_current(path: str, entry: NavEntry) -> bool:
    """Whether the page at `path` belongs to the entry (the entry itself or a page under it)."""
    if entry.href == "/access-requests":  # the queue lives under it but is its own entry
        return path == entry.href
    return path == entry.href or path.startswith(entry.href + "/")
