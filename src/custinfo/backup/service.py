"""Backup use-cases: make an archive, verify it by a test restore, restore it, list and rotate archives.

Contract. `make_archive` snapshots the database while it runs (one consistent state), records in a
manifest the custinfo version, schema revision, rows per table, the audit chain's head and a checksum
per part, and encrypts it with the backup key (never the field key ring; field keys are not in the
archive, and L3 columns stay sealed inside it). `verify_archive` proves an archive restorable: decrypt,
checksums, a restore into a scratch database, the integrity check, row counts and the audit chain
against the manifest. `restore_archive` verifies first, then replaces the configured database in one
transaction with the state at backup time exactly (same rows, same audit chain, same key ids), migrates
an older schema, refuses a newer one, and writes an audit entry. The backup directory's files are the
truth about which backups exist; the `backups` table holds who made them and their verification.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from alembic.script import ScriptDirectory
from alembic.util.exc import CommandError
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

import custinfo
from custinfo.audit import anchor as audit_anchor
from custinfo.auth.policy import Permission, Principal, require
from custinfo.backup import archive, keys, snapshot
from custinfo.backup.errors import BackupFailure
from custinfo.backup.events import BackupEvent
from custinfo.backup.models import Backup
from custinfo.backup.policy import KINDS, current_policy
from custinfo.config import Settings
from custinfo.core.db import make_session_factory
from custinfo.core.errors import NotFound
from custinfo.core.schema import alembic_config, upgrade
from custinfo.core.uow import Actor, record, unit_of_work
from custinfo.security import crypto
from custinfo.security.storage import private_directory

SUFFIX = ".cibackup"
FILE_NAME = re.compile(r"^custinfo-\d{8}T\d{6}Z(-\d+)?-(daily|weekly|monthly)\.cibackup$")
Note = Callable[[str], None]

_settings: Settings | None = None


def configure(settings: Settings) -> None:
    """Make these settings' backup directory and key the ones jobs of this process use."""
    global _settings
    _settings = settings


def configured() -> Settings:
    """The settings jobs use (those of create_app / the CLI; the environment's otherwise)."""
    return _settings if _settings is not None else Settings()


@dataclass(frozen=True)
class Made:
    """An archive just made."""

    path: Path
    file_name: str
    kind: str
    made_at: datetime
    size_bytes: int
    manifest: dict[str, Any]


@dataclass(frozen=True)
class Verified:
    """A successful test restore: tables and rows compared, audit entries verified, seconds taken."""

    file_name: str
    tables: int
    rows: int
    audit_entries: int
    seconds: float


@dataclass(frozen=True)
class Restored:
    """A restore into the configured database: rows restored, the schema revision it came from and is at."""

    file_name: str
    rows: int
    from_revision: str
    migrated: bool


@dataclass(frozen=True)
class BackupView:
    """One archive as pages, the API and the CLI list it."""

    file_name: str
    kind: str
    made_at: datetime
    size_bytes: int
    dialect: str
    schema_revision: str
    made_by: str | None = None
    verified_at: datetime | None = None
    verified_ok: bool | None = None
    failure: str | None = None
    failure_params: dict[str, Any] = field(default_factory=dict)
    verified_by: str | None = None

    @property
    def status(self) -> str:
        """never | passed | failed: the last verification's outcome."""
        return "never" if self.verified_ok is None else "passed" if self.verified_ok else "failed"


def _noop(_: str) -> None:
    pass


@contextmanager
def _scratch(settings: Settings) -> Iterator[Path]:
    """A private scratch directory in the data directory (local disk), removed afterwards."""
    private_directory(settings.data_dir)
    path = Path(tempfile.mkdtemp(prefix=".backup-scratch-", dir=settings.data_dir))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def _file_name(directory: Path, kind: str, made_at: datetime) -> str:
    stamp = made_at.strftime("%Y%m%dT%H%M%SZ")
    name, n = f"custinfo-{stamp}-{kind}{SUFFIX}", 1
    while (directory / name).exists():
        n += 1
        name = f"custinfo-{stamp}-{n}-{kind}{SUFFIX}"
    return name


def _fsync(path: Path) -> None:
    with path.open("rb") as handle:
        os.fsync(handle.fileno())


