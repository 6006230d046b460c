"""The audit log's chain: storable canonical entries, keyed MACs, append under a lock, verification.

Each entry's `hash` is an HMAC-SHA256, under the audit key of the key ring file
(outside the database, like the field keys), over the canonical JSON of its
fields (sequence number, UTC time to the microsecond, actor, role, action,
target, customer, masked details, address) together with the previous entry's
MAC. Appends lock the single `audit_chain_head` row (SELECT … FOR UPDATE on
PostgreSQL; SQLite runs one writer at a time), so sequence numbers are gap-free
and the chain is linear; the head row repeats the last sequence number and MAC,
and every commit appends them to the anchor file (`custinfo.audit.anchor`).

Every value is made storable before it is sealed: control characters and lone
surrogates replaced, strings cut to their column's length (with "…"), details
bounded in depth, items and size, numbers kept within what both databases hold.
So what is sealed is exactly what SQLite and PostgreSQL store and read back, and
no user input can make an append (and with it the transaction) fail. Chains
written before migration 0010 used plain SHA-256 (`legacy_hash`); the migration
re-sealed them with the MAC after checking them.
"""

from __future__ import annotations

import hashlib
import json
import math
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import String, insert, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from custinfo.audit.anchor import Anchor
from custinfo.audit.models import AuditChainHead, AuditEntry
from custinfo.core.db import utcnow
from custinfo.security import crypto

GENESIS = "0" * 64
HEAD_ID = 1
HASHED = (
    "seq", "occurred_at", "actor", "role", "action", "target_type", "target_id", "customer_id", "details",
    "address",
)  # fmt: skip
# Column lengths of audit_log: strings are cut to these before they are sealed.
LIMITS = {
    column.name: int(column.type.length)
    for column in AuditEntry.__table__.columns
    if isinstance(column.type, String) and column.type.length
}
TEXT_IN_DETAILS = 1000
KEY_IN_DETAILS = 100
ITEMS_IN_DETAILS = 200
DEPTH_IN_DETAILS = 6
DETAILS_SIZE = 65536
BIGINT = 2**63 - 1
REPLACEMENT = "\ufffd"
ELLIPSIS = "…"


def canonical(value: Any) -> str:
    """Deterministic JSON: sorted keys, no spaces, UTF-8 kept."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def _clean(text: str, controls: bool) -> str:
    # NUL and lone surrogates cannot be stored in PostgreSQL text; other controls only in a one-line column.
    return "".join(
        REPLACEMENT
        if ch == "\x00" or unicodedata.category(ch) == "Cs" or (controls and unicodedata.category(ch) == "Cc")
        else ch
        for ch in text
    )


def storable(value: Any, limit: int, controls: bool = True) -> str | None:
    """`value` as text both databases store unchanged: unstorable characters replaced, at most `limit` long."""
    if value is None:
        return None
    text = _clean(str(value)[: limit + 1], controls)
    return text if len(text) <= limit else text[: limit - 1] + ELLIPSIS


def _bounded(value: Any, depth: int) -> Any:
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value if -BIGINT <= value <= BIGINT else str(value)
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, str):
        return storable(value, TEXT_IN_DETAILS, controls=False)
    if isinstance(value, dict | list | tuple | set | frozenset) and depth >= DEPTH_IN_DETAILS:
        return f"<{type(value).__name__} nested deeper than {DEPTH_IN_DETAILS}>"
    if isinstance(value, dict):
        return {
            storable(key, KEY_IN_DETAILS): _bounded(item, depth + 1)
            for key, item in list(value.items())[:ITEMS_IN_DETAILS]
        }
    if isinstance(value, list | tuple):
        return [_bounded(item, depth + 1) for item in value[:ITEMS_IN_DETAILS]]
    if isinstance(value, set | frozenset):
        return sorted(_bounded(str(item), depth + 1) for item in list(value)[:ITEMS_IN_DETAILS])
    return storable(value, TEXT_IN_DETAILS, controls=False)


def bounded_details(details: dict[str, Any] | None) -> dict[str, Any]:
    """Details as JSON-native values within the bounds, exactly as the database will return them."""
    data: dict[str, Any] = _bounded(details or {}, 0)
    if len(canonical(data)) > DETAILS_SIZE:
        return {"omitted": f"details longer than {DETAILS_SIZE} characters", "keys": sorted(data)[:50]}
    return data


def _int64(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and abs(value) <= BIGINT else None


def _time(value: datetime) -> str:
    return value.astimezone(UTC).isoformat(timespec="microseconds")


def _body(fields: dict[str, Any], prev_hash: str) -> bytes:
    body = dict(fields)
    body["occurred_at"] = _time(body["occurred_at"])
    body["prev_hash"] = prev_hash
    return canonical(body).encode("utf-8")


def entry_mac(fields: dict[str, Any], prev_hash: str) -> str:
    """HMAC-SHA256 (hex) of an entry's canonical fields chained to the previous MAC, under the audit key."""
    return crypto.active().audit_mac(_body(fields, prev_hash))


