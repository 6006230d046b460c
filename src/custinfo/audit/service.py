"""Writes the customer change history from EntityChanged events; reads it back."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from custinfo.audit.models import ChangeRecord
from custinfo.core.uow import DomainEvent, EntityChanged, actor_of, subscribe


def _record_change(session: Session, event: DomainEvent) -> None:
    assert isinstance(event, EntityChanged)
    actor = actor_of(session)
    session.add(
        ChangeRecord(
            customer_id=event.customer_id,
            entity=event.entity,
            entity_id=event.entity_id,
            action=event.action,
            changes=event.changes,
            actor=actor.username,
            address=actor.address,
        )
    )


def install() -> None:
    """Subscribe the history recorder to the unit of work's events."""
    subscribe(EntityChanged, _record_change)


def customer_history(session: Session, customer_id: int, limit: int = 200) -> list[ChangeRecord]:
    """The newest changes of a customer and its children (caller checks scope first)."""
    stmt = (
        select(ChangeRecord)
        .where(ChangeRecord.customer_id == customer_id)
        .order_by(ChangeRecord.id.desc())
        .limit(limit)
    )
    return list(session.scalars(stmt))
