"""All SQL of the audit domain: the change history and the audit log, read back."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from custinfo.audit.models import AuditEntry, ChangeRecord
from custinfo.core.db import utcnow
from custinfo.core.pagination import PageParams, fetch_page


@dataclass(frozen=True)
class AuditFilter:
    """Audit-log filters: actor, customer, action (prefix match on the dotted name), time range."""

    actor: str | None = None
    customer_id: int | None = None
    action: str | None = None
    since: datetime | None = None
    until: datetime | None = None


def changes_of(session: Session, customer_id: int, limit: int) -> list[ChangeRecord]:
    """The newest `limit` change records of a customer and its children."""
    stmt = (
        select(ChangeRecord)
        .where(ChangeRecord.customer_id == customer_id)
        .order_by(ChangeRecord.id.desc())
        .limit(limit)
    )
    return list(session.scalars(stmt))


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


def entries(session: Session, filters: AuditFilter, params: PageParams) -> tuple[list[AuditEntry], int]:
    """One page of matching entries, newest first, and the exact number of matches."""
    rows, total, _ = fetch_page(
        session, _filtered(filters), params, order_by=(AuditEntry.seq.desc(),), cap=None
    )
    return rows, total


def all_entries(session: Session, filters: AuditFilter, batch: int) -> list[AuditEntry]:
    """Every matching entry, oldest first, fetched `batch` rows at a time."""
    return list(
        session.scalars(_filtered(filters).order_by(AuditEntry.seq).execution_options(yield_per=batch))
    )


def actions_by(session: Session, actor: str, action: str, window: timedelta) -> int:
    """Entries of one action by one actor within the window."""
    stmt = select(func.count()).where(
        AuditEntry.actor == actor,
        AuditEntry.action == action,
        AuditEntry.occurred_at >= utcnow() - window,
    )
    return int(session.scalar(stmt) or 0)


def failed_logins_from(session: Session, address: str, window: timedelta) -> int:
    """Failed sign-ins from one source address within the window."""
    stmt = select(func.count()).where(
        AuditEntry.action == "login.failed",
        AuditEntry.address == address,
        AuditEntry.occurred_at >= utcnow() - window,
    )
    return int(session.scalar(stmt) or 0)
