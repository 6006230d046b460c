"""The run record: who started a run, when, and how long it took."""

from __future__ import annotations

import time as clock
from datetime import date

from sqlalchemy.orm import Session

from custinfo.classification.models import ClassificationRun
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


def start_run(
    session: Session,
    mode: str,
    trigger: str,
    as_of: date,
    version_id: int,
    actor: str,
    customer_id: int | None,
) -> ClassificationRun:
    """Record a run as running (flushed, so its id can stamp the rows it writes)."""
    run = ClassificationRun(
        mode=mode,
        trigger=trigger,
        as_of=as_of,
        rule_set_version_id=version_id,
        customer_id=customer_id,
        started_at=utcnow(),
        status="running",
        customers=0,
        added=0,
        removed=0,
        moved=0,
        actor=actor,
    )
    session.add(run)
    session.flush()
    return run


def finish_run(run: ClassificationRun, started: float) -> None:
    """Mark the run done with its duration since `started` (a perf_counter reading)."""
    run.finished_at = utcnow()
    run.duration_ms = int((clock.perf_counter() - started) * 1000)
    run.status = "done"