def make_archive(engine: Engine, settings: Settings, kind: str, progress: Note | None = None) -> Made:
    """Snapshot the database while it runs, pack it with its manifest, encrypt it into the backup directory."""
    note = progress or _noop
    if kind not in KINDS:
        raise BackupFailure("backup.failure.kind", kind=kind)
    backup_keys = keys.ensure(settings.effective_backup_key_file)
    directory = settings.effective_backup_dir
    private_directory(directory)
    made_at = datetime.now(UTC)
    dialect = engine.dialect.name
    with _scratch(settings) as scratch:
        note("backup.note.snapshot")
        if dialect == "sqlite":
            part = scratch / snapshot.SQLITE_PART
            snapshot.sqlite_copy(snapshot.sqlite_path(engine), part)
            with snapshot.sqlite_engine(part) as copy, copy.connect() as connection:
                found = snapshot.facts(connection)
        elif dialect == "postgresql":
            part = scratch / snapshot.POSTGRESQL_PART
            with snapshot.postgresql_snapshot(engine) as connection:
                found = snapshot.facts(connection)
                snapshot.pg_dump(connection, part)
        else:
            raise BackupFailure("backup.failure.dialect", dialect=dialect)
        manifest = {
            "format": archive.FORMAT,
            "custinfo_version": custinfo.__version__,
            "dialect": dialect,
            "kind": kind,
            "made_at": made_at.isoformat(),
            "field_key_ids": sorted(crypto.active().keys),
            **found.manifest(),
        }
        header = archive.Header(
            kind=kind,
            made_at=made_at.isoformat(),
            dialect=dialect,
            schema_revision=found.schema_revision,
            custinfo_version=custinfo.__version__,
            key_id=backup_keys.current,
            # pg_dump -Fc compresses already; compressing again costs time and wins nothing.
            compression="zlib" if dialect == "sqlite" else "none",
        )
        name = _file_name(directory, kind, made_at)
        partial = directory / f".partial-{name}"
        note("backup.note.encrypting")
        try:
            with partial.open("wb") as out:
                writer = archive.ArchiveWriter(out, header, backup_keys)
                entry = writer.add_file(part.name, part)
                writer.close({**manifest, "parts": [entry]})
                out.flush()
                os.fsync(out.fileno())
            os.replace(partial, directory / name)
        finally:
            partial.unlink(missing_ok=True)
    path = directory / name
    return Made(path, name, kind, made_at, path.stat().st_size, {**manifest, "parts": writer.parts})


def _revision_known(revision: str) -> bool:
    script = ScriptDirectory.from_config(alembic_config())
    try:
        return script.get_revision(revision) is not None
    except CommandError:
        return False


def _head_revision() -> str:
    return str(ScriptDirectory.from_config(alembic_config()).get_current_head())


def _checked_header(engine: Engine, path: Path) -> archive.Header:
    if not path.is_file():
        raise BackupFailure("backup.failure.no_file", file=path.name)
    header = archive.read_header(path)
    if header.dialect != engine.dialect.name:
        raise BackupFailure(
            "backup.failure.dialect_mismatch", made=header.dialect, configured=engine.dialect.name
        )
    return header


def _missing_field_keys(manifest: dict[str, Any]) -> list[int]:
    held = set(crypto.active().keys)
    return sorted(int(k) for k in manifest.get("field_key_ids", []) if int(k) not in held)


@contextmanager
def _restored_copy(engine: Engine, settings: Settings, path: Path, note: Note) -> Iterator[tuple[Any, ...]]:
    """Decrypt the archive and restore it into a scratch database; yields (header, manifest, part, checked)."""
    backup_keys = keys.load(settings.effective_backup_key_file)
    _checked_header(engine, path)
    with _scratch(settings) as scratch:
        note("backup.note.decrypting")
        header, manifest, parts = archive.extract(path, backup_keys, scratch)
        missing = _missing_field_keys(manifest)
        if missing:
            raise BackupFailure("backup.failure.field_keys", ids=", ".join(map(str, missing)))
        note("backup.note.test_restore")
        if header.dialect == "sqlite":
            part = parts.get(snapshot.SQLITE_PART)
            if part is None:
                raise BackupFailure("backup.failure.parts")
            snapshot.sqlite_integrity(part)
            with snapshot.sqlite_engine(part) as copy, copy.connect() as connection:
                checked = snapshot.check(connection, manifest)
            yield header, manifest, part, checked
        else:
            part = parts.get(snapshot.POSTGRESQL_PART)
            if part is None:
                raise BackupFailure("backup.failure.parts")
            with snapshot.postgresql_scratch(engine) as copy:
                snapshot.pg_restore_into(copy, part)
                with copy.connect() as connection:
                    checked = snapshot.check(connection, manifest)
            yield header, manifest, part, checked


