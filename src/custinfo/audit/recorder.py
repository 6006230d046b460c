"""Turns domain events into audit-log entries, in the transaction that produced them.

Every write (EntityChanged) and every audited event (the list is in
`custinfo.bootstrap`) becomes one chained entry; an event says its own action
and target (`DomainEvent.audit_action` / `audit_target`). Values of L3 fields in
before/after are masked with the catalogue's rules before they are stored, so
the audit log never holds a sensitive value in clear.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from sqlalchemy.orm import Session

from custinfo.audit import anchor, chain
from custinfo.core.uow import DomainEvent, EntityChanged, actor_of
from custinfo.protection.catalogue import Catalogue, current
from custinfo.protection.masking import mask_field

MASKED_LEVELS = frozenset({"L3"})


def catalogue_of(session: Session) -> Catalogue:
    """The field catalogue, read once per transaction."""
    cached = session.info.get("audit_catalogue")
    if cached is None:
        cached = current(session)
        session.info["audit_catalogue"] = cached
    return cached


def mask_changes(catalogue: Catalogue, entity: str, changes: dict[str, list[Any]]) -> dict[str, list[Any]]:
    """field → [old, new] with the values of L3 fields masked."""
    fields = catalogue.fields(entity)
    masked: dict[str, list[Any]] = {}
    for name, pair in changes.items():
        spec = fields.get(name)
        if spec and spec.get("level") in MASKED_LEVELS:
            masked[name] = [mask_field(v, spec.get("type", "text"), catalogue.masks) for v in pair]
        else:
            masked[name] = list(pair)
    return masked


def append_entry(session: Session, event: DomainEvent) -> None:
    """Append one chained audit entry for the event (L3 values in changes masked)."""
    actor = actor_of(session)
    if isinstance(event, EntityChanged):
        head = chain.append(
            session,
            actor=actor.username,
            role=actor.role,
            action=f"{event.entity}.{event.action}",
            target_type=event.entity,
            target_id=event.entity_id,
            customer_id=event.customer_id,
            details={"changes": mask_changes(catalogue_of(session), event.entity, event.changes)},
            address=actor.address,
        )
        anchor.note(session, head)
        return
    details = {f.name: getattr(event, f.name) for f in dataclasses.fields(event)}
    target_type, target_id = event.audit_target()
    head = chain.append(
        session,
        actor=event.audit_actor(actor.username),
        role=actor.role,
        action=event.audit_action(),
        target_type=target_type,
        target_id=target_id or None,
        customer_id=details.get("customer_id"),
        details=details,
        address=actor.address,
    )
    anchor.note(session, head)
