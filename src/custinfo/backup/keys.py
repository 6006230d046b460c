"""The backup key: a file of AES-256 keys (one current) that encrypt backup archives.

It is not the field key ring and lives neither in the database nor in the backup directory: an archive
and its key must not travel together. Ids are random, so an archive made with another key file is
named as such instead of failing as "damaged".
"""

from __future__ import annotations

import base64
import json
import os
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from custinfo.security.storage import PRIVATE_FILE, private_directory

KEY_BYTES = 32


class BackupKeyError(Exception):
    """The backup key file is absent, unreadable or malformed; the message says which and where."""


@dataclass(frozen=True)
class BackupKeys:
    """The backup keys by id and the id new archives are made with."""

    keys: dict[str, bytes]
    current: str
    path: Path

    def key(self, key_id: str) -> bytes | None:
        """The key of that id, if this file holds it."""
        return self.keys.get(key_id)


def _new_id() -> str:
    return secrets.token_hex(4)


def load(path: Path) -> BackupKeys:
    """Read the backup key file (BackupKeyError when absent or malformed)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        keys = {str(kid): base64.b64decode(entry["key"]) for kid, entry in data["keys"].items()}
        current = str(data["current"])
    except FileNotFoundError:
        raise BackupKeyError(
            f"backup key file {path} not found (set CUSTINFO_BACKUP_KEY_FILE to where you keep it)"
        ) from None
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as error:
        raise BackupKeyError(f"backup key file {path} is unreadable or malformed: {error}") from None
    if current not in keys or any(len(k) != KEY_BYTES for k in keys.values()):
        raise BackupKeyError(f"backup key file {path} is malformed: keys must be 32 bytes, one current")
    return BackupKeys(keys=keys, current=current, path=path)


def ensure(path: Path) -> BackupKeys:
    """The backup key file, made (owner-only) with one new key when it does not exist yet."""
    if path.exists():
        return load(path)
    private_directory(path.parent)
    key_id = _new_id()
    payload = {
        "purpose": "custinfo backup archives — keep a copy apart from the backups and the field key file",
        "current": key_id,
        "keys": {
            key_id: {
                "key": base64.b64encode(secrets.token_bytes(KEY_BYTES)).decode(),
                "created": datetime.now(UTC).isoformat(timespec="seconds"),
            }
        },
    }
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE)
    except FileExistsError:  # made by a concurrent run in between
        return load(path)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        json.dump(payload, handle, indent=2)
    return load(path)
