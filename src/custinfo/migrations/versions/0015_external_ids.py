"""external ids on customers, orders, contracts and interactions; idempotency keys

Revision ID: 0015_external_ids
Revises: 0010_audit_mac
Create Date: 2026-12-08

Another system (a web shop, an ERP) refers to its records by its own id: `external_id`, optional
and unique per kind. A creating POST sent with an `Idempotency-Key` header keeps its first answer
in `idempotency_keys` (the body encrypted) for 24 hours, so a retry creates nothing.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from custinfo.core.db import BigId
from custinfo.core.types import UTCDateTime

revision = "0015_external_ids"
down_revision = "0014_configuration"
branch_labels = None
depends_on = None

TABLES = ("customers", "orders", "contracts", "interactions")


def upgrade() -> None:
    """Add the external id columns (unique per table) and the idempotency key table."""
    for table in TABLES:
        # In place with a unique index, never by copying the table: on SQLite a copy drops the old
        # `customers`, and ON DELETE CASCADE would take every order, contact and contract with it.
        op.add_column(table, sa.Column("external_id", sa.String(100), nullable=True))
        op.create_index(op.f(f"ix_{table}_external_id"), table, ["external_id"], unique=True)
    op.create_table(
        "idempotency_keys",
        sa.Column("id", BigId, primary_key=True),
        sa.Column("owner", sa.String(80), nullable=False),
        sa.Column("key", sa.String(200), nullable=False),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("status", sa.Integer(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_idempotency_keys"),
        sa.UniqueConstraint("owner", "key", name="uq_idempotency_keys_owner"),
    )
    op.create_index("ix_idempotency_keys_expires_at", "idempotency_keys", ["expires_at"])


def downgrade() -> None:
    """Drop the idempotency key table and the external id columns."""
    op.drop_index("ix_idempotency_keys_expires_at", table_name="idempotency_keys")
    op.drop_table("idempotency_keys")
    for table in reversed(TABLES):
        op.drop_index(op.f(f"ix_{table}_external_id"), table_name=table)
        with op.batch_alter_table(table, recreate="never") as batch:
            batch.drop_column("external_id")
