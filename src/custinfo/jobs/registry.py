"""The registry of named jobs. Concrete jobs are registered by custinfo.bootstrap; this package knows no domain."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict
from sqlalchemy.orm import Session

from custinfo.core.errors import NotFound


class NoParams(BaseModel):
    """Parameters of a job that takes none (anything sent is refused by name)."""

    model_config = ConfigDict(extra="forbid")


class Progress(Protocol):
    """What a running job reports through: how much of how much is done, and what it is doing."""

    def update(self, done: int, total: int | None = None, note: str | None = None) -> None:
        """Record progress; `note` is a message key (shown translated)."""


JobFunction = Callable[[Session, Any, Progress], dict[str, Any]]


@dataclass(frozen=True)
class Job:
    """A named job: what it does (zh/en), the callable, its parameters, when it runs, where its result lives.

    `run(session, params, progress)` works inside the runner's unit of work (flush, never commit) and
    returns a JSON-able summary. `schedule(session)` returns a 5-field cron expression in the
    configured zone, or None for a job that only runs on request. `link(result)` is the page that
    shows what the run produced, if any.
    """

    name: str
    description_zh: str
    description_en: str
    run: JobFunction
    params: type[BaseModel] = NoParams
    schedule: Callable[[Session], str | None] | None = None
    link: Callable[[dict[str, Any]], str | None] | None = None

    def description(self, language: str) -> str:
        """The description in the given language."""
        return self.description_en if language == "en" else self.description_zh


@dataclass
class Registry:
    """Jobs by name, in registration order."""

    jobs: dict[str, Job] = field(default_factory=dict)

    def register(self, job: Job) -> None:
        """Add a job, or replace the one of the same name (registering twice is harmless)."""
        self.jobs[job.name] = job

    def get(self, name: str) -> Job:
        """The job of that name (404 if none is registered)."""
        job = self.jobs.get(name)
        if job is None:
            raise NotFound("jobs.unknown", name=name)
        return job

    def all(self) -> list[Job]:
        """Every registered job."""
        return list(self.jobs.values())


registry = Registry()
