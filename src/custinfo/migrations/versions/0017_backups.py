"""backups (one row per archive made or verified) and the versioned backup policy

Revision ID: 0017_backups
Revises: 0016_product_categories
Create Date: 2026-12-08
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import custinfo.core.types

revision = "0017_backups"
down_revision = "0016_product_categories"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Stamp = custinfo.core.types.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "backups",
        sa.Column("id", BigId, nullable=False),
        sa.Column("file_name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("made_at", Stamp, nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("dialect", sa.String(length=20), nullable=False),
        sa.Column("schema_revision", sa.String(length=60), nullable=False),
        sa.Column("total_rows", sa.BigInteger(), nullable=False),
        sa.Column("made_by", sa.String(length=64), nullable=False),
        sa.Column("verified_at", Stamp, nullable=True),
        sa.Column("verified_ok", sa.Boolean(), nullable=True),
        sa.Column("failure", sa.String(length=100), nullable=True),
        sa.Column("failure_params", sa.JSON(), nullable=False),
        sa.Column("verified_by", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_backups")),
        sa.UniqueConstraint("file_name", name=op.f("uq_backups_file_name")),
    )
    op.create_table(
        "backup_policy_versions",
        sa.Column("id", BigId, nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("keep_daily", sa.Integer(), nullable=False),
        sa.Column("keep_weekly", sa.Integer(), nullable=False),
        sa.Column("keep_monthly", sa.Integer(), nullable=False),
        sa.Column("run_at", sa.String(length=5), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", Stamp, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_backup_policy_versions")),
        sa.UniqueConstraint("number", name=op.f("uq_backup_policy_versions_number")),
    )


def downgrade() -> None:
    op.drop_table("backup_policy_versions")
    op.drop_table("backups")
