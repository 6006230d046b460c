"""Writes the customer change history from EntityChanged events; reads it back."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from custinfo.audit import recorder
from custinfo.audit.models import AuditEntry, ChangeRecord
from custinfo.core.db import utcnow
from custinfo.core.uow import EntityChanged, actor_of


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
    stmt = (
        select(ChangeRecord)
        .where(ChangeRecord.customer_id == customer_id)
        .order_by(ChangeRecord.id.desc())
        .limit(limit)
    )
    return list(session.scalars(stmt))


@dataclass(frozen=True)
class AuditFilter:
    """Audit-log filters: actor, customer, action (prefix match on the dotted name), time range."""

    actor: str | None = None
    customer_id: int | None = None
    action: str | None = None
    since: datetime | None = None
    until: datetime | None = None


def _filtered(filters: AuditFilter) -> Select[AuditEntry]:
    stmt = select(AuditEntry)
    if filters.actor:
        stmt = stmt.where(AuditEntry.actor == filters.actor)
    if filters.customer_id is not None:
        stmt = stmt.where(AuditEntry.customer_id == filters.customer_id)
    if filters.action:
        stmt = stmt.where(
            (AuditEntry.action == filters.action) | AuditEntry.action.startswith(f"{filters.action}.")
        )
    if filters.since:
        stmt = stmt.where(AuditEntry.occurred_at >= filters.since)
    if filters.until:
        stmt = stmt.where(AuditEntry.occurred_at < filters.until)
    return stmt


def audit_entries(
    session: Session, filters: AuditFilter, page: int = 1, size: int = 50
) -> tuple[list[AuditEntry], int]:
    """One page of entries, newest first, and the number of matches (caller checks the permission)."""
    stmt = _filtered(filters)
    rows = list(session.scalars(stmt.order_by(AuditEntry.seq.desc()).limit(size).offset((page - 1) * size)))
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    return rows, total


def all_audit_entries(session: Session, filters: AuditFilter, batch: int = 2000) -> list[AuditEntry]:
    """Every matching entry, oldest first (for export)."""
    return list(
        session.scalars(_filtered(filters).order_by(AuditEntry.seq).execution_options(yield_per=batch))
    )


def failed_logins_from(session: Session, address: str, window: timedelta) -> int:
    """Failed sign-ins from one source address within the window (for per-address throttling)."""
    stmt = select(func.count()).where(
        AuditEntry.action == "login.failed",
        AuditEntry.address == address,
        AuditEntry.occurred_at >= utcnow() - window,
    )
    return int(session.scalar(stmt) or 0)