def verify_archive(engine: Engine, settings: Settings, path: Path, progress: Note | None = None) -> Verified:
    """Prove an archive restorable (decrypt, checksums, scratch restore, integrity, counts, audit chain)."""
    started = time.perf_counter()
    with _restored_copy(engine, settings, path, progress or _noop) as (_header, manifest, _part, checked):
        tables = manifest.get("tables") or {}
        return Verified(
            file_name=path.name,
            tables=len(tables),
            rows=int(sum(tables.values())),
            audit_entries=checked,
            seconds=time.perf_counter() - started,
        )


def restore_archive(
    engine: Engine, settings: Settings, path: Path, restored_by: str, progress: Note | None = None
) -> Restored:
    """Replace the configured database by the archive's state (verified first), migrate it, audit the restore."""
    note = progress or _noop
    header = _checked_header(engine, path)
    if not _revision_known(header.schema_revision):
        raise BackupFailure("backup.failure.schema_newer", revision=header.schema_revision)
    with _restored_copy(engine, settings, path, note) as (_header, manifest, part, _checked):
        note("backup.note.replacing")
        engine.dispose()
        if header.dialect == "sqlite":
            snapshot.sqlite_replace(part, snapshot.sqlite_path(engine))
        else:
            snapshot.pg_replace(engine, part)
    engine.dispose()
    migrated = header.schema_revision != _head_revision()
    if migrated:
        note("backup.note.migrating")
        upgrade(engine)
    tables = manifest.get("tables") or {}
    with unit_of_work(make_session_factory(engine), Actor(username=restored_by)) as session:
        record(
            session,
            BackupEvent(
                action="restored",
                file_name=path.name,
                details={
                    "made_at": header.made_at,
                    "rows": int(sum(tables.values())),
                    "from_revision": header.schema_revision,
                    "migrated": migrated,
                },
            ),
        )
    # The chain is now shorter than the anchor file remembers, on purpose: say so in the file, with the
    # anchor of the restore's own entry (a MAC only the audit key makes).
    with engine.connect() as connection:
        head = snapshot.audit_head(connection)
    if head is not None:
        audit_anchor.append(audit_anchor.anchor_path(), head, restored=True)
    return Restored(path.name, int(sum(tables.values())), header.schema_revision, migrated)


# The archives on disk and their rows ---------------------------------------------------------------


def archive_path(settings: Settings, file_name: str) -> Path:
    """The path of a listed archive by its file name (404 for any other name, or a file not there)."""
    path = settings.effective_backup_dir / file_name
    if not FILE_NAME.match(file_name) or not path.is_file():
        raise NotFound("backup.not_found")
    return path


def _on_disk(settings: Settings) -> dict[str, tuple[archive.Header | None, int]]:
    directory = settings.effective_backup_dir
    if not directory.is_dir():
        return {}
    found: dict[str, tuple[archive.Header | None, int]] = {}
    for path in directory.iterdir():
        if not FILE_NAME.match(path.name) or not path.is_file():
            continue
        try:
            header: archive.Header | None = archive.read_header(path)
        except (BackupFailure, OSError):
            header = None
        found[path.name] = (header, path.stat().st_size)
    return found


def _parse_time(text: str) -> datetime:
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def backups(session: Session, settings: Settings) -> list[BackupView]:
    """Every archive in the backup directory, newest first, with its last verification (operators)."""
    rows = {row.file_name: row for row in session.scalars(select(Backup))}
    views = []
    for name, (header, size) in _on_disk(settings).items():
        row = rows.get(name)
        if header is None:
            views.append(
                BackupView(
                    name,
                    kind=row.kind if row else "",
                    made_at=row.made_at if row else datetime.fromtimestamp(0, UTC),
                    size_bytes=size,
                    dialect="",
                    schema_revision="",
                    verified_ok=False,
                    failure="backup.failure.not_an_archive",
                )
            )
            continue
        views.append(
            BackupView(
                file_name=name,
                kind=header.kind,
                made_at=_parse_time(header.made_at),
                size_bytes=size,
                dialect=header.dialect,
                schema_revision=header.schema_revision,
                made_by=row.made_by if row else None,
                verified_at=row.verified_at if row else None,
                verified_ok=row.verified_ok if row else None,
                failure=row.failure if row else None,
                failure_params=dict(row.failure_params or {}) if row else {},
                verified_by=row.verified_by if row else None,
            )
        )
    return sorted(views, key=lambda v: (v.made_at, v.file_name), reverse=True)


