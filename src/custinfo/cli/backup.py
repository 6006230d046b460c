"""`custinfo backup`: make, list, verify and restore encrypted backups of the whole database."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo

import typer
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table

from custinfo.backup import archive, service
from custinfo.backup.errors import BackupFailure
from custinfo.cli import console, fail, handles_errors, load_settings, open_database, safe_url
from custinfo.core.db import make_session_factory
from custinfo.core.i18n import translate
from custinfo.core.problems import problem
from custinfo.core.uow import Actor, unit_of_work
from custinfo.jobs import runner
from custinfo.jobs import service as jobs

app = typer.Typer(help="Encrypted backups, verified by a test restore.", no_args_is_help=True)

KindOption = Annotated[
    str | None,
    typer.Option("--kind", help="daily, weekly or monthly (default: the kind the calendar says is due)"),
]


def _size(size: int) -> str:
    return f"{size / 1e9:.2f} GB" if size >= 1e9 else f"{size / 1e6:.1f} MB"


def _reason(failure: BackupFailure, language: str) -> str:
    body = problem(failure, language)
    return str(body["detail"] or body["title"])


@app.command("create")
@handles_errors
def create(
    kind: KindOption = None,
    verify: Annotated[
        bool, typer.Option("--verify/--no-verify", help="Verify the new backup by a test restore.")
    ] = True,
) -> None:
    """Back up the configured database now into the backup directory, verify it, rotate old ones."""
    settings = load_settings()
    service.configure(settings)
    if kind is not None and kind not in ("daily", "weekly", "monthly"):
        fail(f"--kind must be daily, weekly or monthly, not {kind!r}")
    engine = open_database(settings)
    language = settings.language
    params: dict[str, object] = {"verify": verify, **({"kind": kind} if kind else {})}
    with Progress(
        TextColumn("backup"), BarColumn(), TextColumn("{task.fields[note]}"), TimeElapsedColumn()
    ) as bar:
        task: TaskID = bar.add_task("backup", total=None, note="")

        def show(done: int, total: int | None, note: str | None) -> None:
            bar.update(task, completed=done, total=total, note=translate(note, language) if note else "")

        run = runner.run_now(make_session_factory(engine), "backup", params, "cli", show)
    engine.dispose()
    if run.status != "succeeded":
        fail(f"backup failed: {jobs.error_message(run, language)}")
    result = run.result or {}
    where = settings.effective_backup_dir / str(result.get("file_name"))
    console.print(
        f"Backup made: {where} ({result.get('kind')}, {_size(int(result.get('size_bytes', 0)))}, "
        f"{result.get('rows')} rows); {result.get('deleted', 0)} old backup(s) rotated out."
    )
    if result.get("verified") is False:
        with unit_of_work(make_session_factory(engine), Actor.system("cli")) as session:
            view = next(v for v in service.backups(session, settings) if v.file_name == where.name)
        engine.dispose()
        failure = BackupFailure(view.failure or "backup.failure.damaged", **view.failure_params)
        fail(f"the new backup failed its test restore: {_reason(failure, language)}")
    if result.get("verified"):
        console.print("Verified by a test restore: row counts, integrity and audit chain match.")


@app.command("list")
@handles_errors
def list_backups() -> None:
    """The backups in the backup directory, newest first, with their verification state."""
    settings = load_settings()
    engine = open_database(settings)
    with unit_of_work(make_session_factory(engine), Actor.system("cli")) as session:
        views = service.backups(session, settings)
    engine.dispose()
    zone = ZoneInfo(settings.timezone)
    console.print(f"Backup directory: {settings.effective_backup_dir}")
    if not views:
        console.print("No backups yet (make one with `custinfo backup create`).")
        return
    table = Table("file", "kind", "made", "size", "verified")
    for view in views:
        if view.status == "never":
            state = "never verified"
        elif view.status == "passed":
            state = (
                f"passed {view.verified_at.astimezone(zone):%Y-%m-%d %H:%M}" if view.verified_at else "passed"
            )
        else:
            state = "FAILED: " + _reason(
                BackupFailure(view.failure or "backup.failure.damaged", **view.failure_params),
                settings.language,
            )
        table.add_row(
            view.file_name,
            view.kind,
            view.made_at.astimezone(zone).strftime("%Y-%m-%d %H:%M"),
            _size(view.size_bytes),
            state,
        )
    console.print(table)


def _recorded(settings_dir: Path, path: Path) -> bool:
    return path.resolve().parent == settings_dir.resolve() and bool(service.FILE_NAME.match(path.name))


@app.command("verify")
@handles_errors
def verify(file: Annotated[Path, typer.Argument(help="The backup file.")]) -> None:
    """Decrypt, check every checksum, restore into a scratch database and compare; exit 1 on any failure."""
    settings = load_settings()
    engine = open_database(settings)
    language = settings.language
    try:
        with console.status("Verifying by a test restore…"):
            outcome: service.Verified | BackupFailure = service.verify_archive(engine, settings, file)
    except BackupFailure as failure:
        outcome = failure
    if _recorded(settings.effective_backup_dir, file):
        with unit_of_work(make_session_factory(engine), Actor.system("cli")) as session:
            service.record_verification(session, settings, file.name, outcome, "cli")
    engine.dispose()
    if isinstance(outcome, BackupFailure):
        fail(f"{file.name} failed verification: {_reason(outcome, language)}")
    console.print(
        f"{file.name} verified: restored into a scratch database, {outcome.tables} tables and "
        f"{outcome.rows} rows match the manifest, {outcome.audit_entries} audit entries verified "
        f"({outcome.seconds:.1f} s)."
    )


@app.command("restore")
@handles_errors
def restore(
    file: Annotated[Path, typer.Argument(help="The backup file.")],
    yes: Annotated[bool, typer.Option("--yes", help="Replace the database without asking.")] = False,
) -> None:
    """Replace the configured database by the backup's state (verified first); stop `custinfo serve` before."""
    settings = load_settings()
    engine = open_database(settings)
    header = archive.read_header(file) if file.is_file() else None
    if header is None:
        fail(f"{file} is not a file")
    assert header is not None
    if not yes:
        console.print(
            f"This replaces every row of {safe_url(settings.effective_database_url)} by the backup made "
            f"at {header.made_at} ({header.kind}). Changes made since then are lost."
        )
        typer.confirm("Restore?", abort=True)
    with console.status("Verifying, then restoring…") as status:
        restored = service.restore_archive(
            engine, settings, file, "cli", lambda note: status.update(translate(note, settings.language))
        )
    engine.dispose()
    migrated = " and migrated to the current schema" if restored.migrated else ""
    console.print(
        f"Restored {restored.rows} rows from {restored.file_name}{migrated}; the audit log records the "
        "restore. Start `custinfo serve` again."
    )
