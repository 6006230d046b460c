"""The job runner on both databases: enqueue in the caller's transaction, one unit of work per run,
failures rolled back and recorded, one run per job at a time, schedules from data."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from tests.factories import make_customer, make_order

from custinfo.core.errors import Conflict, Invalid, NotFound
from custinfo.core.uow import Actor, unit_of_work
from custinfo.customers.models import Customer
from custinfo.jobs import repository, runner, service
from custinfo.jobs.models import JobRun
from custinfo.jobs.registry import Job, Progress, registry

SECRET = "13800138000"


def count_runs(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(JobRun)) or 0)


def breaks_after_writing(session: Session, _params: Any, progress: Progress) -> dict[str, Any]:
    """Adds a customer, reports progress, then fails with a sensitive value in its message."""
    make_customer(session, name="回滚测试有限公司")
    progress.update(1, 2, "jobs.note.classifying")
    raise ValueError(f"mobile {SECRET} rejected")


def reads_its_progress(session: Session, _params: Any, progress: Progress) -> dict[str, Any]:
    """Reports progress, then reads it back through another session (what a polling page sees)."""
    progress.update(3, 10, "jobs.note.classifying")
    factory = sessionmaker(bind=session.get_bind())
    with factory() as other:
        run = other.scalar(select(JobRun).where(JobRun.status == "running"))
        assert run is not None
        return {"seen_done": run.progress_done, "seen_total": run.progress_total}


@pytest.fixture
def test_jobs(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for job in (
        Job("breaks", "出错的任务", "a job that fails", breaks_after_writing),
        Job("reads-progress", "读进度", "reads its own progress", reads_its_progress),
    ):
        monkeypatch.setitem(registry.jobs, job.name, job)
    yield


def test_enqueue_in_a_rolled_back_transaction_leaves_nothing(
    session_factory: sessionmaker[Session], session: Session
) -> None:
    before = count_runs(session)
    with pytest.raises(RuntimeError), unit_of_work(session_factory, Actor.system("test")) as request:
        service.enqueue(request, "classify", {}, "steward")
        raise RuntimeError("the request failed after enqueueing")
    assert count_runs(session) == before
    assert runner.run_queued(session_factory) == []


def test_unknown_job_and_bad_params_are_refused_by_name(session: Session) -> None:
    with pytest.raises(NotFound):
        service.enqueue(session, "no-such-job", {}, "admin")
    with pytest.raises(Invalid) as bad_date:
        service.enqueue(session, "classify", {"as_of": "2026-13-40"}, "admin")
    assert [e.field for e in bad_date.value.errors] == ["as_of"]
    with pytest.raises(Invalid) as unknown:
        service.enqueue(session, "classify", {"colour": "red"}, "admin")
    assert [(e.field, e.rule) for e in unknown.value.errors] == [("colour", "field.unknown")]


def test_classify_job_retags_and_records_its_run(
    session_factory: sessionmaker[Session], session: Session
) -> None:
    customer = make_customer(session)
    make_order(session, customer)
    queued = service.enqueue(session, "classify", {"as_of": "2026-06-30"}, "admin")
    session.commit()
    assert queued.status == "queued" and queued.started_at is None
    [run] = runner.run_queued(session_factory)
    assert run.id == queued.id and run.status == "succeeded"
    assert run.started_at and run.finished_at and run.duration_ms is not None and run.duration_ms >= 0
    assert (run.progress_done, run.progress_total, run.progress_note) == (1, 1, "jobs.note.done")
    assert run.result and run.result["as_of"] == "2026-06-30" and run.result["customers"] >= 1
    assert service.result_link(run) == f"/classification/runs/{run.result['classification_run']}"
    assert run.error is None
    assert runner.run_queued(session_factory) == []  # nothing left


def test_a_failing_job_rolls_back_its_work_and_records_a_safe_reason(
    session_factory: sessionmaker[Session], session: Session, test_jobs: None
) -> None:
    service.enqueue(session, "breaks", {}, "admin")
    session.commit()
    [run] = runner.run_queued(session_factory)
    assert run.status == "failed" and run.finished_at is not None
    assert (run.error, run.error_params) == ("jobs.error.unexpected", {"kind": "ValueError"})
    message = service.error_message(run, "zh_CN") or ""
    assert "ValueError" in message and "回滚" in message and SECRET not in message
    assert SECRET not in str(run.result) + str(run.error_params)
    assert session.scalar(select(func.count()).where(Customer.name == "回滚测试有限公司")) == 0
    assert run.progress_done == 1 and run.progress_total == 2  # how far it got


def test_progress_is_visible_while_the_job_runs_where_the_database_allows(
    session_factory: sessionmaker[Session], session: Session, test_jobs: None
) -> None:
    service.enqueue(session, "reads-progress", {}, "admin")
    session.commit()
    [run] = runner.run_queued(session_factory)
    assert run.status == "succeeded"
    if session.get_bind().dialect.name == "postgresql":
        assert run.result == {"seen_done": 3, "seen_total": 10}
    assert (run.progress_done, run.progress_total) == (3, 10)


def test_one_run_per_job_at_a_time(session_factory: sessionmaker[Session], session: Session) -> None:
    first = service.enqueue(session, "classify", {}, "admin")
    second = service.enqueue(session, "classify", {}, "admin")
    session.commit()
    assert repository.claim(session, first.id)
    session.commit()
    assert runner.run_queued(session_factory) == []  # the second waits while the first runs
    with pytest.raises(Conflict) as busy:
        runner.run_now(session_factory, "classify", {}, "cli")
    assert busy.value.detail_key == "jobs.already_running"
    assert runner.recover(session_factory, datetime.now(UTC) + timedelta(seconds=1)) == 1
    session.expire_all()
    assert session.get(JobRun, first.id).status == "failed"  # type: ignore[union-attr]
    assert [r.id for r in runner.run_queued(session_factory)] == [second.id]


def test_run_now_runs_in_the_foreground_with_progress(session_factory: sessionmaker[Session]) -> None:
    seen: list[tuple[int, int | None, str | None]] = []
    run = runner.run_now(
        session_factory, "classify", {"as_of": "2026-06-30"}, "cli", lambda *p: seen.append(p)
    )
    assert run.status == "succeeded" and run.requested_by == "cli"
    assert seen == [(0, 1, "jobs.note.classifying"), (1, 1, "jobs.note.done")]


def test_schedule_comes_from_the_rule_set(session: Session, session_factory: sessionmaker[Session]) -> None:
    [status] = [s for s in service.job_statuses(session, "Asia/Shanghai") if s.job.name == "classify"]
    assert status.schedule == "0 2 * * *"
    assert service.describe_schedule(status.schedule, "zh_CN") == "每天 02:00"
    assert service.describe_schedule(None, "en") == "On request only"
    assert status.next_run_at is not None and status.next_run_at.hour == 2
    assert status.next_run_at > datetime.now(UTC)
    scheduled = runner.Runner(session_factory, "Asia/Shanghai")
    scheduled.refresh_schedule()
    job = scheduled.scheduler.get_job("job:classify")
    assert job is not None and str(job.trigger) == str(runner.CronTrigger.from_crontab("0 2 * * *"))
    before = count_runs(session)
    scheduled.enqueue_scheduled("classify")
    scheduled.enqueue_scheduled("classify")  # a second tick while one is waiting adds nothing
    assert count_runs(session) == before + 1
    [run] = runner.run_queued(session_factory)
    assert run.requested_by == "schedule" and run.status == "succeeded"
