"""Unit of work: one transaction per request/command/job, with domain events.

The caller (API dependency, CLI command, job runner) opens the unit of work and
owns commit/rollback; services only flush. Domain events recorded during the
unit of work are dispatched to their subscribers at the settle point — when the
caller calls `settle(session)` before building a response, and in any case just
before commit — inside the same transaction, so a change and its audit/history
rows land together or not at all. Changes to tracked entities (customers and
their children) are turned into `EntityChanged` events automatically after each
flush, so no code path can forget to record history. Which handlers run for
which event is wired in one place: `custinfo.bootstrap.wire()`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, ClassVar

from sqlalchemy import event, inspect
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.exc import StaleDataError

from custinfo.core.db import utcnow
from custinfo.core.errors import Conflict, DomainError, UniqueTaken
from custinfo.core.jsonable import jsonable


@dataclass(frozen=True)
class Actor:
    """Who is acting: a user, or the system (jobs, demo loader)."""

    username: str
    user_id: int | None = None
    role: str | None = None
    address: str | None = None

    @classmethod
    def system(cls, name: str = "system") -> Actor:
        """An actor for jobs and commands that no user started."""
        return cls(username=name, role="system")


@dataclass(frozen=True)
class DomainEvent:
    """Base of everything that happened and must be recorded."""

    name: ClassVar[str] = "event"

    def audit_actor(self, acting: str) -> str:
        """Who the audit entry names (the acting user, unless the event knows better)."""
        return acting

    def audit_action(self) -> str:
        """The audit entry's action."""
        return self.name

    def audit_target(self) -> tuple[str | None, Any]:
        """The audit entry's target (type, id), if the event has one."""
        return None, None


@dataclass(frozen=True)
class EntityChanged(DomainEvent):
    """A tracked row was created, updated or deleted; `changes` maps field → [old, new]."""

    name: ClassVar[str] = "entity_changed"
    entity: str
    entity_id: int
    customer_id: int | None
    action: str  # create | update | delete
    changes: dict[str, list[Any]] = field(default_factory=dict)


class Tracked:
    """Mixin marking an entity whose changes are recorded in the customer's history."""

    __history_entity__: ClassVar[str] = ""
    __history_exclude__: ClassVar[frozenset[str]] = frozenset(
        {"created_at", "updated_at", "created_by", "updated_by", "version"}
    )

    def history_customer_id(self) -> int | None:
        """Which customer's history this change belongs to."""
        return getattr(self, "customer_id", None)


@dataclass(frozen=True)
class Settle(DomainEvent):
    """Marker dispatched after the queue is drained: handlers that batch work per transaction run here."""

    name: ClassVar[str] = "settle"


Handler = Callable[[Session, Any], None]
_subscribers: dict[type[DomainEvent], list[Handler]] = defaultdict(list)
MAX_ROUNDS = 10


def subscribe(event_type: type[DomainEvent], handler: Handler) -> None:
    """Register a handler run inside the transaction for each event of that type (bootstrap.wire only)."""
    if handler not in _subscribers[event_type]:
        _subscribers[event_type].append(handler)


def unsubscribe_all() -> None:
    """Forget every handler (bootstrap.wire starts from a clean table)."""
    _subscribers.clear()


def pending(session: Session, key: str) -> set[Any]:
    """A per-transaction set a handler fills to batch its work until the settle point; cleared on rollback."""
    buckets: dict[str, set[Any]] = session.info.setdefault("pending", {})
    return buckets.setdefault(key, set())


def record(session: Session, domain_event: DomainEvent) -> None:
    """Queue a domain event; it is dispatched before the unit of work commits."""
    session.info.setdefault("events", []).append(domain_event)


def actor_of(session: Session) -> Actor:
    """The actor this unit of work runs for."""
    actor = session.info.get("actor")
    if actor is None:
        raise RuntimeError("unit of work has no actor")
    return actor


