"""The hash chain of the audit log: canonical form, append under a lock, verification.

Each entry's hash is SHA-256 over the canonical JSON of its fields (sequence
number, UTC time, actor, role, action, target, customer, masked details,
address) together with the previous entry's hash. Appends lock the single
`audit_chain_head` row (SELECT … FOR UPDATE on PostgreSQL; SQLite runs one
writer at a time), so sequence numbers are gap-free and the chain is linear.
Because the head row repeats the last sequence number and hash, deleting
entries at the tail is detected too.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from custinfo.audit.models import AuditChainHead, AuditEntry
from custinfo.core.db import utcnow

GENESIS = "0" * 64
HEAD_ID = 1


def canonical(value: Any) -> str:
    """Deterministic JSON: sorted keys, no spaces, UTF-8 kept."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def _time(value: datetime) -> str:
    return value.astimezone(UTC).isoformat(timespec="microseconds")


def entry_hash(fields: dict[str, Any], prev_hash: str) -> str:
    """SHA-256 (hex) of an entry's canonical fields chained to the previous hash."""
    body = dict(fields)
    body["occurred_at"] = _time(body["occurred_at"])
    body["prev_hash"] = prev_hash
    return hashlib.sha256(canonical(body).encode("utf-8")).hexdigest()


HASHED = (
    "seq", "occurred_at", "actor", "role", "action", "target_type", "target_id", "customer_id", "details",
    "address",
)  # fmt: skip


def append(
    session: Session,
    *,
    actor: str,
    role: str | None,
    action: str,
    target_type: str | None = None,
    target_id: str | int | None = None,
    customer_id: int | None = None,
    details: dict[str, Any] | None = None,
    address: str | None = None,
) -> AuditEntry:
    """Append one entry at the end of the chain (inside the caller's transaction)."""
    head = session.execute(
        select(AuditChainHead.seq, AuditChainHead.hash).where(AuditChainHead.id == HEAD_ID).with_for_update()
    ).one_or_none()
    if head is None:
        session.execute(insert(AuditChainHead).values(id=HEAD_ID, seq=0, hash=GENESIS))
        last_seq, last_hash = 0, GENESIS
    else:
        last_seq, last_hash = int(head.seq), str(head.hash)
    fields: dict[str, Any] = {
        "seq": last_seq + 1,
        "occurred_at": utcnow(),
        "actor": actor[:64],
        "role": role,
        "action": action,
        "target_type": target_type,
        "target_id": None if target_id is None else str(target_id),
        "customer_id": customer_id,
        # Round-trip through canonical JSON so what is stored is exactly what was hashed.
        "details": json.loads(canonical(details or {})),
        "address": address,
    }
    digest = entry_hash(fields, last_hash)
    entry = AuditEntry(**fields, prev_hash=last_hash, hash=digest)
    session.add(entry)
    session.execute(
        update(AuditChainHead).where(AuditChainHead.id == HEAD_ID).values(seq=fields["seq"], hash=digest)
    )
    return entry


@dataclass(frozen=True)
class Verification:
    """Result of re-computing the chain: how many entries checked, and the first bad one if any."""

    checked: int
    bad_seq: int | None = None
    reason: str | None = None

    @property
    def ok(self) -> bool:
        """True when the whole chain is intact."""
        return self.bad_seq is None and self.reason is None


def _entries(connection: Connection, batch: int) -> Iterator[Any]:
    columns = [getattr(AuditEntry, name) for name in HASHED] + [AuditEntry.prev_hash, AuditEntry.hash]
    last = 0
    while True:
        rows = connection.execute(
            select(*columns).where(AuditEntry.seq > last).order_by(AuditEntry.seq).limit(batch)
        ).all()
        if not rows:
            return
        yield from rows
        last = rows[-1].seq


def verify(connection: Connection, batch: int = 5000, progress: Any = None) -> Verification:
    """Re-compute every hash in order; name the first entry that was edited, deleted, inserted or reordered."""
    expected_seq, prev = 1, GENESIS
    checked = 0
    for row in _entries(connection, batch):
        fields = {name: getattr(row, name) for name in HASHED}
        if row.seq != expected_seq:
            missing = f"entry {expected_seq}" if row.seq > expected_seq else f"entry {row.seq}"
            return Verification(
                checked, expected_seq, f"{missing} is missing or out of order (found {row.seq})"
            )
        if row.prev_hash != prev:
            return Verification(checked, row.seq, f"entry {row.seq} does not follow entry {row.seq - 1}")
        if entry_hash(fields, row.prev_hash) != row.hash:
            return Verification(checked, row.seq, f"entry {row.seq} was altered (hash mismatch)")
        prev = row.hash
        expected_seq += 1
        checked += 1
        if progress is not None and checked % batch == 0:
            progress(checked)
    head = connection.execute(
        select(AuditChainHead.seq, AuditChainHead.hash).where(AuditChainHead.id == HEAD_ID)
    ).one_or_none()
    head_seq, head_hash = (0, GENESIS) if head is None else (int(head.seq), str(head.hash))
    if head_seq > checked:
        return Verification(
            checked,
            checked + 1,
            f"entry {checked + 1} and every later one up to {head_seq} were deleted "
            f"(the log ends at entry {checked}, the chain head records entry {head_seq})",
        )
    if head_seq != checked or head_hash != prev:
        return Verification(checked, checked, f"entry {checked} does not match the chain head")
    return Verification(checked)
