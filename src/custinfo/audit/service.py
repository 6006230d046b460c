"""Writes the customer change history from EntityChanged events; reads it and the audit log back.

The audit log is shown (API list, web page, both CSV exports) through `shown_entries` only: the
stored entries are sealed and never change, what leaves is each change seen through the viewer's
field view.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from sqlalchemy.orm import Session

from custinfo.audit import recorder, repository
from custinfo.audit.models import AuditEntry, ChangeRecord
from custinfo.audit.repository import AuditFilter
from custinfo.auth.policy import Principal
from custinfo.core.pagination import PageParams
from custinfo.core.uow import EntityChanged, actor_of
from custinfo.protection.views import FieldView, view_for

__all__ = [
    "AuditFilter",
    "all_audit_entries",
    "append_entry",
    "audit_entries",
    "customer_history",
    "failed_logins_from",
    "record_change",
    "shown_details",
    "shown_entries",
]

HIDDEN_FIELDS = "hidden_fields"
ENTRY_COLUMNS = (
    "seq", "occurred_at", "actor", "role", "action", "target_type", "target_id", "customer_id", "address",
    "prev_hash", "hash",
)  # fmt: skip
# Columns a change records under another name than the catalogue's field they hold or derive from (the
# birth year is kept in clear beside the encrypted birth date): shown only where that field is clear.
STORED_AS = {"customer": {"owner_id": "owner", "department_id": "department", "birth_year": "birth_date"}}


def record_change(session: Session, event: EntityChanged) -> None:
    """Write one row of the customer's change history."""
    actor = actor_of(session)
    session.add(
        ChangeRecord(
            customer_id=event.customer_id,
            entity=event.entity,
            entity_id=event.entity_id,
            action=event.action,
            # L3 values are masked here too: the history table must not hold them in clear.
            changes=recorder.mask_changes(recorder.catalogue_of(session), event.entity, event.changes),
            actor=actor.username,
            address=actor.address,
        )
    )


append_entry = recorder.append_entry


def customer_history(session: Session, customer_id: int, limit: int = 200) -> list[ChangeRecord]:
    """The newest changes of a customer and its children (caller checks scope first)."""
    return repository.changes_of(session, customer_id, limit)


def audit_entries(
    session: Session, filters: AuditFilter, page: int = 1, size: int = 50
) -> tuple[list[AuditEntry], int]:
    """One page of entries, newest first, and the number of matches (caller checks the permission)."""
    return repository.entries(session, filters, PageParams(page, size))


def all_audit_entries(session: Session, filters: AuditFilter, batch: int = 2000) -> list[AuditEntry]:
    """Every matching entry, oldest first (for export)."""
    return repository.all_entries(session, filters, batch)


def failed_logins_from(session: Session, address: str, window: timedelta) -> int:
    """Failed sign-ins from one source address within the window (for per-address throttling)."""
    return repository.failed_logins_from(session, address, window)


def actions_by(session: Session, actor: str, action: str, window: timedelta) -> int:
    """Audit entries of one action by one actor within the window (for per-user rate limits)."""
    return repository.actions_by(session, actor, action, window)


def shown_details(view: FieldView, entry: AuditEntry) -> dict[str, Any]:
    """An entry's details as the view allows: each change's values clear, masked, or null and named as hidden.

    A hidden field keeps its name in `changes` (that it changed, when and by whom is the auditor's
    business) with both values null, and is listed under `hidden_fields`; so is a `STORED_AS` column
    unless its field is clear. Masked fields are masked (values stored masked are not masked twice);
    clear L2/L3 values are logged as sensitive reads of the entry's customer. Entries without changes
    carry no customer field values (see docs/security.md) and are shown as stored.
    """
    details = dict(entry.details or {})
    changes, entity = details.get("changes"), entry.target_type
    if not isinstance(changes, dict) or not entity:
        return details
    rules = view.rules(entity)
    sources = STORED_AS.get(entity, {})
    hidden: list[str] = []
    for name in changes:
        rule = rules.get(str(sources.get(name) or name))
        if rule is not None and (rule.state == "hidden" or (name in sources and rule.state != "clear")):
            hidden.append(name)
    shaped = view.shape_changes(
        entity, {k: v for k, v in changes.items() if k not in hidden}, entry.customer_id
    )
    details["changes"] = {
        name: shaped[name] if name in shaped else [None] * len(pair) for name, pair in changes.items()
    }
    details[HIDDEN_FIELDS] = hidden
    return details


def shown_entries(
    session: Session, principal: Principal, entries: Iterable[AuditEntry]
) -> list[dict[str, Any]]:
    """Audit entries as plain rows for the viewer, their details shaped by `shown_details` (entries untouched)."""
    view = view_for(session, principal)
    return [
        {
            **{column: getattr(entry, column) for column in ENTRY_COLUMNS},
            "details": shown_details(view, entry),
        }
        for entry in entries
    ]