def list_backups(session: Session, principal: Principal, settings: Settings) -> list[BackupView]:
    """Every archive with its verification state (admins)."""
    require(principal, Permission.BACKUP_MANAGE)
    return backups(session, settings)


def record_made(session: Session, made: Made, made_by: str) -> Backup:
    """Remember a new archive (never verified yet) and audit it."""
    row = Backup(
        file_name=made.file_name,
        kind=made.kind,
        made_at=made.made_at,
        size_bytes=made.size_bytes,
        dialect=str(made.manifest["dialect"]),
        schema_revision=str(made.manifest["schema_revision"]),
        total_rows=int(made.manifest["total_rows"]),
        made_by=made_by,
        failure_params={},
    )
    session.add(row)
    session.flush()
    record(
        session,
        BackupEvent(
            action="made",
            file_name=made.file_name,
            details={"kind": made.kind, "size_bytes": made.size_bytes, "rows": row.total_rows},
        ),
    )
    return row


def _row_for(session: Session, settings: Settings, file_name: str) -> Backup:
    row = session.scalars(select(Backup).where(Backup.file_name == file_name)).first()
    if row is not None:
        return row
    path = settings.effective_backup_dir / file_name
    header = archive.read_header(path)
    row = Backup(
        file_name=file_name,
        kind=header.kind,
        made_at=_parse_time(header.made_at),
        size_bytes=path.stat().st_size,
        dialect=header.dialect,
        schema_revision=header.schema_revision,
        total_rows=0,
        made_by="",
        failure_params={},
    )
    session.add(row)
    return row


def record_verification(
    session: Session, settings: Settings, file_name: str, outcome: Verified | BackupFailure, by: str
) -> None:
    """Store a verification's outcome on the archive's row (made if the archive had none) and audit it."""
    try:
        row = _row_for(session, settings, file_name)
    except BackupFailure:
        row = None
    if isinstance(outcome, Verified):
        failure, params = None, {}
        details: dict[str, Any] = {"rows": outcome.rows, "audit_entries": outcome.audit_entries}
    else:
        failure, params = outcome.detail_key, {k: str(v) for k, v in outcome.params.items()}
        details = {"failure": failure, **params}
    if row is not None:
        row.verified_at = datetime.now(UTC)
        row.verified_ok = failure is None
        row.verified_by = by
        row.failure = failure
        row.failure_params = params
        session.flush()
    action = "verified" if failure is None else "verify_failed"
    record(session, BackupEvent(action=action, file_name=file_name, details=details))


def rotate(session: Session, settings: Settings, kind: str) -> list[str]:
    """Delete the archives of `kind` beyond the policy's count, oldest first; returns their file names."""
    keep = current_policy(session).keep(kind)
    ours = [v for v in backups(session, settings) if v.kind == kind]
    doomed = ours[keep:]
    for view in doomed:
        (settings.effective_backup_dir / view.file_name).unlink(missing_ok=True)
        row = session.scalars(select(Backup).where(Backup.file_name == view.file_name)).first()
        if row is not None:
            session.delete(row)
        record(session, BackupEvent(action="deleted", file_name=view.file_name, details={"kind": kind}))
    session.flush()
    return [v.file_name for v in doomed]


def kind_due(session: Session, settings: Settings, today_local: datetime) -> str:
    """The kind a scheduled run makes: monthly when none this month, weekly when none this week, else daily."""
    made = backups(session, settings)
    zone = today_local.tzinfo

    def local(view: BackupView) -> datetime:
        return view.made_at.astimezone(zone)

    if not any(
        v.kind == "monthly" and local(v).strftime("%Y%m") == today_local.strftime("%Y%m") for v in made
    ):
        return "monthly"
    this_week = today_local.isocalendar()[:2]
    if not any(v.kind == "weekly" and local(v).isocalendar()[:2] == this_week for v in made):
        return "weekly"
    return "daily"
