"""The audit chain's anchor: (sequence number, MAC) of the chain head, appended to a file outside the database.

After every commit that appended audit entries, the last entry's sequence number
and MAC are appended as one JSON line to the anchor file
(`CUSTINFO_AUDIT_ANCHOR_FILE`, default `<data dir>/audit-anchor.jsonl`).
`custinfo audit verify` checks the database's chain against the highest record
in it, so deleting the whole log, or its tail with the head row fixed up, is
found even though the database is self-consistent. Several processes may append
to the same file: lines are short single `write`s in append mode, and the
reader takes the highest sequence number, whatever the order of lines — except
after a restore record: a restore from a backup shortens the chain on purpose,
so its record (the anchor of the `backup.restored` entry, a MAC only the audit
key can make) supersedes every line before it.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session

from custinfo.config import Settings
from custinfo.core.db import utcnow

log = logging.getLogger(__name__)
NOTED = "audit_anchor"
HOOKED = "audit_anchor_hooked"

_path: Path | None = None


@dataclass(frozen=True)
class Anchor:
    """One anchor record: the chain's last sequence number and that entry's MAC at some commit."""

    seq: int
    mac: str


def configure(settings: Settings) -> Path:
    """Make the settings' anchor file the one this process appends to."""
    global _path
    _path = settings.effective_audit_anchor_file
    return _path


def anchor_path() -> Path:
    """The anchor file of this process (from the environment's settings unless configured)."""
    return _path if _path is not None else Settings().effective_audit_anchor_file


def append(path: Path, anchor: Anchor, restored: bool = False) -> None:
    """Append one anchor record (file created 0600) and flush it to disk; `restored` marks a restore's."""
    path.parent.mkdir(parents=True, exist_ok=True)
    record: dict[str, Any] = {"seq": anchor.seq, "mac": anchor.mac, "at": utcnow().isoformat()}
    if restored:
        record["restored"] = True
    line = json.dumps(record) + "\n"
    descriptor = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(descriptor, line.encode("ascii"))
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def latest(path: Path) -> Anchor | None:
    """The record with the highest sequence number (the later line on a tie), or None when there is none.

    Only lines from the last restore record on count. A line that does not parse (a write cut short by a
    crash) is skipped.
    """
    best: Anchor | None = None
    try:
        with path.open(encoding="utf-8") as handle:
            for line in handle:
                try:
                    data = json.loads(line)
                    candidate = Anchor(int(data["seq"]), str(data["mac"]))
                except (ValueError, KeyError, TypeError):
                    continue
                if data.get("restored") is True or best is None or candidate.seq >= best.seq:
                    best = candidate
    except FileNotFoundError:
        return None
    return best


def note(session: Session, anchor: Anchor) -> None:
    """Remember the chain head this transaction wrote; it is appended to the anchor file once it commits."""
    session.info[NOTED] = anchor
    if not session.info.get(HOOKED):
        session.info[HOOKED] = True
        event.listen(session, "after_commit", _write_noted)
        event.listen(session, "after_rollback", _forget_noted)


def _write_noted(session: Session) -> None:
    noted: Anchor | None = session.info.pop(NOTED, None)
    if noted is None:
        return
    path = anchor_path()
    try:
        append(path, noted)
    except OSError as error:
        # The commit cannot be undone now; entries after the last record stay protected by their MACs alone.
        log.error("audit anchor not written to %s: %s", path, error.strerror)


def _forget_noted(session: Session, *_: Any) -> None:
    session.info.pop(NOTED, None)
