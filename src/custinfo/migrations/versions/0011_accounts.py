"""accounts and organisation: department heads, integration accounts, forced password change, token labels

Revision ID: 0011_accounts
Revises: 0010_audit_mac
Create Date: 2026-12-07

Existing users become people (`kind` person) who need not change their password; existing
departments have no head. `version` starts at 1 for every user and department.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011_accounts"
down_revision = "0010_audit_mac"
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    """Add the new columns (with defaults for the rows already there)."""
    with op.batch_alter_table("users", recreate="never") as batch_op:
        batch_op.add_column(sa.Column("kind", sa.String(length=12), nullable=False, server_default="person"))
        batch_op.add_column(
            sa.Column("must_change_password", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(sa.Column("version", sa.Integer(), nullable=False, server_default="1"))
    # Added in place, never by copying the table (users, customers and requests refer to departments).
    if op.get_bind().dialect.name == "sqlite":
        # SQLite cannot add a constraint to a table, but takes the reference inline in ADD COLUMN.
        op.execute(
            "ALTER TABLE departments ADD COLUMN head_id INTEGER REFERENCES users (id) ON DELETE SET NULL"
        )
    else:
        op.add_column("departments", sa.Column("head_id", BIG_ID, nullable=True))
        op.create_foreign_key(
            "fk_departments_head_id_users", "departments", "users", ["head_id"], ["id"], ondelete="SET NULL"
        )
    with op.batch_alter_table("departments", recreate="never") as batch_op:
        batch_op.add_column(sa.Column("version", sa.Integer(), nullable=False, server_default="1"))
        batch_op.create_index("ix_departments_head_id", ["head_id"])
    with op.batch_alter_table("auth_sessions", recreate="never") as batch_op:
        batch_op.add_column(sa.Column("label", sa.String(length=100), nullable=True))


def downgrade() -> None:
    """Drop the columns again."""
    with op.batch_alter_table("auth_sessions", recreate="never") as batch_op:
        batch_op.drop_column("label")
    with op.batch_alter_table("departments") as batch_op:
        batch_op.drop_index("ix_departments_head_id")
        batch_op.drop_column("version")
        batch_op.drop_column("head_id")
    with op.batch_alter_table("users", recreate="never") as batch_op:
        batch_op.drop_column("version")
        batch_op.drop_column("must_change_password")
        batch_op.drop_column("kind")
