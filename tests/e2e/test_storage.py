"""Files on disk as an operator finds them: private modes, warnings about exposed keys, no orphaned processes."""

from __future__ import annotations

import os
import signal
import sqlite3
import stat
import subprocess
import time
from pathlib import Path

from tests.e2e.test_cli import CUSTINFO, environment, run

from custinfo.config import Settings
from custinfo.security.storage import storage_warnings


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_init_creates_the_data_directory_and_database_for_their_owner_only(tmp_path: Path) -> None:
    data = tmp_path / "var"
    keys = tmp_path / "secrets" / "keys.json"
    data.mkdir(mode=0o700)
    result = run(
        data,
        "init",
        CUSTINFO_KEY_FILE=str(keys),
        CUSTINFO_BACKUP_DIR=str(tmp_path / "mounted" / "backups"),
        CUSTINFO_BACKUP_KEY_FILE=str(keys.with_name("backup-key.json")),
    )
    assert result.returncode == 0, result.stderr
    database = data / "custinfo.db"
    with sqlite3.connect(database) as db:  # a write leaves the WAL beside the file
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("CREATE TABLE probe (x)")
        assert (data / "custinfo.db-wal").exists()
        assert mode(data / "custinfo.db-wal") == 0o600
    assert mode(database) == 0o600
    assert mode(keys) == 0o600
    assert "Warning" not in result.stderr, result.stderr


def test_a_fresh_data_directory_is_private(tmp_path: Path) -> None:
    data = tmp_path / "fresh" / "var"
    result = subprocess.run(
        [str(CUSTINFO), "init"],
        cwd=tmp_path,
        env=environment(data),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert mode(data) == 0o700
    assert mode(data / "custinfo.db") == 0o600


def test_init_and_serve_warn_when_the_key_file_lives_with_the_database(tmp_path: Path) -> None:
    result = run(tmp_path, "init")
    assert result.returncode == 0
    assert "key file" in result.stderr and "CUSTINFO_KEY_FILE" in result.stderr


def test_warnings_name_files_readable_by_others(tmp_path: Path) -> None:
    data, keys = tmp_path / "var", tmp_path / "keys.json"
    data.mkdir(mode=0o755)
    data.chmod(0o755)
    keys.write_text("{}")
    keys.chmod(0o644)
    backups = tmp_path / "mounted" / "backups"
    settings = Settings(
        data_dir=data, key_file=keys, backup_dir=backups, backup_key_file=tmp_path / "backup-key.json"
    )
    warnings = storage_warnings(settings)
    assert any(f"key file {keys}" in w and "0644" in w and "chmod 600" in w for w in warnings), warnings
    assert any(f"data directory {data}" in w and "chmod 700" in w for w in warnings), warnings
    assert not any("kept with the database" in w for w in warnings)
    keys.chmod(0o600)
    data.chmod(0o700)
    assert storage_warnings(settings) == []
    assert any(
        "kept with the database" in w for w in storage_warnings(Settings(data_dir=data, key_file=None))
    )


def test_warnings_name_backups_kept_with_the_database_or_with_their_key(tmp_path: Path) -> None:
    data = tmp_path / "var"
    data.mkdir(mode=0o700)
    keys = tmp_path / "keys.json"
    alongside = storage_warnings(Settings(data_dir=data, key_file=keys, backup_dir=None))
    assert any("on the disk of the database" in w and "CUSTINFO_BACKUP_DIR" in w for w in alongside)
    backups = tmp_path / "mounted"
    together = storage_warnings(
        Settings(data_dir=data, key_file=keys, backup_dir=backups, backup_key_file=backups / "k.json")
    )
    assert [w for w in together if "backup" in w] == [
        f"the backup key {backups / 'k.json'} is kept with the backups in {backups}: whoever copies the "
        "backups can open them. Keep it elsewhere (CUSTINFO_BACKUP_KEY_FILE, see docs/operations.md)."
    ]


def _children(pid: int) -> set[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return {int(child) for child in path.read_text().split()} if path.exists() else set()


def _running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state != "Z"  # a zombie has exited; reaping it is its new parent's business


def test_killing_the_demo_leaves_no_process_behind(tmp_path: Path) -> None:
    # From 20,000 customers the demo generates rows in a child process.
    demo = subprocess.Popen(
        [str(CUSTINFO), "demo", "--customers", "60000", "--no-serve"],
        cwd=tmp_path,
        env=environment(tmp_path),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 120
        while not (children := _children(demo.pid)):
            assert demo.poll() is None, "the demo ended before its row generator started"
            assert time.monotonic() < deadline, "the demo did not start its row generator within 120 s"
            time.sleep(0.1)
        os.kill(demo.pid, signal.SIGKILL)
        demo.wait(timeout=30)
        deadline = time.monotonic() + 15
        while any(_running(child) for child in children):
            assert time.monotonic() < deadline, "the demo's row generator outlived the killed demo by 15 s"
            time.sleep(0.2)
    finally:
        if demo.poll() is None:
            demo.kill()
