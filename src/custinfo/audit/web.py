"""The auditor's pages: the audit log with filters and paging, and its CSV export.

Entries are shown in words: the action ("修改订单", "登录失败"), the object, and the details as a
table of changed fields by label (values through the reader's field view, as the service shapes
them) or as labelled lines for other events. No stored code reaches the screen; an action or key
this page does not know is named generically rather than shown raw.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from custinfo.audit import service
from custinfo.audit.api import csv_response, export_csv
from custinfo.auth import service as accounts
from custinfo.auth.deps import DbSession, WebPrincipal, language_of, settings_of
from custinfo.auth.policy import Permission, require
from custinfo.backup.words import size_text
from custinfo.core.errors import FieldError, Invalid
from custinfo.core.i18n import translate
from custinfo.core.pagination import page_count
from custinfo.web.templating import render

router = APIRouter(include_in_schema=False)
PAGE_SIZE = 50

# Entities whose rows are tracked (EntityChanged → "<entity>.<verb>") and the named events, in the
# order the action filter offers them. A filter value is a prefix of the stored action.
ENTITIES = ("customer", "contact", "need", "order", "contract", "interaction", "user", "department")
VERBS = ("create", "update", "delete")
EVENTS = (
    "login.succeeded",
    "login.failed",
    "sensitive_read",
    "sensitive_read.search",
    "access_requested",
    "access_decided",
    "proposal_decided",
    "permission_changed",
    "export",
)
FILTER_ACTIONS = (*ENTITIES, "login", "sensitive_read", "access_requested", "access_decided",
                  "proposal_decided", "permission_changed", "export")  # fmt: skip
# Detail keys that name the entry itself (shown as actor, action, object or customer), not repeated.
SELF_KEYS = frozenset({"username", "succeeded", "request_id", "proposal_id", "customer_id", "requester"})


@dataclass
class Change:
    """One changed field: its label, its name (for value labels), old and new values, whether hidden."""

    label: str
    name: str
    old: Any
    new: Any
    hidden: bool


@dataclass
class Shown:
    """One audit entry in words."""

    seq: int
    occurred_at: datetime
    actor: str
    actor_username: str
    role: str | None
    action: str
    verb: str | None
    target: str
    customer_id: int | None
    address: str | None
    changes: list[Change] = field(default_factory=list)
    notes: list[tuple[str, str]] = field(default_factory=list)


# Objects the audit log names by their own name rather than a number or a field.
NAMED_TARGETS = frozenset({"backup", "product_category"})


class Words:
    """Translation helpers for one language and time zone."""

    def __init__(self, language: str, zone: ZoneInfo) -> None:
        self.language = language
        self.zone = zone

    def t(self, key: str, **params: Any) -> str:
        """The message for `key`."""
        return translate(key, self.language, **params)

    def known(self, key: str) -> str | None:
        """The message for `key`, or None when there is none."""
        text = translate(key, self.language)
        return None if text == key else text

    def entity(self, name: str) -> str:
        """A record kind in words."""
        return (
            self.known(f"web.entity.{name}")
            or self.known(f"audit.entity.{name}")
            or self.t("audit.entity.other")
        )

    def field(self, name: str) -> str:
        """A field's label (a stored column under another name reads as the field it holds)."""
        source = service.STORED_AS.get("customer", {}).get(name, name)
        return self.known(f"field.{source}") or self.known(f"audit.key.{name}") or self.t("audit.key.other")

    def action(self, action: str) -> tuple[str, str | None]:
        """The action in words, and the change verb when the entry is a tracked change."""
        entity, _, verb = action.rpartition(".")
        if verb in VERBS and entity and "." not in entity:
            kind = self.entity(entity) if self.language == "zh_CN" else self.entity(entity).lower()
            return self.t("audit.action.changed", verb=self.t(f"audit.verb.{verb}"), entity=kind), verb
        return self.known(f"audit.action.{action}") or self.t("audit.action.other"), None

    def when(self, value: str) -> str:
        """A stored ISO instant in the configured zone."""
        try:
            instant = datetime.fromisoformat(value)
        except ValueError:
            return value
        if instant.tzinfo is None:
            instant = instant.replace(tzinfo=UTC)
        return instant.astimezone(self.zone).strftime("%Y-%m-%d %H:%M")

    def value(self, value: Any) -> str:
        """Any stored detail value in words: booleans, instants, codes with a label, lists, mappings."""
        if value is None or value == "":
            return "—"
        if isinstance(value, bool):
            return self.t(f"web.bool.{str(value).lower()}")
        if isinstance(value, list | tuple):
            return (
                "、".join(self.value(v) for v in value)
                if self.language == "zh_CN"
                else ", ".join(self.value(v) for v in value)
            )
        if isinstance(value, dict):
            return "；".join(f"{self.field(str(k))}: {self.value(v)}" for k, v in value.items())
        text = str(value)
        if len(text) >= 19 and text[4:5] == "-" and text[10:11] == "T":
            return self.when(text)
        return self.known(f"audit.value.{text}") or self.known(f"field.{text}") or text

    def target(self, target_type: str | None, target_id: str | None) -> str:
        """The object of the entry: its kind in words and its number or name."""
        if not target_type:
            return ""
        if target_type == "field_level" and target_id:
            entity, _, name = target_id.partition(".")
            return f"{self.t('audit.entity.field_level')} · {self.entity(entity)} · {self.field(name)}"
        if target_type == "user" and target_id:
            username, _, aspect = target_id.partition(".")
            label = f"{self.entity('user')} {username}"
            return (
                f"{label} · {self.known(f'audit.key.{aspect}') or self.t('audit.key.other')}"
                if aspect
                else label
            )
        if target_type in NAMED_TARGETS and target_id:  # an archive's file name, a category's name
            return f"{self.entity(target_type)} {target_id}"
        if not target_id:  # a setting changed as a whole (grant days, L3 lookups)
            return (
                self.known(f"audit.entity.{target_type}")
                or self.known(f"audit.key.{target_type}")
                or self.entity(target_type)
            )
        kind = self.entity(target_type)
        if target_id.isdigit():
            return f"{kind} #{target_id}"
        return f"{kind} · {self.known(f'audit.key.{target_id}') or self.field(target_id)}"

    def backup_notes(self, action: str, details: dict[str, Any]) -> list[tuple[str, str]]:
        """A backup event's details: kind, size, rows, why a verification failed, what a restore brought back."""
        if action == "backup.verify_failed":
            params = {k: v for k, v in details.items() if k != "failure"}
            reason = self.known(str(details.get("failure"))) and self.t(str(details["failure"]), **params)
            return [(self.t("audit.key.reason"), reason or self.t("backups.failure.unknown"))]
        notes: list[tuple[str, str]] = []
        for key, raw in details.items():
            if raw is None:
                continue
            if key == "kind":
                notes.append(
                    (self.t("backups.field.kind"), self.known(f"backups.kind.{raw}") or self.value(raw))
                )
            elif key == "size_bytes" and isinstance(raw, int):
                notes.append((self.t("backups.col.size"), size_text(raw)))
            elif key == "rows":
                notes.append((self.t("audit.key.row_count"), self.value(raw)))
            elif key == "from_revision":  # "0017_backups": its number is what an operator compares
                notes.append((self.t("audit.key.from_revision"), str(raw).split("_", 1)[0]))
            else:
                notes.append((self.known(f"audit.key.{key}") or self.field(key), self.value(raw)))
        return notes

    def notes(self, action: str, details: dict[str, Any]) -> list[tuple[str, str]]:
        """The details of an event that is not a tracked change, as labelled lines."""
        if action.startswith("backup."):
            return self.backup_notes(action, details)
        notes: list[tuple[str, str]] = []
        for key, raw in details.items():
            if key in SELF_KEYS or key == service.HIDDEN_FIELDS or raw is None or raw == {}:
                continue
            if key == "reason" and action.startswith("login."):
                text = self.known(str(raw)) if raw else None
                notes.append((self.t("audit.key.reason"), text or self.value(raw)))
            elif key in ("fields", "field"):
                names = raw if isinstance(raw, list | tuple) else [raw]
                notes.append((self.t("audit.key.fields"), self.value([self.field(str(n)) for n in names])))
            elif key == "target" and isinstance(raw, str) and ":" in raw:
                kind, _, ident = raw.partition(":")
                shown = (
                    self.t("home.request_level", level=ident)
                    if kind == "level"
                    else self.t("home.request_customer", id=ident)
                )
                notes.append((self.t("audit.key.target"), shown))
            elif key == "what" and action == "export":
                notes.append((self.t("audit.key.what"), self.entity(str(raw))))
            elif key == "kind" and action == "proposal_decided":
                notes.append((self.t("audit.key.kind"), self.known(f"gov.kind.{raw}") or self.value(raw)))
            elif key == "what":
                continue  # a permission change names its object in the target column
            else:
                notes.append((self.known(f"audit.key.{key}") or self.field(key), self.value(raw)))
        return notes


