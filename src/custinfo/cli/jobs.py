"""`custinfo jobs`: list the background jobs, or run one now in the foreground (the cron entry)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from zoneinfo import ZoneInfo

import typer
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table

from custinfo.cli import console, fail, handles_errors, load_settings, open_database
from custinfo.core.db import make_session_factory
from custinfo.core.i18n import translate
from custinfo.core.uow import Actor, unit_of_work
from custinfo.jobs import runner, service

app = typer.Typer(help="Background jobs: what runs when, and running one now.", no_args_is_help=True)


def _local(value: datetime | None, zone: str) -> str:
    return "—" if value is None else value.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M")


@app.command("list")
@handles_errors
def list_jobs() -> None:
    """Every job with its schedule, last run and result, and next run."""
    settings = load_settings()
    engine = open_database(settings)
    with unit_of_work(make_session_factory(engine), Actor.system("cli")) as session:
        statuses = service.job_statuses(session, settings.timezone)
    language = settings.language
    table = Table("任务 job", "计划 schedule", "最近一次 last run", "结果 result", "下次 next run")
    for status in statuses:
        last = status.last_run
        if last is None:
            when, outcome = translate("jobs.never", language), "—"
        else:
            when = f"{_local(last.started_at or last.requested_at, settings.timezone)} ({translate('jobs.status.' + last.status, language)})"
            outcome = service.error_message(last, language) or ", ".join(
                f"{k}={v}" for k, v in (last.result or {}).items()
            )
        table.add_row(
            f"{status.job.name}\n{status.job.description(language)}",
            service.describe_schedule(status.schedule, language),
            when,
            outcome or "—",
            _local(status.next_run_at, settings.timezone),
        )
    console.print(table)
    engine.dispose()


@app.command("run")
@handles_errors
def run(
    name: Annotated[str, typer.Argument(help="The job to run (see `custinfo jobs list`).")],
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="Evaluate as of YYYY-MM-DD (jobs that take a date)")
    ] = None,
) -> None:
    """Run a job now in the foreground with a progress bar; exit 1 with the reason if it fails."""
    settings = load_settings()
    engine = open_database(settings)
    language = settings.language
    params = {"as_of": as_of} if as_of else {}
    with Progress(
        TextColumn("{task.description}"), BarColumn(), TextColumn("{task.fields[note]}"), TimeElapsedColumn()
    ) as bar:
        task: TaskID = bar.add_task(name, total=None, note="")

        def show(done: int, total: int | None, note: str | None) -> None:
            bar.update(task, completed=done, total=total, note=translate(note, language) if note else "")

        result = runner.run_now(make_session_factory(engine), name, params, "cli", show)
    engine.dispose()
    if result.status != "succeeded":
        fail(f"job {name} (run {result.id}) failed: {service.error_message(result, language)}")
    summary = ", ".join(f"{k}={v}" for k, v in (result.result or {}).items())
    console.print(
        f"job {name} (run {result.id}) succeeded in {(result.duration_ms or 0) / 1000:.1f} s: {summary}"
    )
