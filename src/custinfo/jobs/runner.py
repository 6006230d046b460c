"""Running jobs: claim a queued run, run it in its own unit of work, record progress and the outcome.

The runner owns each job's transaction (the job itself only flushes). Progress goes through a separate
short transaction so pages can poll it while the job's transaction is still open. On SQLite, whose one
writer is the job itself until it commits (every transaction there begins IMMEDIATE), a second writer
would wait for the job: there progress is kept in memory for the caller (the CLI's bar) and written
with the outcome. `Runner` is the worker thread plus APScheduler that `custinfo serve` runs.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from sqlalchemy.orm import Session, sessionmaker

from custinfo.core.db import utcnow
from custinfo.core.errors import Conflict, DomainError, Invalid, UniqueTaken
from custinfo.core.uow import Actor, unit_of_work
from custinfo.jobs import repository, service
from custinfo.jobs.models import JobRun
from custinfo.jobs.registry import registry

logger = logging.getLogger(__name__)

SYSTEM_REQUESTERS = frozenset({"schedule", "cli", "system"})
Listener = Callable[[int, int | None, str | None], None]


class RunProgress:
    """Progress of one run: kept for the caller, written through its own short transaction where it can be."""

    def __init__(self, factory: sessionmaker[Session], run_id: int, listener: Listener | None) -> None:
        self.factory = factory
        self.run_id = run_id
        self.listener = listener
        self.last: tuple[int, int | None, str | None] = (0, None, None)
        with factory() as probe:
            self.live = probe.get_bind().dialect.name != "sqlite"

    def update(self, done: int, total: int | None = None, note: str | None = None) -> None:
        """Record progress; `note` is a message key (shown translated)."""
        self.last = (done, total, note[:200] if note else None)
        if self.listener is not None:
            self.listener(*self.last)
        if self.live:
            with unit_of_work(self.factory, Actor.system("jobs")) as session:
                repository.set_progress(session, self.run_id, *self.last)


def _actor(requested_by: str) -> Actor:
    return Actor.system(requested_by) if requested_by in SYSTEM_REQUESTERS else Actor(username=requested_by)


def _plain(result: dict[str, Any]) -> dict[str, Any]:
    return json.loads(json.dumps(result, default=str))


def safe_error(error: BaseException) -> tuple[str, dict[str, Any]]:
    """A message key and parameters saying why a run failed, never the exception's text (it may hold values)."""
    if isinstance(error, Invalid | Conflict) and error.errors:
        return "jobs.error.invalid", {"fields": ", ".join(sorted({e.field for e in error.errors}))}
    if isinstance(error, DomainError):
        key = error.detail_key or error.title_key
        return key, {k: str(v)[:60] for k, v in error.params.items()}
    if isinstance(error, KeyboardInterrupt):
        return "jobs.error.interrupted", {}
    return "jobs.error.unexpected", {"kind": type(error).__name__}


def execute(factory: sessionmaker[Session], run_id: int, listener: Listener | None = None) -> JobRun:
    """Run a claimed run in its own unit of work; success is recorded with the work, failure after its rollback."""
    with unit_of_work(factory, Actor.system("jobs")) as session:
        run = repository.get_run(session, run_id)
    progress = RunProgress(factory, run_id, listener)
    try:
        job = registry.get(run.name)
        params = job.params.model_validate(run.params)
        with unit_of_work(factory, _actor(run.requested_by)) as session:
            result = _plain(job.run(session, params, progress))
            repository.finish(session, run_id, "succeeded", progress.last, result=result)
    except BaseException as error:
        key, error_params = safe_error(error)
        logger.warning("job %s (run %s) failed: %s", run.name, run_id, type(error).__name__)
        with unit_of_work(factory, Actor.system("jobs")) as session:
            repository.finish(session, run_id, "failed", progress.last, error=key, error_params=error_params)
        if not isinstance(error, Exception):
            raise
    with unit_of_work(factory, Actor.system("jobs")) as session:
        return repository.get_run(session, run_id)


