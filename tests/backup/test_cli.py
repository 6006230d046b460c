"""`custinfo backup` as an operator runs it (SQLite in a temporary data dir): create, list, verify, restore."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from tests.e2e.test_cli import run


def _env(tmp_path: Path) -> dict[str, str]:
    return {
        "CUSTINFO_KEY_FILE": str(tmp_path / "keys" / "keys.json"),
        "CUSTINFO_BACKUP_DIR": str(tmp_path / "backups"),
        "CUSTINFO_BACKUP_KEY_FILE": str(tmp_path / "keys" / "backup-key.json"),
        "CUSTINFO_AUDIT_ANCHOR_FILE": str(tmp_path / "keys" / "anchor.jsonl"),
        "CUSTINFO_LANGUAGE": "en",
    }


def _count(data: Path, table: str) -> int:
    with sqlite3.connect(data / "custinfo.db") as connection:
        (count,) = connection.execute(f"SELECT count(*) FROM {table}").fetchone()
    connection.close()
    return int(count)


def test_create_list_verify_restore(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    env = _env(tmp_path)
    assert run(data, "init", "--admin-password", "Backup-2026-pass", **env).returncode == 0

    made = run(data, "backup", "create", "--kind", "weekly", **env)
    assert made.returncode == 0, made.stderr
    assert "Backup made:" in made.stdout and "Verified by a test restore" in made.stdout
    (archive,) = (tmp_path / "backups").glob("*.cibackup")
    assert archive.name.endswith("-weekly.cibackup")

    listed = run(data, "backup", "list", **env)
    assert listed.returncode == 0 and archive.name in listed.stdout and "passed" in listed.stdout

    verified = run(data, "backup", "verify", str(archive), **env)
    assert verified.returncode == 0, verified.stderr
    assert "rows match the manifest" in verified.stdout

    users = _count(data, "users")
    with sqlite3.connect(data / "custinfo.db") as connection:
        connection.execute("UPDATE users SET display_name = 'changed'")
    connection.close()

    refused = run(data, "backup", "restore", str(archive), **env)  # no --yes, no terminal: nothing happens
    assert refused.returncode != 0
    with sqlite3.connect(data / "custinfo.db") as connection:
        assert connection.execute("SELECT display_name FROM users").fetchone()[0] == "changed"
    connection.close()

    restored = run(data, "backup", "restore", str(archive), "--yes", **env)
    assert restored.returncode == 0, restored.stderr
    assert "Restored" in restored.stdout
    with sqlite3.connect(data / "custinfo.db") as connection:
        assert connection.execute("SELECT display_name FROM users").fetchone()[0] != "changed"
    connection.close()
    assert _count(data, "users") == users
    audit = run(data, "audit", "verify", **env)
    assert audit.returncode == 0, audit.stderr


def test_verify_fails_with_a_one_line_reason(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    env = _env(tmp_path)
    assert run(data, "init", "--admin-password", "Backup-2026-pass", **env).returncode == 0
    assert run(data, "backup", "create", "--no-verify", **env).returncode == 0
    (archive,) = (tmp_path / "backups").glob("*.cibackup")
    listed = run(data, "backup", "list", **env)
    assert "never verified" in listed.stdout

    blob = bytearray(archive.read_bytes())
    blob[-50] ^= 0xFF
    archive.write_bytes(bytes(blob))
    failed = run(data, "backup", "verify", str(archive), **env)
    assert failed.returncode == 1
    assert failed.stderr.strip().count("\n") == 0
    assert "damaged" in failed.stderr and "Traceback" not in failed.stderr
    assert "FAILED" in run(data, "backup", "list", **env).stdout

    wrong_key = {**env, "CUSTINFO_BACKUP_KEY_FILE": str(tmp_path / "elsewhere" / "backup-key.json")}
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / "backup-key.json").write_text(
        (tmp_path / "keys" / "backup-key.json")
        .read_text()
        .replace('"current": "', '"current": "x')
        .replace('"keys": {\n    "', '"keys": {\n    "x')
    )
    failed = run(data, "backup", "verify", str(archive), **wrong_key)
    assert failed.returncode == 1 and "backup key" in failed.stderr

    missing = run(data, "backup", "verify", str(tmp_path / "absent.cibackup"), **env)
    assert missing.returncode == 1 and "not found" in missing.stderr

    bad_kind = run(data, "backup", "create", "--kind", "hourly", **env)
    assert bad_kind.returncode == 1 and "--kind" in bad_kind.stderr
