"""The run record: who started a run, when, and how long it took."""

from __future__ import annotations

import time as clock
from dataclasses import dataclass
from datetime import date

from sqlalchemy.orm import Session

from custinfo.classification import repository
from custinfo.classification.features import today
from custinfo.classification.models import ClassificationRun, RuleSetVersion
from custinfo.classification.rules import TagInfo
from custinfo.classification.taxonomy import tag_index
from custinfo.core.db import utcnow
from custinfo.core.uow import actor_of


def actor_name(session: Session, actor: str | None) -> str:
    """The given actor, else the unit of work's user, else "system" (a job without one)."""
    if actor:
        return actor
    try:
        return actor_of(session).username
    except RuntimeError:
        return "system"


@dataclass(frozen=True)
class Started:
    """A run just recorded as running, with what it runs on."""

    run: ClassificationRun
    version: RuleSetVersion
    tags: dict[str, TagInfo]
    as_of: date
    started: float  # perf_counter reading, for the duration


def start_run(
    session: Session,
    mode: str,
    trigger: str,
    as_of: date | None,
    actor: str | None,
    customer_id: int | None,
) -> Started:
    """Record a run of the active version as running (flushed, so its id can stamp the rows it writes).

    `as_of` defaults to today in the rule set's time zone; `actor` as `actor_name` says.
    """
    started = clock.perf_counter()
    version = repository.active_version(session)
    tags = tag_index(session)
    as_of = as_of or today(version.definition["parameters"])
    run = ClassificationRun(
        mode=mode,
        trigger=trigger,
        as_of=as_of,
        rule_set_version_id=version.id,
        customer_id=customer_id,
        started_at=utcnow(),
        status="running",
        customers=0,
        added=0,
        removed=0,
        moved=0,
        actor=actor_name(session, actor),
    )
    session.add(run)
    session.flush()
    return Started(run, version, tags, as_of, started)


def finish_run(run: ClassificationRun, started: float) -> None:
    """Mark the run done with its duration since `started` (a perf_counter reading)."""
    run.finished_at = utcnow()
    run.duration_ms = int((clock.perf_counter() - started) * 1000)
    run.status = "done"
