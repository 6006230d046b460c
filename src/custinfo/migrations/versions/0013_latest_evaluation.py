"""latest evaluation per customer (figures a run confirmed) and the history of earlier ones

Revision ID: 0013_latest_evaluation
Revises: 0010_audit_mac
Create Date: 2026-12-07

A tag a later run confirms is explained with the figures of that run, not those of the run that
first gave it: `classification_states` keeps the latest evaluation's figures (`features`, their
fingerprint `figures`, `as_of`), and `classification_evaluations` keeps the earlier ones a run
replaced. Existing states get NULL figures: the next run fills them.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013_latest_evaluation"
down_revision = "0012_contract_renewals"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("classification_states", recreate="never") as batch:
        batch.add_column(sa.Column("features", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("figures", sa.Text(), nullable=True))
        batch.add_column(sa.Column("as_of", sa.Date(), nullable=True))
    op.create_table(
        "classification_evaluations",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("customer_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("run_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("as_of", sa.Date(), nullable=True),
        sa.Column("features", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_classification_evaluations")),
    )
    op.create_index(
        "ix_classification_evaluations_customer_id_as_of",
        "classification_evaluations",
        ["customer_id", "as_of"],
    )


def downgrade() -> None:
    op.drop_index("ix_classification_evaluations_customer_id_as_of", table_name="classification_evaluations")
    op.drop_table("classification_evaluations")
    with op.batch_alter_table("classification_states", recreate="never") as batch:
        batch.drop_column("as_of")
        batch.drop_column("figures")
        batch.drop_column("features")
