"""Subscribers that keep tags and codes current: a customer whose inputs changed is re-classified once.

Wired in `custinfo.bootstrap`. A change to any table the features read queues
the customer; at the settle point (before the response is built, and before
commit) each queued customer gets one incremental run in the same transaction.
The engine writes with Core SQL, so re-classification raises no further events.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from custinfo.activity.events import EngagementRecorded
from custinfo.classification import engine, repository
from custinfo.core.uow import EntityChanged, Settle, pending

# The tracked tables classification.features reads (engagement events are not tracked: see below).
FEATURE_INPUTS = frozenset({"customer", "need", "order", "contract", "interaction"})
QUEUE = "reclassify"


def note_input_changed(session: Session, event: EntityChanged) -> None:
    """Queue the customer for one incremental run when a table the features read changed."""
    if event.entity not in FEATURE_INPUTS or event.customer_id is None:
        return
    if event.entity == "customer" and event.action == "delete":
        return  # the customer is gone: forget_deleted_customer removes what was derived for it
    pending(session, QUEUE).add(event.customer_id)


def forget_deleted_customer(session: Session, event: EntityChanged) -> None:
    """Delete a deleted customer's assignments, state and queued re-classification, in its transaction."""
    if event.entity != "customer" or event.action != "delete" or event.customer_id is None:
        return
    pending(session, QUEUE).discard(event.customer_id)
    repository.forget_customer(session, event.customer_id)


def note_engagement(session: Session, event: EngagementRecorded) -> None:
    """Queue the customer whose engagement log grew."""
    pending(session, QUEUE).add(event.customer_id)


def reclassify_noted(session: Session, _event: Settle) -> None:
    """Run each queued customer once, in this transaction."""
    queued = pending(session, QUEUE)
    customer_ids = sorted(queued)
    queued.clear()
    for customer_id in customer_ids:
        engine.run_incremental(session, customer_id, trigger="event")