def _claim_next(factory: sessionmaker[Session]) -> int | None:
    names = [job.name for job in registry.all()]
    while True:
        try:
            with unit_of_work(factory, Actor.system("jobs")) as session:
                run_id = repository.next_claimable(session, names)
                if run_id is None:
                    return None
                if repository.claim(session, run_id):
                    return run_id
        except UniqueTaken:
            # Another process started a run of the same job between our look and our claim.
            return None


def run_queued(factory: sessionmaker[Session], limit: int | None = None) -> list[JobRun]:
    """Run queued runs one at a time, oldest first, until none is left (or `limit` ran); what ran."""
    done: list[JobRun] = []
    while limit is None or len(done) < limit:
        run_id = _claim_next(factory)
        if run_id is None:
            break
        done.append(execute(factory, run_id))
    return done


def run_now(
    factory: sessionmaker[Session],
    name: str,
    params: dict[str, Any] | None,
    requested_by: str,
    listener: Listener | None = None,
) -> JobRun:
    """Run a job now in the foreground (the CLI): queued and claimed in one step, then executed.

    409 if a run of the same job is already in progress.
    """
    try:
        with unit_of_work(factory, Actor.system(requested_by)) as session:
            run = service.enqueue(session, name, params, requested_by)
            repository.claim(session, run.id)
    except UniqueTaken:
        raise Conflict("jobs.already_running", name=name) from None
    return execute(factory, run.id, listener)


def recover(factory: sessionmaker[Session], before: datetime) -> int:
    """Mark runs a stopped process left `running` (started before `before`) as failed; how many."""
    with unit_of_work(factory, Actor.system("jobs")) as session:
        return repository.fail_running(session, before, "jobs.error.interrupted")


class Runner:
    """The in-process worker (one run at a time) and the scheduler that enqueues scheduled runs."""

    def __init__(self, factory: sessionmaker[Session], zone: str, poll_seconds: float = 2.0) -> None:
        self.factory = factory
        self.zone = zone
        self.poll_seconds = poll_seconds
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self.scheduler = BackgroundScheduler(timezone=ZoneInfo(zone))

    def start(self) -> None:
        """Fail runs orphaned by an earlier process, then start the worker thread and the scheduler."""
        recover(self.factory, utcnow())
        self._stop.clear()
        self._thread = threading.Thread(target=self._work, name="custinfo-jobs", daemon=True)
        self._thread.start()
        self.refresh_schedule()
        # Schedules are data (a rule set's daily_run_at): pick up a change within minutes.
        self.scheduler.add_job(self.refresh_schedule, "interval", minutes=5, id="jobs-refresh")
        self.scheduler.start()

    def stop(self, timeout: float = 30.0) -> None:
        """Stop the scheduler, let the current run finish (up to `timeout` s) and end the thread."""
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def wake(self) -> None:
        """Look for queued runs now rather than at the next poll."""
        self._wake.set()

    def refresh_schedule(self) -> None:
        """(Re)register each scheduled job's cron trigger from its current schedule."""
        with unit_of_work(self.factory, Actor.system("schedule")) as session:
            crons = {job.name: service.schedule_of(session, job) for job in registry.all()}
        for name, cron in crons.items():
            job_id = f"job:{name}"
            if cron is None:
                if self.scheduler.get_job(job_id):
                    self.scheduler.remove_job(job_id)
                continue
            self.scheduler.add_job(
                self.enqueue_scheduled,
                CronTrigger.from_crontab(cron, timezone=ZoneInfo(self.zone)),
                args=[name],
                id=job_id,
                replace_existing=True,
                coalesce=True,
                max_instances=1,
            )

    def enqueue_scheduled(self, name: str) -> None:
        """Queue a scheduled run unless one is already waiting."""
        with unit_of_work(self.factory, Actor.system("schedule")) as session:
            if not repository.has_queued(session, name):
                service.enqueue(session, name, {}, "schedule")
        self.wake()

    def _work(self) -> None:
        while not self._stop.is_set():
            try:
                while not self._stop.is_set() and run_queued(self.factory, limit=1):
                    pass
            except Exception as error:  # the worker must outlive a broken database connection
                logger.error("job worker: %s", type(error).__name__)
            self._wake.wait(self.poll_seconds)
            self._wake.clear()
