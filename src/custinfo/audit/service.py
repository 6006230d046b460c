"""Writes the customer change history from EntityChanged events; reads it back."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm import Session

from custinfo.audit import recorder, repository
from custinfo.audit.models import AuditEntry, ChangeRecord
from custinfo.audit.repository import AuditFilter
from custinfo.core.pagination import PageParams
from custinfo.core.uow import EntityChanged, actor_of

__all__ = [
    "AuditFilter",
    "all_audit_entries",
    "append_entry",
    "audit_entries",
    "customer_history",
    "failed_logins_from",
    "record_change",
]


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