def _people(session: Session, usernames: set[str]) -> dict[str, str]:
    """How each actor is shown: their display name (the username is on hover); system actors as they are."""
    return accounts.display_names(session, usernames)


def shown_rows(session: Session, rows: list[dict[str, Any]], words: Words) -> list[Shown]:
    """Entries (as the service shaped them for the reader) in words."""
    people = _people(session, {str(r["actor"]) for r in rows})
    shown = []
    for row in rows:
        action, verb = words.action(str(row["action"]))
        details: dict[str, Any] = row["details"] or {}
        if str(row["action"]).startswith("backup.") and isinstance(details.get("details"), dict):
            # A backup event's envelope repeats the action and the file (shown as action and object).
            details = dict(details["details"])
            if row["action"] == "backup.policy_changed":
                verb = "update"  # its changes are [before, after]: show both columns
        entry = Shown(
            seq=row["seq"],
            occurred_at=row["occurred_at"],
            actor=people.get(str(row["actor"]), str(row["actor"])),
            actor_username=str(row["actor"]),
            role=row["role"],
            action=action,
            verb=verb,
            target=words.target(row["target_type"], row["target_id"]),
            customer_id=row["customer_id"],
            address=row["address"],
        )
        changes = details.get("changes")
        if isinstance(changes, dict):
            hidden = set(details.get(service.HIDDEN_FIELDS) or [])
            for name, pair in changes.items():
                values = list(pair) if isinstance(pair, list | tuple) else [None, pair]
                old, new = [*values, None, None][:2]
                if verb == "delete":  # a deletion records the values it removed as "old"
                    old, new = None, old
                entry.changes.append(Change(words.field(name), name, old, new, name in hidden))
        else:
            entry.notes = words.notes(str(row["action"]), details)
        shown.append(entry)
    return shown


