"""Where the database and the keys live on disk: private modes on what custinfo creates, warnings on what it finds.

A copy of the data directory (a backup, a stolen disk, another account on the
server) must not also be a copy of the keys: the field keys protect the L3
columns only as long as they live apart from the database.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from sqlalchemy import make_url
from sqlalchemy.exc import ArgumentError

from custinfo.config import Settings

PRIVATE_DIRECTORY = 0o700
PRIVATE_FILE = 0o600
# SQLite writes these beside the database file, with the database file's mode.
SQLITE_COMPANIONS = ("-wal", "-shm", "-journal")


def private_directory(path: Path) -> None:
    """Create the directory (and its parents) for its owner only; an existing one keeps its mode."""
    path.mkdir(mode=PRIVATE_DIRECTORY, parents=True, exist_ok=True)


def private_file(path: Path) -> None:
    """Create an empty file readable and writable by its owner only, unless it already exists."""
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE)
    except FileExistsError:
        return
    os.close(descriptor)


def sqlite_file(database_url: str) -> Path | None:
    """The file of an SQLite database URL; None for another database or an in-memory one."""
    try:
        url = make_url(database_url)
    except ArgumentError:
        return None
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return None
    return Path(url.database)


def prepare_sqlite_file(database_url: str) -> None:
    """Create an SQLite database's directory (0700) and file (0600) before SQLite creates them world-readable."""
    path = sqlite_file(database_url)
    if path is None:
        return
    private_directory(path.parent)
    private_file(path)


def _readable_by_others(path: Path) -> str | None:
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except OSError:
        return None
    return f"{mode:04o}" if mode & 0o077 else None


def _inside(path: Path, directory: Path) -> bool:
    return path.resolve().is_relative_to(directory.resolve())


def storage_warnings(settings: Settings) -> list[str]:
    """What an operator should fix about where the database and the key file live (empty when nothing)."""
    warnings = []
    key_file = settings.effective_key_file
    database = sqlite_file(settings.effective_database_url)
    key_beside = [d for d in (settings.data_dir, database.parent if database else None) if d is not None]
    if any(_inside(key_file, directory) for directory in key_beside):
        warnings.append(
            f"the key file {key_file} is kept with the database: whoever copies that directory (a backup, "
            "a disk) has the data and its keys. In production keep it elsewhere (CUSTINFO_KEY_FILE, "
            "see docs/security.md)."
        )
    backups, backup_key = settings.effective_backup_dir, settings.effective_backup_key_file
    if _inside(backup_key, backups):
        warnings.append(
            f"the backup key {backup_key} is kept with the backups in {backups}: whoever copies the backups "
            "can open them. Keep it elsewhere (CUSTINFO_BACKUP_KEY_FILE, see docs/operations.md)."
        )
    if any(_inside(backups, directory) for directory in key_beside):
        warnings.append(
            f"backups are written to {backups}, on the disk of the database: a disk failure loses both. "
            "Point CUSTINFO_BACKUP_DIR at another disk (see docs/operations.md)."
        )
    checked = [("key file", key_file), ("data directory", settings.data_dir)]
    if database is not None:
        checked.append(("database file", database))
        checked += [
            ("database file", database.with_name(database.name + suffix)) for suffix in SQLITE_COMPANIONS
        ]
    for what, path in checked:
        mode = _readable_by_others(path)
        if mode is not None:
            fix = "700" if path.is_dir() else "600"
            warnings.append(f"the {what} {path} can be read by other users (mode {mode}): chmod {fix} {path}")
    return warnings
