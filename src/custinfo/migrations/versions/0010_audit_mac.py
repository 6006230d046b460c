"""the audit chain is re-sealed with a keyed MAC (HMAC-SHA256 under the key file's audit key)

Revision ID: 0010_audit_mac
Revises: 0009
Create Date: 2026-12-07

Entries written before this revision were chained with plain SHA-256, which anyone who edits the
table can recompute. This migration first checks that old chain with the old scheme, then re-seals
every entry in order (only `prev_hash` and `hash` change; what the entries say is kept) and moves
the chain head. The outcome of the old check is itself sealed as the new last entry
(`audit.resealed`, details `legacy_check`): a chain that was already broken is re-sealed too, so
the upgrade is not blocked, but the finding stays in the log for the auditor. Downgrade cannot
restore the keyless hashes and leaves the MACs in place.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

from custinfo.audit import chain
from custinfo.audit.models import AuditEntry

revision = "0010_audit_mac"
down_revision = "0009"
branch_labels = None
depends_on = None

BATCH = 5000
PG_TRIGGER = "audit_log_append_only"
SQLITE_UPDATE_TRIGGER = (
    "CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log "
    "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only (UPDATE refused)'); END"
)


def _legacy_problem(row: Any, fields: dict[str, Any], expected_seq: int, prev: str) -> str | None:
    if row.seq != expected_seq:
        return f"entry {expected_seq} was missing or out of order (found {row.seq})"
    if row.prev_hash != prev:
        return f"entry {row.seq} did not follow entry {row.seq - 1}"
    if chain.legacy_hash(fields, row.prev_hash) != row.hash:
        return f"entry {row.seq} was altered (hash mismatch)"
    return None


def _reseal(bind: sa.engine.Connection) -> tuple[int, str | None]:
    """Re-seal every entry in order; returns how many, and the first problem the old scheme finds."""
    table = sa.table("audit_log", sa.column("seq"), sa.column("prev_hash"), sa.column("hash"))
    # Read through the model's column types, exactly as `audit verify` reads the entries back.
    select_batch = (
        sa.select(
            *(getattr(AuditEntry, name) for name in chain.HASHED), AuditEntry.prev_hash, AuditEntry.hash
        )
        .where(AuditEntry.seq > sa.bindparam("after"))
        .order_by(AuditEntry.seq)
        .limit(BATCH)
    )
    statement = (
        sa.update(table)
        .where(table.c.seq == sa.bindparam("s"))
        .values(prev_hash=sa.bindparam("p"), hash=sa.bindparam("h"))
    )
    problem: str | None = None
    old_prev, new_prev, expected, count, after = chain.GENESIS, chain.GENESIS, 1, 0, 0
    while True:
        rows = bind.execute(select_batch, {"after": after}).all()
        if not rows:
            break
        changes = []
        for row in rows:
            fields = {name: getattr(row, name) for name in chain.HASHED}
            if problem is None:
                problem = _legacy_problem(row, fields, expected, old_prev)
            old_prev, expected = row.hash, row.seq + 1
            mac = chain.entry_mac(fields, new_prev)
            changes.append({"s": row.seq, "p": new_prev, "h": mac})
            new_prev = mac
            count += 1
        bind.execute(statement, changes)
        after = rows[-1].seq
    head = bind.execute(sa.text("SELECT seq FROM audit_chain_head WHERE id = 1")).scalar()
    if problem is None and head is not None and int(head) > count:
        problem = f"entries after {count} up to {int(head)} were deleted"
    bind.execute(
        sa.text("UPDATE audit_chain_head SET seq = :seq, hash = :hash WHERE id = 1"),
        {"seq": count, "hash": new_prev},
    )
    return count, problem


def upgrade() -> None:
    bind = op.get_bind()
    postgres = bind.dialect.name == "postgresql"
    if bind.execute(sa.text("SELECT count(*) FROM audit_log")).scalar() == 0:
        return
    if postgres:
        op.execute(f"ALTER TABLE audit_log DISABLE TRIGGER {PG_TRIGGER}")
    else:
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_update")
    count, problem = _reseal(bind)
    if postgres:
        op.execute(f"ALTER TABLE audit_log ENABLE TRIGGER {PG_TRIGGER}")
    else:
        op.execute(SQLITE_UPDATE_TRIGGER)
    chain.append(
        bind,
        actor="system",
        role="system",
        action="audit.resealed",
        details={"scheme": "hmac-sha256", "entries": count, "legacy_check": problem or "intact"},
    )


def downgrade() -> None:
    """The keyless hashes cannot be restored; the MAC chain stays (and verifies only with this code)."""
