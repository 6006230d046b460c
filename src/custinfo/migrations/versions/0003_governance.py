"""proposals, reviews, tag corrections, quality

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

import custinfo.core.types
from custinfo import defaults as shipped

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    id_type = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
    when = custinfo.core.types.UTCDateTime(timezone=True)
    settings = op.create_table(
        "governance_settings",
        sa.Column("key", sa.String(length=60), nullable=False),
        sa.Column("value", sa.JSON(), nullable=True),
        sa.Column("updated_at", when, nullable=False),
        sa.Column("updated_by", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_governance_settings")),
    )
    op.create_table(
        "tag_proposals",
        sa.Column("id", id_type, nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("impact", sa.JSON(), nullable=True),
        sa.Column("customer_id", sa.BigInteger(), nullable=True),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("proposed_by", sa.String(length=64), nullable=False),
        sa.Column("proposed_by_id", id_type, nullable=True),
        sa.Column("created_at", when, nullable=False),
        sa.Column("updated_at", when, nullable=False),
        sa.Column("decided_by", sa.String(length=64), nullable=True),
        sa.Column("decided_at", when, nullable=True),
        sa.Column("result", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(
            ["proposed_by_id"], ["users.id"], name=op.f("fk_tag_proposals_proposed_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tag_proposals")),
    )
    with op.batch_alter_table("tag_proposals", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_tag_proposals_customer_id"), ["customer_id"], unique=False)
        batch_op.create_index("ix_tag_proposals_status_id", ["status", "id"], unique=False)
    op.create_table(
        "tag_proposal_steps",
        sa.Column("id", id_type, nullable=False),
        sa.Column("proposal_id", id_type, nullable=False),
        sa.Column("action", sa.String(length=20), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("actor_role", sa.String(length=20), nullable=True),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("snapshot", sa.JSON(), nullable=True),
        sa.Column("occurred_at", when, nullable=False),
        sa.ForeignKeyConstraint(
            ["proposal_id"],
            ["tag_proposals.id"],
            name=op.f("fk_tag_proposal_steps_proposal_id_tag_proposals"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tag_proposal_steps")),
    )
    with op.batch_alter_table("tag_proposal_steps", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_tag_proposal_steps_proposal_id"), ["proposal_id"], unique=False)
    op.create_table(
        "tag_corrections",
        sa.Column("id", id_type, nullable=False),
        sa.Column("customer_id", sa.BigInteger(), nullable=False),
        sa.Column("tag_code", sa.String(length=60), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("reported_by", sa.String(length=64), nullable=False),
        sa.Column("reported_at", when, nullable=False),
        sa.Column("resolved_by", sa.String(length=64), nullable=True),
        sa.Column("resolved_at", when, nullable=True),
        sa.Column("outcome", sa.String(length=20), nullable=True),
        sa.Column("resolution_note", sa.Text(), nullable=True),
        sa.Column("proposal_id", id_type, nullable=True),
        sa.ForeignKeyConstraint(
            ["proposal_id"], ["tag_proposals.id"], name=op.f("fk_tag_corrections_proposal_id_tag_proposals")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tag_corrections")),
    )
    with op.batch_alter_table("tag_corrections", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_tag_corrections_customer_id"), ["customer_id"], unique=False)
        batch_op.create_index("ix_tag_corrections_tag_code_status", ["tag_code", "status"], unique=False)
    op.create_table(
        "tag_usage_events",
        sa.Column("id", id_type, nullable=False),
        sa.Column("tag_code", sa.String(length=60), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("occurred_at", when, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tag_usage_events")),
    )
    with op.batch_alter_table("tag_usage_events", schema=None) as batch_op:
        batch_op.create_index(
            "ix_tag_usage_events_tag_code_occurred_at", ["tag_code", "occurred_at"], unique=False
        )
    op.create_table(
        "tag_quality_reviews",
        sa.Column("id", id_type, nullable=False),
        sa.Column("reviewed_on", sa.Date(), nullable=False),
        sa.Column("reviewer", sa.String(length=64), nullable=False),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("created_at", when, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tag_quality_reviews")),
    )
    defaults = shipped.load("governance.json")
    now = datetime.now(UTC)
    op.bulk_insert(
        settings,
        [{"key": k, "value": v, "updated_at": now, "updated_by": "migration"} for k, v in defaults.items()],
    )


def downgrade() -> None:
    for table in (
        "tag_quality_reviews",
        "tag_usage_events",
        "tag_corrections",
        "tag_proposal_steps",
        "tag_proposals",
        "governance_settings",
    ):
        op.drop_table(table)
