"""field levels, masking rules, access requests and grants

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

import custinfo.core.types
from custinfo import defaults as shipped

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    catalogue = op.create_table(
        "field_catalogue_versions",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("document", sa.JSON(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("author", sa.String(length=64), nullable=False),
        sa.Column("created_at", custinfo.core.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_field_catalogue_versions")),
        sa.UniqueConstraint("version", name=op.f("uq_field_catalogue_versions_version")),
    )
    op.create_table(
        "access_requests",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("requester_id", BIG_ID, nullable=False),
        sa.Column("department_id", BIG_ID, nullable=True),
        sa.Column("target", sa.String(length=10), nullable=False),
        sa.Column("level", sa.String(length=2), nullable=True),
        sa.Column("customer_id", BIG_ID, nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("days", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("approver_id", BIG_ID, nullable=True),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("created_at", custinfo.core.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("decided_at", custinfo.core.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("expires_at", custinfo.core.types.UTCDateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "status IN ('pending', 'approved', 'rejected')", name=op.f("ck_access_requests_status")
        ),
        sa.CheckConstraint("target IN ('level', 'customer')", name=op.f("ck_access_requests_target")),
        sa.ForeignKeyConstraint(
            ["requester_id"],
            ["users.id"],
            name=op.f("fk_access_requests_requester_id_users"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["department_id"], ["departments.id"], name=op.f("fk_access_requests_department_id_departments")
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_access_requests_customer_id_customers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["approver_id"], ["users.id"], name=op.f("fk_access_requests_approver_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_access_requests")),
    )
    with op.batch_alter_table("access_requests", schema=None) as batch_op:
        batch_op.create_index(
            "ix_access_requests_requester_id_status", ["requester_id", "status"], unique=False
        )
        batch_op.create_index("ix_access_requests_status_id", ["status", "id"], unique=False)
    op.bulk_insert(
        catalogue,
        [
            {
                "version": 1,
                "document": shipped.load("field_levels.json"),
                "reason": "defaults (REQUIREMENTS §3.1)",
                "author": "system",
                "created_at": datetime.now(UTC),
            }
        ],
    )


def downgrade() -> None:
    with op.batch_alter_table("access_requests", schema=None) as batch_op:
        batch_op.drop_index("ix_access_requests_status_id")
        batch_op.drop_index("ix_access_requests_requester_id_status")
    op.drop_table("access_requests")
    op.drop_table("field_catalogue_versions")