@contextmanager
def unit_of_work(factory: sessionmaker[Session], actor: Actor) -> Iterator[Session]:
    """Open a session for `actor`; commit if the block succeeds, roll back otherwise.

    A versioned UPDATE or DELETE that matched no row (another transaction saved the same version
    first, which PostgreSQL detects only when the row lock is released) is the same stale edit
    `check_version` refuses: rolled back and raised as a 409, never a 500; so is a unique value
    that a concurrent request saved first.
    """
    session = factory()
    session.info["actor"] = actor
    try:
        yield session
        session.commit()
    except StaleDataError:
        session.rollback()
        raise Conflict("error.stale_concurrent") from None
    except IntegrityError as error:
        # Two requests passed the same uniqueness check at once (an external id, a name): the second
        # commit hits the unique index. That is a conflict to retry, not a server error.
        session.rollback()
        if is_unique_violation(error):
            raise UniqueTaken() from None
        raise
    except DomainError as error:
        # A refusal whose record must survive it (a failed sign-in counts towards lock-out).
        if error.keeps_writes:
            session.commit()
        else:
            session.rollback()
        raise
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def is_unique_violation(error: IntegrityError) -> bool:
    """Whether the database refused a write because a unique index already holds the value."""
    sqlstate = getattr(error.orig, "sqlstate", None)  # psycopg
    return sqlstate == "23505" or "UNIQUE constraint failed" in str(error.orig)  # PostgreSQL / SQLite


def _changes(obj: Tracked, action: str) -> dict[str, list[Any]]:
    state = inspect(obj)
    result: dict[str, list[Any]] = {}
    for attr in state.mapper.column_attrs:
        key = attr.key
        if key in obj.__history_exclude__ or key == "id":
            continue
        hist = state.attrs[key].history
        if action == "create":
            value = getattr(obj, key)
            if value is not None:
                result[key] = [None, jsonable(value)]
        elif action == "delete":
            value = hist.unchanged[0] if hist.unchanged else (hist.deleted[0] if hist.deleted else None)
            if value is not None:
                result[key] = [jsonable(value), None]
        elif hist.has_changes():
            old = hist.deleted[0] if hist.deleted else None
            new = hist.added[0] if hist.added else None
            if old != new:
                result[key] = [jsonable(old), jsonable(new)]
    return result


@event.listens_for(Session, "before_flush")
def _stamp(session: Session, _ctx: Any, _instances: Any) -> None:
    actor = session.info.get("actor")
    if actor is None:
        return
    now = utcnow()
    for obj in session.new:
        if hasattr(obj, "created_by") and obj.created_by is None:
            obj.created_by = actor.username
            obj.updated_by = actor.username
    for obj in session.dirty:
        if hasattr(obj, "updated_by") and session.is_modified(obj, include_collections=False):
            obj.updated_by = actor.username
            obj.updated_at = now


@event.listens_for(Session, "after_flush")
def _track(session: Session, _ctx: Any) -> None:
    for action, objects in (("create", session.new), ("update", session.dirty), ("delete", session.deleted)):
        for obj in objects:
            if not isinstance(obj, Tracked):
                continue
            if action == "update" and not session.is_modified(obj, include_collections=False):
                continue
            changes = _changes(obj, action)
            if action == "update" and not changes:
                continue
            record(
                session,
                EntityChanged(
                    entity=obj.__history_entity__,
                    entity_id=obj.id,  # type: ignore[attr-defined]
                    customer_id=obj.history_customer_id(),
                    action=action,
                    changes=changes,
                ),
            )


def _dispatch(session: Session, domain_event: DomainEvent) -> None:
    for event_type, handlers in list(_subscribers.items()):
        if isinstance(domain_event, event_type):
            for handler in handlers:
                handler(session, domain_event)


def settle(session: Session) -> None:
    """Run the handlers of every queued event, then the settle handlers, until nothing is left.

    Called by an edge before it builds a response from derived state (tags, codes), and by
    the unit of work before commit; a second call with nothing queued does nothing.
    """
    # Handlers may add rows (and so new events): loop until the queue is drained.
    for _ in range(MAX_ROUNDS):
        session.flush()
        events = session.info.pop("events", [])
        for domain_event in events:
            _dispatch(session, domain_event)
        session.flush()
        if not events and not any(session.info.get("pending", {}).values()):
            return
        if not session.info.get("events"):
            _dispatch(session, Settle())
    raise RuntimeError("domain event handlers keep producing events")


@event.listens_for(Session, "before_commit")
def _settle_before_commit(session: Session) -> None:
    settle(session)


@event.listens_for(Session, "after_rollback")
def _discard(session: Session) -> None:
    session.info.pop("events", None)
    session.info.pop("pending", None)
