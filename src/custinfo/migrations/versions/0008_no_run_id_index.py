"""tag_assignments loses its run-id index: a full run counts what it changed while writing

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07
"""

from __future__ import annotations

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_tag_assignments_run_id", table_name="tag_assignments")


def downgrade() -> None:
    op.create_index("ix_tag_assignments_run_id", "tag_assignments", ["run_id"], unique=False)
