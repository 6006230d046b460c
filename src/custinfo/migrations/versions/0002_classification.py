"""taxonomy, rule versions, assignments, runs

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import custinfo.core.types
from custinfo.classification.taxonomy import seed  # seeding reads src/custinfo/defaults/

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Stamp = custinfo.core.types.UTCDateTime(timezone=True)
OPEN = sa.text("valid_to IS NULL")


def upgrade() -> None:
    op.create_table(
        "tag_categories",
        sa.Column("id", BigId, nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("name_zh", sa.String(length=100), nullable=False),
        sa.Column("name_en", sa.String(length=100), nullable=False),
        sa.Column("sort", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tag_categories")),
        sa.UniqueConstraint("code", name=op.f("uq_tag_categories_code")),
    )
    op.create_table(
        "tags",
        sa.Column("id", BigId, nullable=False),
        sa.Column("code", sa.String(length=60), nullable=False),
        sa.Column("category_code", sa.String(length=40), nullable=False),
        sa.Column("dimension", sa.String(length=40), nullable=True),
        sa.Column("source", sa.String(length=10), nullable=False),
        sa.Column("name_zh", sa.String(length=100), nullable=False),
        sa.Column("name_en", sa.String(length=100), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("sort", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", Stamp, nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["category_code"], ["tag_categories.code"], name=op.f("fk_tags_category_code_tag_categories")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tags")),
        sa.UniqueConstraint("code", name=op.f("uq_tags_code")),
    )
    with op.batch_alter_table("tags", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_tags_dimension"), ["dimension"], unique=False)

    op.create_table(
        "rule_set_versions",
        sa.Column("id", BigId, nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("definition", sa.JSON(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("author", sa.String(length=64), nullable=False),
        sa.Column("approved_by", sa.String(length=64), nullable=True),
        sa.Column("created_at", Stamp, nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("activated_at", Stamp, nullable=True),
        sa.Column("based_on_id", BigId, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rule_set_versions")),
        sa.UniqueConstraint("number", name=op.f("uq_rule_set_versions_number")),
    )
    op.create_table(
        "tag_assignments",
        sa.Column("id", BigId, nullable=False),
        sa.Column("customer_id", BigId, nullable=False),
        sa.Column("tag_code", sa.String(length=60), nullable=False),
        sa.Column("source", sa.String(length=10), nullable=False),
        sa.Column("rule_id", sa.String(length=80), nullable=True),
        sa.Column("rule_set_version_id", BigId, nullable=True),
        sa.Column("features", sa.JSON(), nullable=True),
        sa.Column("as_of", sa.Date(), nullable=True),
        sa.Column("valid_from", Stamp, nullable=False),
        sa.Column("valid_to", Stamp, nullable=True),
        sa.Column("assigned_by", sa.String(length=64), nullable=False),
        sa.Column("run_id", BigId, nullable=True),
        sa.Column("closed_by", sa.String(length=64), nullable=True),
        sa.Column("closed_run_id", BigId, nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_tag_assignments_customer_id_customers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tag_assignments")),
    )
    with op.batch_alter_table("tag_assignments", schema=None) as batch_op:
        batch_op.create_index("ix_tag_assignments_customer_id_valid_to", ["customer_id", "valid_to"])
        batch_op.create_index("ix_tag_assignments_tag_code_valid_from", ["tag_code", "valid_from"])
        batch_op.create_index(
            "ix_tag_assignments_open",
            ["customer_id", "tag_code"],
            unique=True,
            sqlite_where=OPEN,
            postgresql_where=OPEN,
        )
        batch_op.create_index(
            "ix_tag_assignments_open_tag",
            ["tag_code", "customer_id"],
            sqlite_where=OPEN,
            postgresql_where=OPEN,
        )
        batch_op.create_index("ix_tag_assignments_run_id", ["run_id"])
        closed = sa.text("closed_run_id IS NOT NULL")
        batch_op.create_index(
            "ix_tag_assignments_closed_run_id",
            ["closed_run_id"],
            sqlite_where=closed,
            postgresql_where=closed,
        )

    op.create_table(
        "classification_states",
        sa.Column("customer_id", BigId, nullable=False),
        sa.Column("signature", sa.String(length=400), nullable=False),
        sa.Column("run_id", BigId, nullable=True),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_classification_states_customer_id_customers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("customer_id", name=op.f("pk_classification_states")),
    )
    op.create_table(
        "classification_runs",
        sa.Column("id", BigId, nullable=False),
        sa.Column("mode", sa.String(length=12), nullable=False),
        sa.Column("trigger", sa.String(length=20), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("rule_set_version_id", BigId, nullable=False),
        sa.Column("customer_id", BigId, nullable=True),
        sa.Column("started_at", Stamp, nullable=False),
        sa.Column("finished_at", Stamp, nullable=True),
        sa.Column("duration_ms", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("customers", sa.Integer(), nullable=False),
        sa.Column("added", sa.Integer(), nullable=False),
        sa.Column("removed", sa.Integer(), nullable=False),
        sa.Column("moved", sa.Integer(), nullable=False),
        sa.Column("counts_before", sa.JSON(), nullable=True),
        sa.Column("counts_after", sa.JSON(), nullable=True),
        sa.Column("moves_sample", sa.JSON(), nullable=True),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_classification_runs")),
    )
    with op.batch_alter_table("classification_runs", schema=None) as batch_op:
        batch_op.create_index("ix_classification_runs_mode_id", ["mode", "id"])

    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.add_column(sa.Column("classification_code", sa.String(length=300), nullable=True))
        batch_op.add_column(sa.Column("birth_year", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_customers_classification_code"), ["classification_code"])

    # birth_date is still plaintext here (0005 encrypts it later): keep its year in clear for age bands
    op.execute(
        "UPDATE customers SET birth_year = CAST(substr(CAST(birth_date AS VARCHAR(10)), 1, 4) AS INTEGER) "
        "WHERE birth_date IS NOT NULL"
    )

    seed(op.get_bind())


def downgrade() -> None:
    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_customers_classification_code"))
        batch_op.drop_column("birth_year")
        batch_op.drop_column("classification_code")
    with op.batch_alter_table("classification_runs", schema=None) as batch_op:
        batch_op.drop_index("ix_classification_runs_mode_id")
    op.drop_table("classification_runs")
    op.drop_table("classification_states")
    with op.batch_alter_table("tag_assignments", schema=None) as batch_op:
        batch_op.drop_index("ix_tag_assignments_closed_run_id")
        batch_op.drop_index("ix_tag_assignments_run_id")
        batch_op.drop_index("ix_tag_assignments_open_tag")
        batch_op.drop_index("ix_tag_assignments_open")
        batch_op.drop_index("ix_tag_assignments_tag_code_valid_from")
        batch_op.drop_index("ix_tag_assignments_customer_id_valid_to")
    op.drop_table("tag_assignments")
    op.drop_table("rule_set_versions")
    with op.batch_alter_table("tags", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_tags_dimension"))
    op.drop_table("tags")
    op.drop_table("tag_categories")
