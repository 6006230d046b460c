"""The classification jobs: a full run with the active rule set, daily and on demand (rule changes, "run now")."""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict
from sqlalchemy.orm import Session

from custinfo.classification import service as classification
from custinfo.core.uow import actor_of
from custinfo.jobs.registry import Job, Progress
from custinfo.jobs.runner import SYSTEM_REQUESTERS


class ClassifyParams(BaseModel):
    """Parameters of the `classify` job."""

    model_config = ConfigDict(extra="forbid")

    as_of: date | None = None
    trigger: Literal["manual", "rules"] = "manual"


def classify(session: Session, params: ClassifyParams, progress: Progress) -> dict[str, Any]:
    """A full classification run with the active rule set, as of `as_of` (default today)."""
    actor = actor_of(session).username
    progress.update(0, 1, "jobs.note.classifying")
    run = classification.run_full(
        session,
        as_of=params.as_of,
        trigger=actor if actor in SYSTEM_REQUESTERS else params.trigger,
        actor=actor,
    )
    progress.update(1, 1, "jobs.note.done")
    return {
        "classification_run": run.id,
        "as_of": run.as_of.isoformat(),
        "customers": run.customers,
        "added": run.added,
        "removed": run.removed,
        "moved": run.moved,
    }


def classify_schedule(session: Session) -> str:
    """Daily at the active rule set's `daily_run_at` (HH:MM, configured zone) as a cron expression."""
    parameters = classification.current_rule_set(session).definition.get("parameters", {})
    hour, _, minute = str(parameters.get("daily_run_at", "02:00")).partition(":")
    return f"{int(minute or 0)} {int(hour)} * * *"


def classification_run_link(result: dict[str, Any]) -> str | None:
    """The classification run a `classify` job produced."""
    run_id = result.get("classification_run")
    return f"/classification/runs/{run_id}" if run_id else None


CLASSIFY = Job(
    name="classify",
    description_zh="按当前规则集为全部客户重新打标签",
    description_en="Re-tag every customer with the active rule set",
    run=classify,
    params=ClassifyParams,
    schedule=classify_schedule,
    link=classification_run_link,
)