def _day(request: Request, name: str, value: str | None, end: bool = False) -> datetime | None:
    """A local calendar day from the form as a UTC instant (the start of the day, or of the next one)."""
    if not value:
        return None
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise Invalid([FieldError(name, "date.format")]) from None
    if end:
        day += timedelta(days=1)
    zone = ZoneInfo(settings_of(request).timezone)
    return datetime.combine(day, time(), zone).astimezone(UTC)


def _filters(request: Request) -> tuple[service.AuditFilter, dict[str, str]]:
    params = {k: v.strip() for k, v in request.query_params.items() if k != "page" and v.strip()}
    customer = params.get("customer_id")
    if customer is not None and not customer.isdigit():
        raise Invalid([FieldError("customer_id", "integer.format")])
    filters = service.AuditFilter(
        actor=params.get("actor"),
        customer_id=int(customer) if customer else None,
        action=params.get("action"),
        since=_day(request, "since", params.get("since")),
        until=_day(request, "until", params.get("until"), end=True),
    )
    return filters, params


@router.get("/audit", response_class=HTMLResponse)
def audit_page(request: Request, session: DbSession, principal: WebPrincipal, page: int = 1) -> Response:
    """The audit log in words, newest first, filtered by actor, customer, action and day range."""
    require(principal, Permission.AUDIT_READ)
    filters, params = _filters(request)
    page = max(page, 1)
    rows, total = service.audit_entries(session, filters, page, PAGE_SIZE)
    pages = page_count(total, PAGE_SIZE)
    query = urlencode(params)
    words = Words(language_of(request), ZoneInfo(settings_of(request).timezone))
    actions = [(code, words.entity(code) if code in ENTITIES else words.t(f"audit.filter.{code}"))
               for code in FILTER_ACTIONS]  # fmt: skip
    return render(
        request,
        "audit/list.html",
        entries=shown_rows(session, service.shown_entries(session, principal, rows), words),
        total=total,
        page=page,
        pages=pages,
        params=params,
        query=query,
        actions=actions,
        actor_name=_people(session, {params["actor"]}).get(params["actor"], "")
        if params.get("actor")
        else "",
    )


@router.get("/audit/export.csv", response_class=Response)
def audit_export(request: Request, session: DbSession, principal: WebPrincipal) -> Response:
    """The filtered audit log as CSV (the export is itself audited)."""
    filters, _params = _filters(request)
    return csv_response(export_csv(session, principal, filters))