def legacy_hash(fields: dict[str, Any], prev_hash: str) -> str:
    """The keyless SHA-256 of chains before migration 0010 (the migration checks old entries with it)."""
    return hashlib.sha256(_body(fields, prev_hash)).hexdigest()


def storable_fields(
    seq: int,
    *,
    actor: str,
    role: str | None,
    action: str,
    target_type: str | None = None,
    target_id: str | int | None = None,
    customer_id: int | None = None,
    details: dict[str, Any] | None = None,
    address: str | None = None,
) -> dict[str, Any]:
    """An entry's sealed fields, each bounded so it is stored exactly as given."""
    return {
        "seq": seq,
        "occurred_at": utcnow(),
        "actor": storable(actor, LIMITS["actor"]) or "",
        "role": storable(role, LIMITS["role"]),
        "action": storable(action, LIMITS["action"]) or "",
        "target_type": storable(target_type, LIMITS["target_type"]),
        "target_id": storable(target_id, LIMITS["target_id"]),
        "customer_id": _int64(customer_id),
        "details": bounded_details(details),
        "address": storable(address, LIMITS["address"]),
    }


def append(
    executor: Session | Connection,
    *,
    actor: str,
    role: str | None,
    action: str,
    target_type: str | None = None,
    target_id: str | int | None = None,
    customer_id: int | None = None,
    details: dict[str, Any] | None = None,
    address: str | None = None,
) -> Anchor:
    """Append one entry at the end of the chain (inside the caller's transaction); returns the new head."""
    head = executor.execute(
        select(AuditChainHead.seq, AuditChainHead.hash).where(AuditChainHead.id == HEAD_ID).with_for_update()
    ).one_or_none()
    if head is None:
        executor.execute(insert(AuditChainHead).values(id=HEAD_ID, seq=0, hash=GENESIS))
        last_seq, last_hash = 0, GENESIS
    else:
        last_seq, last_hash = int(head.seq), str(head.hash)
    fields = storable_fields(
        last_seq + 1,
        actor=actor,
        role=role,
        action=action,
        target_type=target_type,
        target_id=target_id,
        customer_id=customer_id,
        details=details,
        address=address,
    )
    mac = entry_mac(fields, last_hash)
    executor.execute(insert(AuditEntry).values(**fields, prev_hash=last_hash, hash=mac))
    executor.execute(
        update(AuditChainHead).where(AuditChainHead.id == HEAD_ID).values(seq=fields["seq"], hash=mac)
    )
    return Anchor(fields["seq"], mac)


@dataclass(frozen=True)
class Verification:
    """Result of re-computing the chain: how many entries checked, and the first bad one if any."""

    checked: int
    bad_seq: int | None = None
    reason: str | None = None
    head: str = GENESIS  # the MAC of the last entry checked

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


def _against_anchor(checked: int, macs: dict[int, str], anchor: Anchor) -> Verification | None:
    if anchor.seq > checked:
        return Verification(
            checked,
            checked + 1,
            f"entry {checked + 1} and every later one up to {anchor.seq} were deleted "
            f"(the log ends at entry {checked}, the anchor file records entry {anchor.seq})",
        )
    if anchor.seq > 0 and macs.get(anchor.seq) != anchor.mac:
        return Verification(
            checked,
            anchor.seq,
            f"entry {anchor.seq} does not match the anchor file (the chain was re-sealed)",
        )
    return None


def verify(
    connection: Connection,
    batch: int = 5000,
    progress: Any = None,
    anchor: Anchor | None = None,
    anchored: bool = False,
) -> Verification:
    """Re-compute every MAC in order; name the first entry that was edited, deleted, inserted or reordered.

    With `anchor` (the anchor file's highest record) the chain must reach it and hold its MAC there;
    with `anchored` a log with entries but no anchor record fails too.
    """
    expected_seq, prev = 1, GENESIS
    checked = 0
    wanted: dict[int, str] = {}
    for row in _entries(connection, batch):
        fields = {name: getattr(row, name) for name in HASHED}
        if row.seq != expected_seq:
            missing = f"entry {expected_seq}" if row.seq > expected_seq else f"entry {row.seq}"
            return Verification(
                checked, expected_seq, f"{missing} is missing or out of order (found {row.seq})"
            )
        if row.prev_hash != prev:
            return Verification(checked, row.seq, f"entry {row.seq} does not follow entry {row.seq - 1}")
        if entry_mac(fields, row.prev_hash) != row.hash:
            return Verification(checked, row.seq, f"entry {row.seq} was altered (MAC mismatch)")
        if anchor is not None and row.seq == anchor.seq:
            wanted[row.seq] = row.hash
        prev = row.hash
        expected_seq += 1
        checked += 1
        if progress is not None and checked % batch == 0:
            progress(checked)
    if anchor is not None:
        refused = _against_anchor(checked, wanted, anchor)
        if refused is not None:
            return refused
    elif anchored and checked > 0:
        return Verification(
            checked,
            None,
            f"the anchor file has no record of the chain's {checked} entries "
            "(deleted, or never written: run `custinfo audit anchor` once after upgrading)",
        )
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
    return Verification(checked, head=prev)
