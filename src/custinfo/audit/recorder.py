"""Turns domain events into audit-log entries, in the transaction that produced them.

Every write (EntityChanged) and every event class defined in
`custinfo.audit.events` becomes one chained entry. Values of L3 fields in
before/after are masked with the catalogue's rules before they are stored, so
the audit log never holds a sensitive value in clear.
"""

from __future__ import annotations

import dataclasses
import inspect as pyinspect
from typing import Any

from sqlalchemy.orm import Session

from custinfo.audit import chain, events
from custinfo.core.uow import DomainEvent, EntityChanged, actor_of, subscribe
from custinfo.protection.catalogue import Catalogue, current
from custinfo.protection.masking import mask_field

MASKED_LEVELS = frozenset({"L3"})


def _catalogue(session: Session) -> Catalogue:
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


def _write(session: Session, event: DomainEvent) -> None:
    actor = actor_of(session)
    if isinstance(event, EntityChanged):
        chain.append(
            session,
            actor=actor.username,
            role=actor.role,
            action=f"{event.entity}.{event.action}",
            target_type=event.entity,
            target_id=event.entity_id,
            customer_id=event.customer_id,
            details={"changes": mask_changes(_catalogue(session), event.entity, event.changes)},
            address=actor.address,
        )
        return
    details = {f.name: getattr(event, f.name) for f in dataclasses.fields(event)}
    username = actor.username
    action = event.name
    target_type: str | None = None
    target_id: Any = None
    if isinstance(event, events.LoginAttempted):
        # Before sign-in the unit of work runs as "anonymous"; the entry names the account tried.
        username = event.username if actor.username == "anonymous" else actor.username
        action = "login.succeeded" if event.succeeded else "login.failed"
        target_type, target_id = "user", event.username
    elif isinstance(event, events.AccessRequested | events.AccessDecided):
        target_type, target_id = "access_request", event.request_id
    elif isinstance(event, events.PermissionChanged):
        target_type, _, target_id = event.what.partition(":")
    elif isinstance(event, events.DataExported):
        target_type = event.what
    chain.append(
        session,
        actor=username,
        role=actor.role,
        action=action,
        target_type=target_type,
        target_id=target_id or None,
        customer_id=details.get("customer_id"),
        details=details,
        address=actor.address,
    )


def audited_event_types() -> list[type[DomainEvent]]:
    """EntityChanged and every event class declared in custinfo.audit.events."""
    declared = [
        cls
        for _name, cls in pyinspect.getmembers(events, pyinspect.isclass)
        if issubclass(cls, DomainEvent) and cls.__module__ == events.__name__
    ]
    return [EntityChanged, *declared]


def install() -> None:
    """Subscribe the audit recorder to every audited event type."""
    for event_type in audited_event_types():
        subscribe(event_type, _write)
